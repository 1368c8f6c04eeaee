"""Restart safety: each reminder, chase, notice and table is sent at most once; one
missed while the bot was down goes out late if its moment passed under 5 minutes
ago, and is dropped with a log line otherwise."""
from __future__ import annotations

import logging

import pytest

from tests.guard.support import GUARD_CONFIG, XJXX, YC1Z, database, in_room, local_time, restart, run, say, t, to_contact

DAY = "2026-03-02"


def yc1z_messages(transcript: list[dict]) -> list[tuple[str, str, str]]:
    """(time, where, first words) of everything about 宜春一中."""
    out = []
    for m in transcript:
        if m.get("room") == YC1Z or m.get("contact") == "李警官":
            out.append((local_time(m), m.get("room") or m["contact"], m["text"][:8]))
    return out


NORMAL = [
    (f"{DAY} 21:15", YC1Z, "【护学岗提醒】今"),
    (f"{DAY} 21:20", YC1Z, "张老师 21:2"),
    (f"{DAY} 21:40", YC1Z, "晚间护学岗已于2"),
    (f"{DAY} 21:50", "李警官", "【护学岗未到岗】"),
]


@pytest.mark.parametrize("when", ["21:15", "21:20", "21:35", "21:40", "21:50", "22:10"])
def test_restart_mid_shift_neither_repeats_nor_loses_a_message(tmp_path, when):
    transcript = run(
        tmp_path,
        say(f"{DAY} 21:20", "张老师", "到岗"),
        restart(f"{DAY} {when}"),
        start=f"{DAY} 21:00",
        end=f"{DAY} 23:00",
    )
    assert yc1z_messages(transcript) == NORMAL


def test_two_restarts_and_a_repeated_check_in(tmp_path):
    transcript = run(
        tmp_path,
        say(f"{DAY} 21:20", "张老师", "到岗"),
        restart(f"{DAY} 21:30"),
        restart(f"{DAY} 21:41"),
        say(f"{DAY} 21:45", "张老师", "到岗"),
        start=f"{DAY} 21:00",
        end=f"{DAY} 23:00",
    )
    room = [m["text"] for m in in_room(transcript, YC1Z)]
    assert sum(t.startswith("【护学岗提醒】") for t in room) == 1
    assert sum("请尽快到岗" in t for t in room) == 1
    assert "张老师已于21:20登记晚间护学岗到岗，无需重复回复。" in room
    assert database(tmp_path)["guard_checkins"].count_where("school = 'yc1z'") == 1


