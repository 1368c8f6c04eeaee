"""`[calendar]` (SPEC.md "School days"): holidays and 调休 workdays for years the
chinesecalendar package does not cover, and the warnings about years nobody covers.

The 2027 dates here are test data, not the State Council's schedule: New Year's Day
(a Friday) off, and Saturday 9 January an invented make-up working day.
"""
from __future__ import annotations

import logging
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.config import ConfigError, load_config
from bot.run.cli import main
from handlers.guard.calendar import DayOff, calendar_warnings, covers, day_off, has_state_calendar, holiday_name, is_makeup_workday, is_school_day
from tests.guard.support import GUARD_CONFIG, YC1Z, in_room, local_time, reminders, run, to_contact

CALENDAR_2027 = """
[calendar]
holidays = ["2027-01-01"]
workdays = ["2027-01-09"]
"""


def config_file(tmp_path: Path, extra: str = CALENDAR_2027, terms: str | None = None) -> Path:
    text = GUARD_CONFIG.read_text(encoding="utf-8") + extra
    if terms is not None:
        text = text.replace('terms = [["2026-02-24", "2026-07-03"], ["2026-09-01", "2027-01-22"]]', terms)
    path = tmp_path / "calendar.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_package_still_lacks_2027():
    """Why `[calendar]` exists: if this fails, a chinesecalendar with 2027 is installed
    and the sample config's example can give way to the package's data."""
    assert not has_state_calendar(2027)


def test_a_2027_school_week_follows_the_configured_calendar(tmp_path):
    school = next(s for s in load_config(config_file(tmp_path)).schools if s.id == "yc1z")
    assert covers(2027, school.calendar)
    assert not is_school_day(school, date(2027, 1, 1))  # New Year's Day, a Friday
    assert day_off(school, date(2027, 1, 1)) is DayOff.HOLIDAY and holiday_name(date(2027, 1, 1), school.calendar) == "节假日"
    week = [date(2027, 1, 4) + timedelta(days=i) for i in range(7)]
    assert [is_school_day(school, d) for d in week] == [True] * 6 + [False]  # Saturday the 9th is a make-up day
    assert is_makeup_workday(date(2027, 1, 9), school.calendar)
    # Without [calendar] the same dates fall back to Monday–Friday.
    bare = next(s for s in load_config(GUARD_CONFIG).schools if s.id == "yc1z")
    assert is_school_day(bare, date(2027, 1, 1)) and not is_school_day(bare, date(2027, 1, 9))


