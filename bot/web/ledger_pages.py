"""The ledger (台账) in the browser: filters, paging, and the same rows as CSV or
XLSX. Every row is the viewer's station's (an admin's: any station's), and the
summaries are masked exactly as `pingan export` masks them."""
from __future__ import annotations

from urllib.parse import quote

from aiohttp import web

from bot.ledger.files import csv_bytes, xlsx_bytes
from bot.ledger.rows import HEADERS, ledger_rows
from bot.web.access import login_required, viewer_of, visible_stations
from bot.web.deps import PAGE_SIZE, Dashboard, deps
from bot.web.filters import STATUSES, LedgerFilter, communities, read_filter
from bot.web.render import page
from nlp.detection import CATEGORIES
from storage.ledger import ledger_cases, ledger_count
from storage.stats import month_bounds


def _selection(d: Dashboard, f: LedgerFilter, stations: tuple[str, ...]) -> dict:
    """Keyword arguments of storage.ledger for these filters."""
    return {
        "opened": month_bounds(f.month[0], f.month[1], d.config.bot.tz) if f.month else None,
        "stations": (f.station,) if f.station else stations,
        "community": f.community,
        "category": f.category,
        "status": f.status,
    }


@login_required
async def ledger(request: web.Request) -> web.StreamResponse:
    d = deps(request)
    viewer = viewer_of(request)
    stations = visible_stations(viewer, d.config)
    f, notices = read_filter(request.query, d.config, stations)
    where = _selection(d, f, stations)
    total = await d.db.read(lambda db: ledger_count(db, **where))
    pages = max(1, (total + PAGE_SIZE - 1) // PAGE_SIZE)
    current = min(f.page, pages)
    found = await d.db.read(lambda db: ledger_cases(db, **where, limit=PAGE_SIZE, offset=(current - 1) * PAGE_SIZE))
    names = {s.id: s.name for s in d.config.stations}
    return page(
        request,
        "ledger.html",
        title="台账",
        rows=ledger_rows(found, tz=d.config.bot.tz, station_names=names),
        headers=HEADERS,
        total=total,
        page_no=current,
        pages=pages,
        f=f,
        notices=notices,
        stations=[(s, names[s]) for s in stations],
        communities=communities(d.config, stations),
        categories=list(CATEGORIES.items()),
        statuses=STATUSES,
    )


async def _export(request: web.Request, fmt: str) -> web.StreamResponse:
    d = deps(request)
    viewer = viewer_of(request)
    stations = visible_stations(viewer, d.config)
    f, _ = read_filter(request.query, d.config, stations)
    found = await d.db.read(lambda db: ledger_cases(db, **_selection(d, f, stations)))
    names = {s.id: s.name for s in d.config.stations}
    rows = ledger_rows(found, tz=d.config.bot.tz, station_names=names)  # always masked (SPEC.md)
    label = f.month_text or "全部"
    if fmt == "csv":
        body, mime = csv_bytes(rows), "text/csv; charset=utf-8"
    else:
        body, mime = xlsx_bytes(rows, title=f"台账 {label}"), "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    filename = f"台账-{label}.{fmt}"
    return web.Response(
        body=body,
        headers={
            "Content-Type": mime,
            # RFC 6266: an ASCII fallback, then the Chinese name for browsers that read it.
            "Content-Disposition": f"attachment; filename=\"ledger-{label if f.month else 'all'}.{fmt}\"; filename*=UTF-8''{quote(filename)}",
        },
    )


@login_required
async def export_csv(request: web.Request) -> web.StreamResponse:
    return await _export(request, "csv")


@login_required
async def export_xlsx(request: web.Request) -> web.StreamResponse:
    return await _export(request, "xlsx")
