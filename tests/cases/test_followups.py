"""Follow-up visits (SPEC.md "Follow-ups (回访)"): reminders, recording, 反弹,
overdue reports and restarts, over weeks of virtual time."""
from __future__ import annotations

import pytest
import sqlite_utils

from tests.support import ROOM, sent_at, in_room, only, report, restart, say, to  # noqa: F401

MONTH_END = "2026-04-10T00:00:00+08:00"
MEDIATED = report("09:15") + say("09:20", "李警官", "认领 1") + say("10:00", "李警官", "办结 1 调解成功")


def followup_messages(transcript: list[dict]) -> list[tuple[str, str, str]]:
    """(local day and time, recipient, tag) of every follow-up reminder or overdue report."""
    out = []
    for m in transcript:
        if m.get("text", "").startswith(("【回访提醒】", "【回访逾期】")):
            out.append((m["at"][5:16].replace("T", " "), m.get("contact") or m["room"], m["text"][: m["text"].index("】") + 1]))
    return out


def test_reminders_on_day_7_and_30_then_archived(run_file, tmp_path):
    db = tmp_path / "c.db"
    transcript = run_file("followup_cycle.toml", db)
    assert followup_messages(transcript) == [("03-09 09:00", "李警官", "【回访提醒】"), ("04-01 09:00", "李警官", "【回访提醒】")]
    first = only(sent_at(to(transcript, "李警官"), "03-09 09:00"))["text"]
    assert "#1" in first and "第1次" in first and "第7天" in first and "回访 1 无反弹" in first and "回访 1 反弹" in first
    assert only(sent_at(to(transcript, "李警官"), "03-09 15:00"))["text"] == "已记录#1第1次回访：无反弹。下次回访提醒：04-01 09:00。"
    assert only(sent_at(to(transcript, "李警官"), "04-01 10:00"))["text"] == "已记录#1第2次回访：无反弹。回访完毕，案件已归档。"
    detail = only(sent_at(to(transcript, "李警官"), "04-01 10:05"))["text"]
    assert "已归档" in detail and "第1次 03-09 09:00 无反弹（李警官 03-09 15:00） 双方关系缓和" in detail
    assert sqlite_utils.Database(db)["cases"].get(1)["status"] == "已归档"


def test_unrecorded_visits_are_reported_to_the_leader_and_room(run_day):
    transcript = run_day(MEDIATED, end=MONTH_END)
    assert followup_messages(transcript) == [
        ("03-09 09:00", "李警官", "【回访提醒】"),
        ("03-12 09:00", "王所长", "【回访逾期】"),
        ("03-12 09:00", ROOM, "【回访逾期】"),
        ("04-01 09:00", "李警官", "【回访提醒】"),
        ("04-04 09:00", "王所长", "【回访逾期】"),
        ("04-04 09:00", ROOM, "【回访逾期】"),
    ]
    overdue = only(sent_at(to(transcript, "王所长"), "03-12 09:00"))["text"]
    assert "#1" in overdue and "第1次" in overdue and "逾期3天" in overdue and "李警官" in overdue
    assert only(sent_at(in_room(transcript, ROOM), "03-12 09:00"))["mentions"] == ["李警官"]


def test_recording_early_skips_that_reminder(run_day):
    transcript = run_day(MEDIATED + say("03-05 10:00", "李警官", "回访 1 无反弹"), end=MONTH_END)
    assert followup_messages(transcript) == [("04-01 09:00", "李警官", "【回访提醒】"), ("04-04 09:00", "王所长", "【回访逾期】"), ("04-04 09:00", ROOM, "【回访逾期】")]


def test_rebound_reopens_cancels_visits_and_mediating_again_plans_a_new_round(run_day, tmp_path):
    db = tmp_path / "c.db"
    events = MEDIATED + say("03-09 10:00", "李警官", "回访 1 反弹 又吵起来了") + say("03-10 10:00", "李警官", "办结 1 调解成功")
    transcript = run_day(events, end=MONTH_END, db_path=db)
    reply = only(sent_at(to(transcript, "李警官"), "03-09 10:00"))["text"]
    assert "反弹" in reply and "处理中" in reply
    assert followup_messages(transcript) == [
        ("03-09 09:00", "李警官", "【回访提醒】"),
        ("03-17 09:00", "李警官", "【回访提醒】"),
        ("03-20 09:00", "王所长", "【回访逾期】"),
        ("03-20 09:00", ROOM, "【回访逾期】"),
        ("04-09 09:00", "李警官", "【回访提醒】"),
    ]
    visits = [(r["round"], r["seq"], r["status"], r["result"]) for r in sqlite_utils.Database(db)["followups"].rows]
    assert visits == [(1, 1, "done", "反弹"), (1, 2, "cancelled", None), (2, 1, "pending", None), (2, 2, "pending", None)]


def test_rebound_on_an_archived_case_reopens_it(run_day, tmp_path):
    db = tmp_path / "c.db"
    events = MEDIATED + say("03-05 10:00", "李警官", "回访 1 无反弹") + say("03-06 10:00", "李警官", "回访 1 无反弹") + say("03-20 10:00", "李警官", "回访 1 反弹")
    transcript = run_day(events, end="2026-03-21T00:00:00+08:00", db_path=db)
    assert "已归档" in only(sent_at(to(transcript, "李警官"), "03-06 10:00"))["text"]
    assert "重新打开" in only(sent_at(to(transcript, "李警官"), "03-20 10:00"))["text"]
    assert sqlite_utils.Database(db)["cases"].get(1)["status"] == "处理中"


@pytest.mark.parametrize(
    "command,state",
    [("回访 1 无反弹", "处理中"), ("回访 1 反弹", "处理中")],
)
def test_followup_of_a_case_not_awaiting_one_is_refused(run_day, tmp_path, command, state):
    db = tmp_path / "c.db"
    transcript = run_day(report("09:15") + say("09:20", "李警官", "认领 1") + say("09:30", "李警官", command), db_path=db)
    refusal = only(sent_at(to(transcript, "李警官"), "09:30"))["text"]
    assert f"“{state}”" in refusal and "办结 1" in refusal
    assert sqlite_utils.Database(db)["cases"].get(1)["status"] == state


@pytest.mark.parametrize(
    "events",
    [restart("03-09 09:00"), restart("03-09 08:00", downtime_minutes=120), restart("03-12 09:00"), restart("03-05 12:00")],
    ids=["at-reminder", "down-across-reminder", "at-overdue", "between"],
)
def test_restarts_neither_repeat_nor_lose_reminders(run_day, events):
    transcript = run_day(MEDIATED + events, end="2026-03-13T00:00:00+08:00")
    got = followup_messages(transcript)
    reminder_time = "03-09 10:00" if events[0].downtime else "03-09 09:00"
    assert got == [(reminder_time, "李警官", "【回访提醒】"), ("03-12 09:00", "王所长", "【回访逾期】"), ("03-12 09:00", ROOM, "【回访逾期】")]