def test_reminders_on_the_virtual_clock_in_a_configured_2027_week(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        transcript = run(tmp_path, start="2026-12-31 06:00", end="2027-01-11 00:00", config=config_file(tmp_path))
    days = [local_time(m)[:10] for m in reminders(transcript)]
    assert days == ["2026-12-31", "2027-01-04", "2027-01-05", "2027-01-06", "2027-01-07", "2027-01-08", "2027-01-09"]
    # Saturday has no roster: the room is asked and the officer told.
    assert "没有安排人员" in reminders(transcript)[-1]["text"]
    assert [local_time(m) for m in to_contact(transcript, "李警官") if "无人排班" in m["text"]] == ["2027-01-09 21:15"]
    table = [m for m in in_room(transcript, YC1Z) if m["text"].startswith("【护学岗值班表】") and local_time(m) == "2027-01-03 18:00"]
    assert "1月9日 周六（调休上课）" in table[0]["text"]
    assert not [r for r in caplog.records if "chinesecalendar 没有" in r.getMessage()]  # 2027 is covered


@pytest.mark.parametrize(
    "extra,expected",
    [
        ('\n[calendar]\nholidays = ["2027-13-01"]\n', "calendar.holidays[0]"),
        ('\n[calendar]\nholidays = ["2027-01-01"]\nworkdays = ["2027-01-01"]\n', "calendar: 2027-01-01 不能既是放假日又是调休上班日"),
        ('\n[calendar]\nworkdays = ["2027-01-04"]\n', "calendar.workdays[0]: 2027-01-04 是周一，本来就上班"),
        ('\n[calendar]\nholidays = ["2027-01-01", "2027-01-01"]\n', "calendar.holidays: 日期 2027-01-01 重复"),
        ('\n[calendar]\nholiday = ["2027-01-01"]\n', "calendar.holiday: 未知的配置项"),
        ('\n[calendar]\nholidays = "2027-01-01"\n', "calendar.holidays: 应为"),
    ],
)
def test_bad_calendar_entries_are_named_with_their_key(tmp_path, extra, expected):
    with pytest.raises(ConfigError) as err:
        load_config(config_file(tmp_path, extra))
    assert any(expected in p for p in err.value.problems), err.value.problems


def test_warnings_name_each_year_nobody_covers(tmp_path):
    bare = load_config(GUARD_CONFIG)
    [warning] = calendar_warnings(bare, date(2026, 6, 1))
    assert "2027" in warning and "[calendar]" in warning and "宜春一中" in warning
    assert calendar_warnings(load_config(config_file(tmp_path)), date(2026, 6, 1)) == []


def test_from_1_december_next_year_is_asked_for(tmp_path):
    within_2026 = load_config(config_file(tmp_path, "", terms='terms = [["2026-09-01", "2026-12-31"]]'))
    assert calendar_warnings(within_2026, date(2026, 11, 30)) == []
    [warning] = calendar_warnings(within_2026, date(2026, 12, 1))
    assert warning.startswith("警告：明年（2027 年）的法定节假日还没有数据")
    covered = load_config(config_file(tmp_path, CALENDAR_2027, terms='terms = [["2026-09-01", "2026-12-31"]]'))
    assert calendar_warnings(covered, date(2026, 12, 1)) == []


def test_dates_of_a_year_the_package_has_are_not_used_and_said_so(tmp_path):
    config = load_config(config_file(tmp_path, '\n[calendar]\nholidays = ["2026-03-02"]\n'))
    assert is_school_day(config.schools[0], date(2026, 3, 2))
    assert any(w.startswith("提示：chinesecalendar 已有 2026 年的数据") for w in calendar_warnings(config, date(2026, 6, 1)))


def test_check_config_and_start_up_log_say_it(tmp_path, monkeypatch, caplog):
    path = config_file(tmp_path, "", terms='terms = [["2026-09-01", "2026-12-31"]]')
    monkeypatch.setattr("bot.run.cli.today", lambda config: date(2026, 12, 1))
    result = CliRunner().invoke(main, ["check-config", "-c", str(path)])
    assert result.exit_code == 0 and "明年（2027 年）" in result.output
    with caplog.at_level(logging.WARNING):
        run(tmp_path, start="2026-12-01 06:00", end="2026-12-01 07:00", config=path)
    assert len([r for r in caplog.records if "明年（2027 年）" in r.getMessage()]) == 1


def test_the_sample_configs_2027_example_is_marked_and_valid_once_uncommented(tmp_path):
    from bot.run.demo import __file__ as demo_init

    sample = Path(demo_init).with_name("pingan.toml").read_text(encoding="utf-8")
    assert "示例，不是国务院公布的 2027 年放假安排" in sample
    lines = sample.splitlines()
    start = lines.index("# [calendar]")
    block = []
    for line in lines[start:]:
        if not line.startswith("#"):
            break
        block.append(line[2:] if line.startswith("# ") else line[1:])
    path = tmp_path / "sample.toml"
    path.write_text(sample.replace("\n".join(lines[start : start + len(block)]), "\n".join(block)), encoding="utf-8")
    config = load_config(path)
    assert covers(2027, config.calendar) and len(config.calendar.holidays) == 13 and not config.calendar.workdays
    school = config.schools[0]
    assert not is_school_day(school, date(2027, 1, 1)) and is_school_day(school, date(2027, 1, 4))
