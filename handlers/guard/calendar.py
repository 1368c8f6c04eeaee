"""Which dates are school days (SPEC.md "School days"), and why a date is not one.

A date is a school day when it lies in one of the school's terms, the state calendar
makes it a working day (weekends off, public holidays off, 调休 make-up weekend days
on) and it is not in `closed`; dates in `open` are school days regardless.

The state calendar comes from `chinesecalendar`, which only knows the years the State
Council had announced when it was released; for any other year it raises
NotImplementedError. The operator adds such a year's published schedule to the
config's `[calendar]` (holidays, and weekend 调休 workdays), once for all schools.
Guard posts must not stop on 1 January because a package is out of date, so a year
covered by neither falls back to Monday–Friday, and the operator is warned (once at
start, and by `check-config`) naming the year; from 1 December also when next year is
not covered yet, so the schedule is added before the first school day needs it.
"""
from __future__ import annotations

from datetime import date
from enum import Enum
from functools import lru_cache

import chinese_calendar

from bot.config import Config, School, StateCalendar

NO_EXTRA_DATES = StateCalendar()
# The month from which next year's schedule is asked for (it is published in
# November or December).
WARN_NEXT_YEAR_FROM_MONTH = 12

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


def covers(year: int, extra: StateCalendar = NO_EXTRA_DATES) -> bool:
    """Whether the holidays of `year` are known: from the package, or from `[calendar]`."""
    return has_state_calendar(year) or year in extra.years


def _from_config(day: date, extra: StateCalendar) -> bool:
    """`[calendar]` decides only for years the package does not have: the package's
    data is the State Council's as published."""
    return not has_state_calendar(day.year) and day.year in extra.years


def is_state_workday(day: date, extra: StateCalendar = NO_EXTRA_DATES) -> bool:
    """A working day by the state calendar (the package, else `[calendar]`);
    Monday–Friday for years neither covers."""
    if has_state_calendar(day.year):
        return bool(chinese_calendar.is_workday(day))
    if _from_config(day, extra):
        return day in extra.workdays or (day.weekday() < 5 and day not in extra.holidays)
    return day.weekday() < 5


def holiday_name(day: date, extra: StateCalendar = NO_EXTRA_DATES) -> str | None:
    """The Chinese name of the public holiday on `day` (None on ordinary days and in
    years without state data); `[calendar]` gives dates without names: 节假日."""
    if _from_config(day, extra):
        return "节假日" if day in extra.holidays else None
    if not has_state_calendar(day.year):
        return None
    on_holiday, name = chinese_calendar.get_holiday_detail(day)
    if not on_holiday or name is None:
        return None
    return _HOLIDAY_NAMES.get(str(name), str(name))


def is_makeup_workday(day: date, extra: StateCalendar = NO_EXTRA_DATES) -> bool:
    """A weekend day the state calendar makes a working day (调休上班)."""
    return day.weekday() >= 5 and covers(day.year, extra) and is_state_workday(day, extra)


def in_term(school: School, day: date) -> bool:
    return any(start <= day <= end for start, end in school.terms)


def is_school_day(school: School, day: date) -> bool:
    if day in school.open:
        return True
    if day in school.closed or not in_term(school, day):
        return False
    return is_state_workday(day, school.calendar)


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
    if holiday_name(day, school.calendar):
        return DayOff.HOLIDAY
    if not in_term(school, day):
        return DayOff.OUT_OF_TERM
    if day in school.closed:
        return DayOff.CLOSED
    return DayOff.WEEKEND


def years_without_calendar(school: School) -> list[int]:
    """Years in the school's terms for which the Monday–Friday fallback applies."""
    years = {y for start, end in school.terms for y in range(start.year, end.year + 1)}
    return sorted(y for y in years if not covers(y, school.calendar))


def calendar_warnings(config: Config, today: date | None = None) -> list[str]:
    """What the operator must fix before guard posts go wrong: one line per year of
    a term covered neither by the package nor by `[calendar]` (naming the schools);
    from 1 December, next year if it is not covered; and `[calendar]` years the
    package already has (their dates are not used)."""
    by_year: dict[int, list[str]] = {}
    for school in config.schools:
        for year in years_without_calendar(school):
            by_year.setdefault(year, []).append(school.name)
    warnings = [
        f"警告：chinesecalendar 没有 {year} 年的法定节假日数据，配置的 [calendar] 也没有，"
        f"{'、'.join(names)} {year} 年的上课日暂按周一至周五计算（不含节假日和调休）。"
        f"请在 [calendar] 中填写国务院公布的 {year} 年放假安排（holidays、workdays），或升级 chinesecalendar。"
        for year, names in sorted(by_year.items())
    ]
    if today is not None and today.month >= WARN_NEXT_YEAR_FROM_MONTH and config.schools:
        nxt = today.year + 1
        if not covers(nxt, config.calendar) and nxt not in by_year:
            warnings.append(
                f"警告：明年（{nxt} 年）的法定节假日还没有数据：chinesecalendar 和 [calendar] 都没有。"
                f"国务院公布 {nxt} 年放假安排后，请填入 [calendar]（holidays、workdays），否则 {nxt} 年护学岗按周一至周五提醒。"
            )
    for year in sorted(y for y in config.calendar.years if has_state_calendar(y)):
        warnings.append(f"提示：chinesecalendar 已有 {year} 年的数据，[calendar] 中 {year} 年的日期不会使用，可以删去。")
    return warnings
