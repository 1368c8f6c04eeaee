"""Reminders follow the school calendar, on real 2026 (and 2027) dates, on the virtual clock."""
from __future__ import annotations

import logging
from datetime import date, timedelta

import chinese_calendar

from tests.guard.support import XJXX, YC1Z, local_time, in_room, reminders, run, to_contact

REMINDER_TEXT = "【护学岗提醒】今天晚间护学岗 21:30–22:10，请值班人员准时到岗，到岗后在群里回复“到岗”。"


def test_a_normal_school_week(tmp_path):
    transcript = run(tmp_path, start="2026-03-02 06:00", end="2026-03-09 00:00")
    sent = reminders(transcript)
    assert [local_time(m) for m in sent] == [f"2026-03-0{d} 21:15" for d in range(2, 7)]
    assert [m["mentions"] for m in sent] == [["张老师", "刘师傅"], ["王老师", "刘师傅"], ["赵老师"], ["张老师"], ["王老师"]]
    assert sent[0]["text"] == REMINDER_TEXT
    # Nobody checked in all week: one chase and one officer notice per school day, no more.
    chases = [m for m in in_room(transcript, YC1Z) if "请尽快到岗" in m["text"]]
    assert [local_time(m) for m in chases] == [f"2026-03-0{d} 21:40" for d in range(2, 7)]
    assert [local_time(m) for m in to_contact(transcript, "李警官")] == [f"2026-03-0{d} 21:50" for d in range(2, 7)]
    # The weekend's only message is Sunday's duty table.
    weekend = [m for m in transcript if m["at"] >= "2026-03-07"]
    assert [(local_time(m), m["room"]) for m in weekend] == [("2026-03-08 18:00", XJXX), ("2026-03-08 18:00", YC1Z)]


def test_qingming_2026_has_no_reminders(tmp_path):
    transcript = run(tmp_path, start="2026-04-03 06:00", end="2026-04-08 00:00")
    assert [local_time(m) for m in reminders(transcript)] == ["2026-04-03 21:15", "2026-04-07 21:15"]
    assert not [m for m in transcript if "2026-04-04" <= m["at"] < "2026-04-05" or "2026-04-06" <= m["at"] < "2026-04-07"]
    table = [m for m in in_room(transcript, YC1Z) if m["text"].startswith("【护学岗值班表】")]
    assert len(table) == 1 and local_time(table[0]) == "2026-04-05 18:00"
    assert "4月6日 周一：不上课（清明节）" in table[0]["text"]
    assert "4月7日 周二：王老师、刘师傅" in table[0]["text"]


def first_makeup_weekend_day_2026() -> date:
    """A 2026 weekend day the state makes a working day (调休), from chinesecalendar."""
    day = date(2026, 2, 24)  # 宜春一中's first day of term
    while not (day.weekday() >= 5 and chinese_calendar.is_workday(day)):
        day += timedelta(days=1)
    return day


def test_a_2026_make_up_weekend_day_gets_a_reminder_and_the_officer_hears_nobody_is_rostered(tmp_path):
    day = first_makeup_weekend_day_2026()
    assert day.weekday() >= 5
    iso = day.isoformat()
    transcript = run(tmp_path, start=f"{iso} 06:00", end=f"{(day + timedelta(days=1)).isoformat()} 06:00")
    sent = reminders(transcript)
    assert len(sent) == 1 and local_time(sent[0]) == f"{iso} 21:15"
    assert sent[0]["mentions"] == [] and "没有安排人员" in sent[0]["text"] and "21:30–22:10" in sent[0]["text"]
    notices = to_contact(transcript, "李警官")
    assert len(notices) == 1 and local_time(notices[0]) == f"{iso} 21:15"
    assert "宜春一中" in notices[0]["text"] and "没有安排人员" in notices[0]["text"] and f"{day.month}月{day.day}日" in notices[0]["text"]
    # Nobody rostered: nobody to chase.
    assert len(in_room(transcript, YC1Z)) == 1


def test_term_end_and_summer_break(tmp_path):
    transcript = run(tmp_path, start="2026-07-03 06:00", end="2026-07-13 00:00")
    assert [local_time(m) for m in reminders(transcript)] == ["2026-07-03 21:15"]
    tables = [m for m in in_room(transcript, YC1Z) if m["text"].startswith("【护学岗值班表】")]
    # The break is announced once; the next Sunday stays quiet.
    assert [local_time(m) for m in tables] == ["2026-07-05 18:00"]
    assert "这一周没有上课日" in tables[0]["text"]


def test_term_start_after_summer(tmp_path):
    transcript = run(tmp_path, start="2026-08-31 06:00", end="2026-09-02 06:00")
    assert [local_time(m) for m in reminders(transcript)] == ["2026-09-01 21:15"]


def test_closed_and_open_dates_of_one_school(tmp_path):
    transcript = run(tmp_path, start="2026-03-12 06:00", end="2026-03-15 00:00")
    # 秀江小学 is closed on Thursday 12 March and open on Saturday 14 March.
    xj = [(local_time(m), m["mentions"]) for m in reminders(transcript, XJXX)]
    assert xj == [
        ("2026-03-13 06:50", ["吴老师"]),
        ("2026-03-13 16:20", ["冯义警"]),
        ("2026-03-14 06:50", ["吴老师"]),
        ("2026-03-14 16:20", ["郑老师"]),
    ]
    # 宜春一中 keeps the state calendar: Thursday and Friday, not Saturday.
    assert [local_time(m) for m in reminders(transcript)] == ["2026-03-12 21:15", "2026-03-13 21:15"]


def test_2027_falls_back_to_monday_to_friday_and_warns(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        transcript = run(tmp_path, start="2027-01-01 06:00", end="2027-01-05 06:00")
    # No state data: New Year's Day 2027 (a Friday) counts as a school day, the weekend does not.
    assert [local_time(m) for m in reminders(transcript)] == ["2027-01-01 21:15", "2027-01-04 21:15"]
    warnings = [r.getMessage() for r in caplog.records if "chinesecalendar" in r.getMessage()]
    assert len(warnings) == 1 and "2027" in warnings[0]
