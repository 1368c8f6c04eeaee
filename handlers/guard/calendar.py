"""Which dates are school days (SPEC.md "School days"), and why a date is not one.

A date is a school day when it lies in one of the school's terms, the state calendar
makes it a working day (weekends off, public holidays off, 调休 make-up weekend days
on) and it is not in `closed`; dates in `open` are school days regardless.

The state calendar comes from `chinesecalendar`, which only knows the years the State
Council has announced; for any other year it raises NotImplementedError. Guard posts
must not stop on 1 January because a package is out of date, so such years fall back
to Monday–Friday, and the operator is warned (once at start, and by `check-config`)
naming the year, so they can add `closed`/`open` dates or upgrade the package.
"""
from __future__ import annotations

from datetime import date
from enum import Enum
from functools import lru_cache

import chinese_calendar

from bot.config import Config, School

# chinesecalendar names holidays in English; staff read Chinese.
_HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利纪念日",
}


@lru_cache(maxsize=None)
def has_state_calendar(year: int) -> bool:
    """True when chinesecalendar has the official holiday data for `year`."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def is_state_workday(day: date) -> bool:
    """A working day by the state calendar; Monday–Friday for years it lacks."""
    if not has_state_calendar(day.year):
        return day.weekday() < 5
    return bool(chinese_calendar.is_workday(day))


def holiday_name(day: date) -> str | None:
    """The Chinese name of the public holiday on `day` (None on ordinary days and in
    years without state data)."""
    if not has_state_calendar(day.year):
        return None
    on_holiday, name = chinese_calendar.get_holiday_detail(day)
    if not on_holiday or name is None:
        return None
    return _HOLIDAY_NAMES.get(str(name), str(name))


def is_makeup_workday(day: date) -> bool:
    """A weekend day the state calendar makes a working day (调休上班)."""
    return day.weekday() >= 5 and has_state_calendar(day.year) and is_state_workday(day)


def in_term(school: School, day: date) -> bool:
    return any(start <= day <= end for start, end in school.terms)


def is_school_day(school: School, day: date) -> bool:
    if day in school.open:
        return True
    if day in school.closed or not in_term(school, day):
        return False
    return is_state_workday(day)


class DayOff(Enum):
    """Why a date is not a school day (see `day_off`)."""

    HOLIDAY = "holiday"  # a public holiday: `holiday_name` names it
    OUT_OF_TERM = "out_of_term"
    CLOSED = "closed"  # the school's own `closed` date
    WEEKEND = "weekend"  # not a working day by the state calendar, and no holiday


def day_off(school: School, day: date) -> DayOff | None:
    """Why `day` has no school (None on a school day): the one reason staff are told,
    wherever it is told (the 代班 refusal, the duty table).

    When several apply, the first of: a public holiday (the reason everybody knows,
    also when the date is outside the term or the school lists it in `closed`), outside
    the terms, the school's `closed` date, an ordinary weekend."""
    if is_school_day(school, day):
        return None
    if holiday_name(day):
        return DayOff.HOLIDAY
    if not in_term(school, day):
        return DayOff.OUT_OF_TERM
    if day in school.closed:
        return DayOff.CLOSED
    return DayOff.WEEKEND


def years_without_calendar(school: School) -> list[int]:
    """Years in the school's terms for which the Monday–Friday fallback applies."""
    years = {y for start, end in school.terms for y in range(start.year, end.year + 1)}
    return sorted(y for y in years if not has_state_calendar(y))


def calendar_warnings(config: Config) -> list[str]:
    """One line per year without state calendar data, naming the schools affected."""
    by_year: dict[int, list[str]] = {}
    for school in config.schools:
        for year in years_without_calendar(school):
            by_year.setdefault(year, []).append(school.name)
    return [
        f"警告：chinesecalendar 没有 {year} 年的法定节假日数据，{'、'.join(names)} {year} 年的上课日"
        f"暂按周一至周五计算（不含节假日和调休）。请升级 chinesecalendar，或在 closed/open 中补充日期。"
        for year, names in sorted(by_year.items())
    ]
