"""The guard-post week scenario (tests/scenarios/guard_week.toml), as `pingan simulate`
runs it: same output every run, and the week's story in the transcript."""
from __future__ import annotations

import sqlite_utils

from tests.guard.support import YC1Z, local_time, in_room, reminders, run_scenario_file, to_contact


def test_the_week_is_deterministic_and_tells_its_story(tmp_path):
    first = run_scenario_file("guard_week.toml", tmp_path / "week.db")
    assert run_scenario_file("guard_week.toml") == first

    assert [local_time(m)[:10] for m in reminders(first)] == [f"2026-03-0{d}" for d in range(2, 7)]
    assert [m["mentions"] for m in reminders(first)][2] == ["孙老师"]  # 代班 for Wednesday
    room = [(local_time(m), m["text"]) for m in in_room(first, YC1Z)]
    assert ("2026-03-02 21:19", "张老师已于21:18登记晚间护学岗到岗，无需重复回复。") in room
    assert ("2026-03-03 21:21", "陈阿姨 21:21 协助晚间护学岗，已记录，谢谢！") in room
    # The 3 minutes of downtime from 21:38 on Tuesday: the 21:40 chase went out at 21:41.
    assert [(local_time(m), m["mentions"]) for m in in_room(first, YC1Z) if "请尽快到岗" in m["text"] and m["at"] < "2026-03-04"] == [
        ("2026-03-02 21:40", ["刘师傅"]),
        ("2026-03-03 21:41", ["刘师傅"]),
    ]
    assert [local_time(m) for m in to_contact(first, "李警官")] == ["2026-03-03 21:50", "2026-03-05 21:50", "2026-03-06 21:50"]
    assert local_time(in_room(first, YC1Z)[-1]) == "2026-03-08 18:00"

    db = sqlite_utils.Database(tmp_path / "week.db")
    statuses = {(r["day"], r["person"]): r["status"] for r in db.query("select * from guard_attendance where school = 'yc1z'")}
    assert statuses == {
        ("2026-03-02", "张老师"): "on_time",
        ("2026-03-02", "刘师傅"): "late",
        ("2026-03-03", "王老师"): "on_time",
        ("2026-03-03", "刘师傅"): "missed",
        ("2026-03-03", "陈阿姨"): "helper",
        ("2026-03-04", "孙老师"): "on_time",
        ("2026-03-05", "张老师"): "missed",
        ("2026-03-06", "王老师"): "missed",
    }
