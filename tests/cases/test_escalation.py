"""Escalation of unclaimed cases (SPEC.md "Escalation") on the virtual clock."""
from __future__ import annotations

import pytest

from tests.support import (
    GROUP1,
    GROUP2,
    KNIFE,
    NORMAL_DISPUTE,
    ROOM,
    sent_at,
    in_room,
    only,
    report,
    restart,
    say,
    to,
)


def escalations(transcript: list[dict]) -> list[tuple[str, str, str]]:
    """(time, recipient, first words) of every escalation message."""
    out = []
    for m in transcript:
        if m["text"].startswith(("【催办】", "【超时未认领】")):
            out.append((m["at"][11:16], m.get("contact") or m["room"], m["text"][: m["text"].index("】") + 1]))
    return out


def test_high_case_reminds_officer_then_tells_leader_and_room(run_file):
    transcript = run_file("escalation_high.toml")
    assert escalations(transcript) == [
        ("09:25", "李警官", "【催办】"),
        ("09:45", "王所长", "【超时未认领】"),
        ("09:45", ROOM, "【超时未认领】"),
    ]
    remind = only(sent_at(to(transcript, "李警官"), "09:25"))["text"]
    assert "#1" in remind and "10分钟" in remind and "认领 1" in remind
    leader = only(sent_at(to(transcript, "王所长"), "09:45"))["text"]
    assert "30分钟" in leader and "李警官" in leader and "转办 1" in leader
    room = only(in_room(transcript, ROOM))
    assert room["mentions"] == ["李警官"] and "吵" not in room["text"]
    # The audit trail records both steps with who and when.
    detail = only(sent_at(to(transcript, "王所长"), "10:00"))["text"]
    assert "03-02 09:15 登记 张大妈：矛盾纠纷/高" in detail
    assert "03-02 09:25 催办提醒 系统：提醒李警官" in detail
    assert "03-02 09:45 上报所长 系统：上报王所长及官园派出所工作群" in detail


@pytest.mark.parametrize("claim_at,expected", [("09:24", []), ("09:30", [("09:25", "李警官", "【催办】")])], ids=["minute-9", "minute-15"])
def test_claiming_stops_the_clock(run_day, claim_at, expected):
    transcript = run_day(report("09:15") + say(claim_at, "李警官", "认领 1"))
    assert escalations(transcript) == expected
    assert not in_room(transcript, ROOM)


def test_claim_after_the_leader_step_closes_the_loop_in_the_room(run_day):
    transcript = run_day(report("09:15") + say("10:00", "李警官", "认领 1"))
    assert only(sent_at(in_room(transcript, ROOM), "10:00"))["text"] == "#1已由李警官认领。"


def test_urgent_case_escalates_at_5_and_15_minutes_and_jumps_the_queue(run_day):
    transcript = run_day(report("14:05", "周女士", KNIFE, GROUP2))
    assert escalations(transcript) == [
        ("14:10", "陈警官", "【催办】"),
        ("14:20", "王所长", "【超时未认领】"),
        ("14:20", ROOM, "【超时未认领】"),
    ]


def test_normal_case_escalates_after_2_and_8_hours(run_day):
    transcript = run_day(report("08:00", text=NORMAL_DISPUTE))
    assert escalations(transcript) == [
        ("10:00", "李警官", "【催办】"),
        ("16:00", "王所长", "【超时未认领】"),
        ("16:00", ROOM, "【超时未认领】"),
    ]
    assert "2小时" in only(sent_at(to(transcript, "李警官"), "10:00"))["text"]
    assert "8小时" in only(sent_at(to(transcript, "王所长"), "16:00"))["text"]


def test_false_positive_or_closing_stops_it(run_day):
    transcript = run_day(report("09:15") + say("09:20", "李警官", "误报 1"))
    assert escalations(transcript) == []


def test_a_rise_to_urgent_restarts_the_clock_at_the_urgent_pace(run_day):
    transcript = run_day(report("09:00", text=NORMAL_DISPUTE) + report("09:20", "赵大爷", KNIFE))
    assert escalations(transcript) == [
        ("09:25", "李警官", "【催办】"),
        ("09:35", "王所长", "【超时未认领】"),
        ("09:35", ROOM, "【超时未认领】"),
    ]


def test_transfer_of_an_unclaimed_case_gives_the_new_officer_a_fresh_clock(run_day):
    transcript = run_day(report("09:15") + say("09:20", "王所长", "转办 1 陈警官"))
    assert escalations(transcript) == [
        ("09:30", "陈警官", "【催办】"),
        ("09:50", "王所长", "【超时未认领】"),
        ("09:50", ROOM, "【超时未认领】"),
    ]


def test_restart_neither_repeats_nor_loses_a_step(run_file):
    transcript = run_file("escalation_restart.toml")
    # Reminder at 09:25 once (the restart at that moment re-fires it into a known key);
    # the leader step, due at 09:45 while the bot was down, goes out when it is back at 09:50.
    assert escalations(transcript) == [
        ("09:25", "李警官", "【催办】"),
        ("09:50", "王所长", "【超时未认领】"),
        ("09:50", ROOM, "【超时未认领】"),
    ]


@pytest.mark.parametrize("restart_at", ["09:20", "09:25", "09:30", "09:45", "10:00"])
def test_a_restart_at_any_moment_sends_each_step_exactly_once(run_day, restart_at):
    transcript = run_day(report("09:15") + restart(restart_at))
    assert escalations(transcript) == [
        ("09:25", "李警官", "【催办】"),
        ("09:45", "王所长", "【超时未认领】"),
        ("09:45", ROOM, "【超时未认领】"),
    ]


def test_downtime_across_both_steps_sends_both_once_on_return(run_day):
    transcript = run_day(report("09:15") + restart("09:20", downtime_minutes=60))
    assert escalations(transcript) == [
        ("10:20", "李警官", "【催办】"),
        ("10:20", "王所长", "【超时未认领】"),
        ("10:20", ROOM, "【超时未认领】"),
    ]


def test_claim_after_a_restart_still_stops_the_clock(run_day):
    transcript = run_day(report("09:15") + restart("09:20") + say("09:24", "李警官", "认领 1"))
    assert escalations(transcript) == []
