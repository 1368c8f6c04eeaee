"""A station's month as `统计` and the monthly briefing see it: the figures frozen
when its briefing was sent (with the corrections since), or, for a month not
briefed yet, the figures as they stand.

Reads through storage only: guard-post attendance comes from the guard-post
records (storage/guard_posts.py), never from the guard feature.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from bot.config import Config
from storage import months
from storage.months import FrozenMonth
from storage.stats import CaseFacts, MonthlyFigures, combine, month_case_facts, month_label, monthly_figures


@dataclass(frozen=True)
class StationMonth:
    """What to show of one station's month: `figures` as sent (frozen) or as they
    stand; `frozen` keeps the corrections made since the briefing."""

    station: str
    figures: MonthlyFigures
    frozen: FrozenMonth | None = None


def school_ids(config: Config, stations: tuple[str, ...]) -> tuple[str, ...]:
    """The schools the stations supervise, in config order: their attendance counts."""
    return tuple(s.id for s in config.schools if s.station in stations)


def live(db: sqlite_utils.Database, config: Config, station: str, year: int, month: int, now: datetime, facts: list[CaseFacts] | None = None) -> MonthlyFigures:
    """The month's figures as they stand now."""
    return monthly_figures(
        db,
        stations=(station,),
        year=year,
        month=month,
        tz=config.bot.tz,
        now=now,
        overdue_days=config.followup.overdue_days,
        school_ids=school_ids(config, (station,)),
        facts=facts,
    )


def live_facts(db: sqlite_utils.Database, config: Config, station: str, year: int, month: int) -> list[CaseFacts]:
    return month_case_facts(db, stations=(station,), year=year, month=month, tz=config.bot.tz)


def station_month(db: sqlite_utils.Database, config: Config, station: str, year: int, month: int, now: datetime) -> StationMonth:
    frozen = months.frozen_month(db, station, month_label(year, month))
    if frozen is not None:
        return StationMonth(station, frozen.sent, frozen)
    return StationMonth(station, live(db, config, station, year, month, now))


def combined(parts: list[StationMonth]) -> tuple[MonthlyFigures, MonthlyFigures | None]:
    """Several stations' month as one: (the figures shown, the figures with every
    correction applied — None when nothing was corrected)."""
    shown = combine([p.figures for p in parts])
    if not any(p.frozen is not None and p.frozen.corrections for p in parts):
        return shown, None
    current = combine([p.frozen.current if p.frozen is not None else p.figures for p in parts])
    return shown, current
