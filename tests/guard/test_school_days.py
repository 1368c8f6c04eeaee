"""School days (SPEC.md "School days"): terms, the state calendar, closed, open, and the
Monday–Friday fallback with its warning for years chinesecalendar lacks."""
from __future__ import annotations

import logging
from datetime import date, timedelta

import chinese_calendar
import pytest
from click.testing import CliRunner

from bot.run.cli import main
from bot.config import load_config
from handlers.guard.calendar import DayOff, calendar_warnings, day_off, has_state_calendar, holiday_name, is_makeup_workday, is_school_day
from tests.guard.support import GUARD_CONFIG

CONFIG = load_config(GUARD_CONFIG)
YC1Z = next(s for s in CONFIG.schools if s.id == "yc1z")
XJXX = next(s for s in CONFIG.schools if s.id == "xjxx")


def weekend_workdays_in_term(year: int) -> list[date]:
    """调休 make-up weekend days, taken from chinesecalendar itself, inside 宜春一中's terms."""
    day, found = date(year, 1, 1), []
    while day.year == year:
        if day.weekday() >= 5 and chinese_calendar.is_workday(day) and any(a <= day <= b for a, b in YC1Z.terms):
            found.append(day)
        day += timedelta(days=1)
    return found


def test_an_ordinary_week_in_term_is_monday_to_friday():
    week = [date(2026, 3, 2) + timedelta(days=i) for i in range(7)]
    assert [is_school_day(YC1Z, d) for d in week] == [True] * 5 + [False] * 2


def test_qingming_2026_is_no_school():
    # 4 April (Sat) to 6 April (Mon) is the Qingming holiday; Tuesday is school again.
    assert chinese_calendar.is_holiday(date(2026, 4, 6))
    assert [is_school_day(YC1Z, date(2026, 4, d)) for d in (3, 4, 5, 6, 7)] == [True, False, False, False, True]
    assert holiday_name(date(2026, 4, 6)) == "清明节"


def test_a_2026_make_up_weekend_day_in_term_is_a_school_day():
    makeup = weekend_workdays_in_term(2026)
    assert makeup, "chinesecalendar should list 调休 weekend workdays for 2026"
    for day in makeup:
        assert is_school_day(YC1Z, day), day
        assert is_makeup_workday(day)
    # An ordinary weekend next to it is not.
    assert not is_school_day(YC1Z, makeup[0] + timedelta(days=1 if makeup[0].weekday() == 5 else -1))


def test_term_boundaries():
    assert is_school_day(YC1Z, date(2026, 7, 3))  # last day of term 1 (Friday)
    assert not is_school_day(YC1Z, date(2026, 7, 6))  # summer holiday Monday
    assert not is_school_day(YC1Z, date(2026, 8, 31))
    assert is_school_day(YC1Z, date(2026, 9, 1))  # first day of term 2
    # The day before term starts is a working day by the state calendar but not a school day.
    assert chinese_calendar.is_workday(date(2026, 2, 27)) and not is_school_day(XJXX, date(2026, 2, 27))
    assert is_school_day(XJXX, date(2026, 3, 2))


def test_closed_and_open_dates():
    assert is_school_day(YC1Z, date(2026, 3, 12)) and not is_school_day(XJXX, date(2026, 3, 12))
    assert not is_school_day(YC1Z, date(2026, 3, 14)) and is_school_day(XJXX, date(2026, 3, 14))


def test_open_wins_even_on_a_public_holiday_and_outside_term():
    school = XJXX.__class__(**{**XJXX.__dict__, "open": frozenset({date(2026, 4, 6), date(2026, 8, 10)})})
    assert is_school_day(school, date(2026, 4, 6)) and is_school_day(school, date(2026, 8, 10))


def test_2027_falls_back_to_monday_to_friday():
    assert not has_state_calendar(2027)
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_workday(date(2027, 1, 4))
    week = [date(2027, 1, 4) + timedelta(days=i) for i in range(7)]
    assert [is_school_day(YC1Z, d) for d in week] == [True] * 5 + [False] * 2
    # The fallback cannot know New Year's Day 2027: it is a Friday, hence a "school day".
    assert is_school_day(YC1Z, date(2027, 1, 1))
    assert holiday_name(date(2027, 1, 1)) is None


def test_calendar_warning_names_the_year_and_the_school():
    warnings = calendar_warnings(CONFIG)
    assert len(warnings) == 1
    assert "2027" in warnings[0] and "宜春一中" in warnings[0] and "秀江小学" not in warnings[0]
    assert "周一至周五" in warnings[0]


def test_check_config_prints_the_warning_and_exits_0():
    result = CliRunner().invoke(main, ["check-config", "-c", str(GUARD_CONFIG)])
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert "2027" in lines[0] and "chinesecalendar" in lines[0]
    assert lines[-1].startswith("配置有效")


def test_check_config_without_a_year_lacking_data_prints_no_warning(tmp_path, monkeypatch):
    monkeypatch.setattr("bot.run.cli.today", lambda config: date(2026, 11, 30))  # before the next-year warning starts
    text = GUARD_CONFIG.read_text(encoding="utf-8").replace('["2026-09-01", "2027-01-22"]', '["2026-09-01", "2026-12-31"]')
    path = tmp_path / "pingan.toml"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["check-config", "-c", str(path)])
    assert result.exit_code == 0
    assert result.output.strip().splitlines() == [result.output.strip()]
    assert "警告" not in result.output


def test_the_warning_is_logged_once_at_start(tmp_path, caplog):
    from tests.guard.support import run

    with caplog.at_level(logging.WARNING):
        run(tmp_path, start="2026-03-02 06:00", end="2026-03-03 00:00")
    logged = [r.getMessage() for r in caplog.records if "chinesecalendar" in r.getMessage()]
    assert len(logged) == 1 and "2027" in logged[0]


def test_why_a_day_has_no_school():
    assert day_off(YC1Z, date(2026, 3, 2)) is None
    assert day_off(YC1Z, date(2026, 4, 6)) is DayOff.HOLIDAY  # 清明节, a Monday
    assert day_off(YC1Z, date(2026, 7, 6)) is DayOff.OUT_OF_TERM
    assert day_off(XJXX, date(2026, 3, 12)) is DayOff.CLOSED
    assert day_off(YC1Z, date(2026, 3, 7)) is DayOff.WEEKEND
    assert day_off(XJXX, date(2026, 3, 14)) is None  # an `open` Saturday


def test_a_public_holiday_is_the_reason_given_before_term_and_closed_dates():
    # 国庆节 2026 is outside 秀江小学's only term; a school may also list a holiday as closed.
    assert day_off(XJXX, date(2026, 10, 1)) is DayOff.HOLIDAY
    school = XJXX.__class__(**{**XJXX.__dict__, "closed": frozenset({date(2026, 4, 6)})})
    assert day_off(school, date(2026, 4, 6)) is DayOff.HOLIDAY
