"""The month's figures (as `统计` and the briefing count them) with charts, for the
viewer's station, or a chosen station (admins), or all stations (admins)."""
from __future__ import annotations

from aiohttp import web

from bot.web.access import login_required, viewer_of, visible_stations
from bot.web.charts import bar_chart
from bot.web.deps import deps
from bot.web.render import page
from nlp.detection import CATEGORIES
from storage.stats import monthly_figures, percent
from bot.months import parse_month


@login_required
async def stats(request: web.Request) -> web.StreamResponse:
    d = deps(request)
    viewer = viewer_of(request)
    stations = visible_stations(viewer, d.config)
    names = {s.id: s.name for s in d.config.stations}
    now = d.clock.now().astimezone(d.config.bot.tz)
    notices = []
    year, month = now.year, now.month
    raw = (request.query.get("month") or "").strip()
    if raw:
        parsed = parse_month(raw)
        if parsed is None or parsed[0] is None:
            notices.append(f"月份应写成 YYYY-MM（如 2026-03），“{raw[:20]}”已忽略，显示本月。")
        else:
            year, month = parsed[0], parsed[1]
    chosen = request.query.get("station") or ""
    if chosen and chosen in stations:
        stations, title = (chosen,), names[chosen]
    else:
        if chosen:
            notices.append(f"没有这个派出所：{chosen[:40]}，已显示全部可见派出所。")
        title = names[stations[0]] if len(stations) == 1 else "全部派出所"
    figures = await d.db.read(
        lambda db: monthly_figures(
            db, stations=stations, year=year, month=month, tz=d.config.bot.tz, now=now, overdue_days=d.config.followup.overdue_days,
            # Attendance of the schools these stations supervise.
            school_ids=tuple(s.id for s in d.config.schools if s.station in stations),
        )
    )
    by_category = {CATEGORIES.get(c, c): n for c, n in figures.by_category.items()}
    by_community = {(c or "未知"): n for c, n in figures.by_community.items()}
    false_positives = [(CATEGORIES.get(c, c), fp, n, percent(fp, n)) for c, (fp, n) in figures.false_positives.items()]
    return page(
        request,
        "stats.html",
        title="统计",
        heading=f"{title} {year}年{month}月",
        month_text=f"{year}-{month:02d}",
        f=figures,
        notices=notices,
        station_choices=[(s, names[s]) for s in visible_stations(viewer, d.config)],
        chosen=chosen if chosen in names else "",
        category_chart=bar_chart("按类别", by_category),
        community_chart=bar_chart("按社区", by_community),
        false_positives=false_positives,
        attendance=[(school.name, figures.attendance_by_school[school.id]) for school in d.config.schools if school.id in figures.attendance_by_school],
    )
