"""The ledger (台账): one row per case, for `pingan export` and the monthly briefing.

Columns and headers are SPEC.md's contract. Phone and ID-card numbers in the summary
are masked unless the caller asks otherwise; times are local wall-clock times.
"""
from __future__ import annotations

import csv
import io
import os
import re
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import IO

import sqlite_utils

from nlp.detection import CATEGORIES, SEVERITIES
from nlp.pii import mask_pii
from storage.sql import in_clause, utc_text
from storage.stats import month_bounds

HEADERS = ("编号", "登记时间", "类别", "等级", "来源群", "社区", "派出所", "报告人", "责任民警", "状态", "认领时间", "办结时间", "办结结果", "回访次数", "内容摘要")
TIME_COLUMNS = frozenset({"登记时间", "认领时间", "办结时间"})
# Width in Excel characters; CJK glyphs are two wide.
WIDTHS = (7, 17, 10, 6, 24, 12, 14, 10, 10, 8, 17, 17, 22, 8, 60)
SUMMARY_CHARS = 200
TIME_FORMAT = "%Y-%m-%d %H:%M"


@dataclass(frozen=True)
class LedgerRow:
    id: int
    opened_at: datetime
    category: str
    severity: str
    room: str
    community: str
    station: str
    reporter: str
    officer: str
    status: str
    claimed_at: datetime | None
    closed_at: datetime | None
    outcome: str
    followups: int
    summary: str

    def values(self) -> tuple:
        return (
            self.id,
            self.opened_at,
            self.category,
            self.severity,
            self.room,
            self.community,
            self.station,
            self.reporter,
            self.officer,
            self.status,
            self.claimed_at,
            self.closed_at,
            self.outcome,
            self.followups,
            self.summary,
        )


def ledger_rows(
    db: sqlite_utils.Database,
    *,
    tz: tzinfo,
    station_names: dict[str, str],
    month: tuple[int, int] | None = None,
    stations: tuple[str, ...] | None = None,
    unmasked: bool = False,
) -> list[LedgerRow]:
    """Cases opened in `month` (all when None), oldest first."""
    where, params = ["1 = 1"], []
    if month is not None:
        start, end = month_bounds(month[0], month[1], tz)
        where.append("datetime(c.opened_at) >= ? and datetime(c.opened_at) < ?")
        params += [utc_text(start), utc_text(end)]
    if stations is not None:
        where.append(in_clause("c.station", stations))
        params += list(stations)
    rows = db.query(
        f"""select c.*,
              (select text from case_messages m where m.case_id = c.id order by m.id limit 1) as first_text,
              (select count(*) from followups f where f.case_id = c.id and f.status = 'done') as visits
            from cases c where {' and '.join(where)} order by datetime(c.opened_at), c.id""",
        params,
    )
    out = []
    for r in rows:
        text = r["first_text"] or ""
        summary = text if unmasked else mask_pii(text)
        if len(summary) > SUMMARY_CHARS:
            summary = summary[:SUMMARY_CHARS] + "…"
        if r["message_count"] and r["message_count"] > 1:
            summary += f"（共{r['message_count']}条消息）"
        outcome = r["outcome"] or ""
        if outcome and r["outcome_note"]:
            note = r["outcome_note"] if unmasked else mask_pii(r["outcome_note"])
            outcome = f"{outcome}（{note}）"
        out.append(
            LedgerRow(
                id=r["id"],
                opened_at=_local(r["opened_at"], tz),
                category=CATEGORIES.get(r["category"], r["category"]),
                severity=SEVERITIES.get(r["severity"], r["severity"]),
                room=r["room"],
                community=r["community"] or "",
                station=station_names.get(r["station"], r["station"]),
                reporter=r["reporter"],
                officer=r["officer"],
                status=r["status"],
                claimed_at=_local(r["claimed_at"], tz),
                closed_at=_local(r["closed_at"], tz),
                outcome=outcome,
                followups=r["visits"],
                summary=summary,
            )
        )
    return out


def _local(value: str | None, tz: tzinfo) -> datetime | None:
    # Naive local time: what a spreadsheet shows and sorts by.
    return datetime.fromisoformat(value).astimezone(tz).replace(tzinfo=None) if value else None


# What a spreadsheet may read as the start of a formula (OWASP "CSV injection").
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Control characters: a \x07 in one report made XLSX export fail (XML forbids them)
# and they have no business in a ledger. Tab and line breaks are kept as text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """Resident text made safe to put in any cell: no control characters."""
    return _CONTROL.sub("", text)


def looks_like_formula(text: str) -> bool:
    """Starts (perhaps after spaces) with what a spreadsheet reads as a formula."""
    return text.startswith(FORMULA_START) or text.lstrip(" \u3000").startswith(FORMULA_START[:4])


def _cell_text(value: object) -> str:
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    text = "" if value is None else clean_text(str(value))
    # A resident's "=HYPERLINK(...)" or "-1+1" must stay text when Excel opens the CSV.
    return "'" + text if looks_like_formula(text) else text


def write_csv(rows: list[LedgerRow], out: IO[str]) -> None:
    writer = csv.writer(out)
    writer.writerow(HEADERS)
    for row in rows:
        writer.writerow([_cell_text(v) for v in row.values()])


def csv_bytes(rows: list[LedgerRow]) -> bytes:
    """UTF-8 with a byte-order mark: without it Excel on Windows reads GBK and garbles."""
    buffer = io.StringIO(newline="")
    write_csv(rows, buffer)
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx(rows: list[LedgerRow], path: Path, title: str = "台账") -> None:
    """Header row frozen and bold, widths set, times as real dates. Write-only mode
    streams rows to disk: a city's year of cases stays fast and small in memory."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title[:31])
    for index, width in enumerate(WIDTHS, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(HEADERS))}{len(rows) + 1}"
    bold = Font(bold=True)
    time_columns = {i for i, h in enumerate(HEADERS) if h in TIME_COLUMNS}

    def header(text: str) -> WriteOnlyCell:
        cell = WriteOnlyCell(ws, value=text)
        cell.font = bold
        return cell

    ws.append([header(h) for h in HEADERS])
    for row in rows:
        cells: list[object] = []
        for index, value in enumerate(row.values()):
            # Plain values are cheap; only cells that need a format or a fix get a cell object.
            if isinstance(value, str):
                value = clean_text(value)
                if looks_like_formula(value):
                    cell = WriteOnlyCell(ws, value=value)
                    cell.data_type = "s"  # resident text, never a formula
                    value = cell
            elif index in time_columns and value is not None:
                cell = WriteOnlyCell(ws, value=value)
                cell.number_format = "yyyy-mm-dd hh:mm"
                value = cell
            cells.append(value)
        ws.append(cells)
    # Built in memory, then written in one go: a failed write (no such directory, disk
    # full) leaves no half-written file and no half-closed workbook behind.
    buffer = io.BytesIO()
    wb.save(buffer)
    write_file(path, buffer.getvalue())


def write_file(path: Path, data: bytes) -> None:
    """Write `data` to `path` atomically (a temporary file renamed over it), readable
    by the owner only: a ledger carries residents' names and reports."""
    path = Path(path)
    if path.is_dir():
        raise IsADirectoryError(21, "是一个目录", str(path))
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
