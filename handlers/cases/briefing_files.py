"""The monthly briefing's attachments: the chart (PNG) and the month's ledger
(XLSX), written under the data directory, beside the database.

The chart's words are decided here (which figures, in which order, named how);
drawing them is bot/chart, and the ledger's rows and file are bot/ledger, as for
`pingan export`. A file that cannot be made is left out of the briefing with a log
line: the figures still go out as text.
"""
from __future__ import annotations

import logging
import os
import re
from datetime import tzinfo
from pathlib import Path

import sqlite_utils

from bot.chart.fonts import NoCJKFont
from bot.chart.month import Bar, MonthChart, Panel, render, top
from bot.ledger.files import write_xlsx
from bot.ledger.rows import ledger_rows
from handlers.cases.month_text import month_name
from handlers.cases.wording import category_name
from storage.ledger import ledger_cases
from storage.stats import MonthlyFigures, month_bounds

log = logging.getLogger(__name__)

FOLDER = "briefings"
_UNSAFE = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')


def month_folder(base: Path, label: str) -> Path:
    """`<data dir>/briefings/2026-03/`, owner-only: the ledger names residents.
    Absolute: the outbox keeps the path until the file is sent, maybe after a restart."""
    folder = base.resolve() / FOLDER / label
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(folder.parent, 0o700)
    return folder


def file_name(station_name: str, year: int, month: int, what: str, suffix: str) -> str:
    """`官园派出所2026年3月台账.xlsx`: the name officers see on a file in WeChat."""
    return _UNSAFE.sub("_", f"{station_name}{month_name(year, month)}{what}") + suffix


def month_chart(station_name: str, f: MonthlyFigures, school_names: dict[str, str]) -> MonthChart:
    categories = [
        Bar(category_name(c), n, f"{n}（办结{f.resolved_by_category.get(c, 0)}）", inner=f.resolved_by_category.get(c, 0))
        for c, n in f.by_category.items()
    ]
    communities = top([Bar(c or "未知", n, str(n)) for c, n in f.by_community.items()], unit="个社区")
    panels = [Panel("按类别", tuple(categories), legend=("受理", "已办结")), Panel("按社区", tuple(communities))]
    if f.attendance is not None:
        schools = [
            Bar(school_names.get(s, s), 100 * a.on_time / a.on_duty if a.on_duty else 0, f"{a.rate}（{a.on_time}/{a.on_duty}）" if a.on_duty else "无班次")
            for s, a in f.attendance_by_school.items()
        ]
        panels.append(Panel("护学岗到岗率", tuple(schools), limit=100))
    fps = sum(fp for fp, _ in f.false_positives.values())
    footer = f"回访：完成{f.followups_done}次，逾期{f.followups_overdue}次 · 误报{fps}件"
    if f.suspected:
        footer += f" · 疑似警情{f.suspected}件（核实{f.suspected_confirmed}，误报{f.suspected_dismissed}）"
    return MonthChart(
        title=f"{station_name} {month_name(f.year, f.month)}通报",
        subtitle=f"统计口径：{f.month}月登记的案件，误报不计入受理",
        headline=(("受理", str(f.received)), ("已办结", str(f.resolved)), ("未结", str(f.open)), ("调处率", f.mediation_rate)),
        panels=tuple(panels),
        footer=footer,
    )


def write_chart(folder: Path, station_name: str, f: MonthlyFigures, school_names: dict[str, str]) -> Path | None:
    path = folder / file_name(station_name, f.year, f.month, "统计图", ".png")
    try:
        drawn = render(month_chart(station_name, f, school_names), path)
    except NoCJKFont as exc:
        log.error("%s：%s", station_name, exc)
        return None
    except Exception:  # noqa: BLE001 - a chart is not worth losing the briefing over
        log.exception("%s %s 统计图生成失败", station_name, f.label)
        return None
    if drawn.glyph_warnings:
        log.error("统计图有字符无法显示（%s）：%s", drawn.font.family, "；".join(drawn.glyph_warnings))
    return path


def write_ledger(folder: Path, db: sqlite_utils.Database, station_id: str, station_names: dict[str, str], f: MonthlyFigures, tz: tzinfo) -> Path | None:
    """The month's ledger, as `pingan export --month` writes it (numbers masked)."""
    station_name = station_names.get(station_id, station_id)
    path = folder / file_name(station_name, f.year, f.month, "台账", ".xlsx")
    try:
        cases = ledger_cases(db, opened=month_bounds(f.year, f.month, tz), stations=(station_id,))
        write_xlsx(ledger_rows(cases, tz=tz, station_names=station_names), path, title=f"{month_name(f.year, f.month)}台账")
    except Exception:  # noqa: BLE001 - the text and chart still go out
        log.exception("%s %s 台账生成失败", station_name, f.label)
        return None
    return path