def test_a_chase_missed_by_less_than_5_minutes_is_sent_on_start(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        transcript = run(tmp_path, restart(f"{DAY} 21:38", downtime_minutes=4), start=f"{DAY} 21:00", end=f"{DAY} 23:00")
    assert [(t, w) for t, w, _ in yc1z_messages(transcript)] == [
        (f"{DAY} 21:15", YC1Z),
        (f"{DAY} 21:42", YC1Z),  # the 21:40 chase, two minutes late
        (f"{DAY} 21:50", "李警官"),
    ]
    assert not [r for r in caplog.records if "错过了发送时间" in r.getMessage() and f"guard:yc1z:晚间护学岗:{DAY}" in r.getMessage()]


def test_a_chase_missed_by_more_than_5_minutes_is_dropped_with_a_log_line(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        transcript = run(tmp_path, restart(f"{DAY} 21:38", downtime_minutes=8), start=f"{DAY} 21:00", end=f"{DAY} 23:00")
    assert [(t, w) for t, w, _ in yc1z_messages(transcript)] == [(f"{DAY} 21:15", YC1Z), (f"{DAY} 21:50", "李警官")]
    dropped = [r.getMessage() for r in caplog.records if "错过了发送时间" in r.getMessage() and f"{DAY} 21:40" in r.getMessage()]
    assert len(dropped) == 1 and f"guard:yc1z:晚间护学岗:{DAY}:chase" in dropped[0]


def test_exactly_5_minutes_late_is_still_sent(tmp_path):
    transcript = run(tmp_path, restart(f"{DAY} 21:14", downtime_minutes=6), start=f"{DAY} 21:00", end=f"{DAY} 21:30")
    assert [(t, w) for t, w, _ in yc1z_messages(transcript)] == [(f"{DAY} 21:20", YC1Z)]


def test_a_reminder_missed_by_more_than_5_minutes_is_dropped_but_check_ins_still_count(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        transcript = run(
            tmp_path,
            restart(f"{DAY} 21:10", downtime_minutes=12),
            say(f"{DAY} 21:25", "张老师", "到岗"),
            start=f"{DAY} 21:00",
            end=f"{DAY} 23:00",
        )
    assert yc1z_messages(transcript) == [
        (f"{DAY} 21:25", YC1Z, "张老师 21:2"),
        (f"{DAY} 21:40", YC1Z, "晚间护学岗已于2"),
        (f"{DAY} 21:50", "李警官", "【护学岗未到岗】"),
    ]
    assert any(f"guard:yc1z:晚间护学岗:{DAY}:remind" in r.getMessage() for r in caplog.records)


def test_a_shift_that_ended_while_the_bot_was_down_is_settled_on_start(tmp_path):
    run(
        tmp_path,
        say(f"{DAY} 21:20", "张老师", "到岗"),
        restart(f"{DAY} 22:05", downtime_minutes=30),
        start=f"{DAY} 21:00",
        end=f"{DAY} 23:00",
    )
    status = {r["person"]: r["status"] for r in database(tmp_path).query("select * from guard_attendance where school = 'yc1z'")}
    assert status == {"张老师": "on_time", "刘师傅": "missed"}


def test_days_the_bot_missed_entirely_are_unrecorded_not_missed(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        transcript = run(
            tmp_path,
            say(f"{DAY} 12:00", "张老师", "代班 周四 晚间护学岗 王老师"),  # gives the database a first day
            restart(f"{DAY} 20:00", downtime_minutes=38 * 60),  # down until Wednesday 10:00
            start=f"{DAY} 06:00",
            end="2026-03-04 12:00",
        )
    db = database(tmp_path)
    rows = sorted((r["day"], r["person"], r["status"]) for r in db.query("select * from guard_attendance where school = 'yc1z'"))
    assert rows == [
        ("2026-03-02", "刘师傅", "unrecorded"),
        ("2026-03-02", "张老师", "unrecorded"),
        ("2026-03-03", "刘师傅", "unrecorded"),
        ("2026-03-03", "王老师", "unrecorded"),
    ]
    # Nothing was sent late for Monday or Tuesday; Tuesday's missed moments are logged.
    assert not [m for m in transcript if "2026-03-02T20" <= m["at"] < "2026-03-04T10"]
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "guard:yc1z:晚间护学岗:2026-03-03:remind" in logged


def test_the_weekly_table_after_a_short_and_a_long_outage(tmp_path, caplog):
    transcript = run(tmp_path, restart("2026-03-08 17:57", downtime_minutes=5), start="2026-03-08 12:00", end="2026-03-08 23:00")
    assert [(local_time(m), m["room"]) for m in transcript] == [("2026-03-08 18:02", XJXX), ("2026-03-08 18:02", YC1Z)]
    with caplog.at_level(logging.WARNING):
        transcript = run(tmp_path, restart("2026-03-08 17:50", downtime_minutes=20), start="2026-03-08 12:00", end="2026-03-08 23:00", db="long.db")
    assert transcript == []
    assert any("guard:yc1z:table:2026-03-09" in r.getMessage() for r in caplog.records)


def test_restart_keeps_swaps(tmp_path):
    transcript = run(
        tmp_path,
        say(f"{DAY} 12:00", "刘师傅", "代班 今天 晚间护学岗 陈老师"),
        restart(f"{DAY} 13:00"),
        start=f"{DAY} 06:00",
        end=f"{DAY} 21:20",
    )
    [reminder] = [m for m in in_room(transcript, YC1Z) if m["text"].startswith("【护学岗提醒】")]
    assert reminder["mentions"] == ["张老师", "陈老师"]
    assert to_contact(transcript, "李警官") == []


def _restart_toml(hhmm: str, extra: str = "") -> str:
    return f"[[events]]\nat = {t(f'{DAY} {hhmm}')}\nrestart = true\n{extra}"


def _say_toml(hhmm: str, extra: str = "") -> str:
    return f'[[events]]\nat = {t(f"{DAY} {hhmm}")}\nroom = "{YC1Z}"\nfrom = "张老师"\ntext = "到岗"\n{extra}'


@pytest.mark.parametrize(
    "events,problem",
    [
        (_restart_toml("21:38", "downtime_minutes = 10\n") + _say_toml("21:40"), "停机期间"),
        (_restart_toml("21:38", "downtime_minutes = -1\n"), "downtime_minutes"),
        (_say_toml("21:40", "downtime_minutes = 3\n"), "只能用于 restart"),
        (_restart_toml("22:50", "downtime_minutes = 20\n"), "不早于 end"),
    ],
)
def test_scenario_downtime_is_checked(tmp_path, events, problem):
    """The scenario file loader refuses downtime that would hide or lose events."""
    from bot.run.scenario import ScenarioError, load_scenario

    path = tmp_path / "s.toml"
    path.write_text(f'config = "{GUARD_CONFIG.as_posix()}"\nstart = {t(f"{DAY} 21:00")}\nend = {t(f"{DAY} 23:00")}\n' + events, encoding="utf-8")
    with pytest.raises(ScenarioError, match=problem):
        load_scenario(path)
