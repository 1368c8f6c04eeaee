"""The contact-group path (SPEC.md "Contact groups"), asserted on simulate transcripts."""
from __future__ import annotations

import re

import pytest

from tests.support import GROUP1, in_room, say

XIUJIANG = "秀江社区警民联系群"


def to_officer(transcript: list[dict], name: str) -> list[dict]:
    """The officer's case notices; escalation reminders of unclaimed cases are
    tested in test_escalation.py."""
    return [m for m in transcript if m.get("contact") == name and not m["text"].startswith(("【催办】", "【超时未认领】"))]


def test_first_report_opens_case_1_acknowledges_and_notifies_officer(run_file):
    transcript = run_file("merge_within_window.toml")
    acks = in_room(transcript, GROUP1)
    assert len(acks) == 1
    assert acks[0]["mentions"] == ["张大妈"]
    assert "#1" in acks[0]["text"] and "李警官" in acks[0]["text"]
    # The group reply never repeats what was reported.
    assert "吵起来" not in acks[0]["text"] and "打架" not in acks[0]["text"]

    notices = to_officer(transcript, "李警官")
    assert len(notices) == 1
    notice = notices[0]["text"]
    for expected in ("#1", "矛盾纠纷", "官园社区", GROUP1, "张大妈", "2026-03-02 09:15", "楼下两个人吵起来了，快打架了", "认领 1"):
        assert expected in notice, expected
    assert notices[0]["at"] == "2026-03-02T09:15:00+08:00"


def test_same_room_and_category_within_30_minutes_joins_the_case(run_file, tmp_path):
    db_path = tmp_path / "cases.db"
    transcript = run_file("merge_within_window.toml", db_path)
    # Two reports, yet one acknowledgement and one notice: the second joined #1.
    assert len(in_room(transcript, GROUP1)) == 1
    assert len(to_officer(transcript, "李警官")) == 1
    import sqlite_utils

    db = sqlite_utils.Database(db_path)
    assert [(r["id"], r["message_count"]) for r in db["cases"].rows] == [(1, 2)]


def test_same_report_40_minutes_later_opens_case_2(run_file):
    transcript = run_file("split_after_window.toml")
    notices = to_officer(transcript, "李警官")
    assert [re.search(r"#\d+", n["text"]).group() for n in notices] == ["#1", "#2"]
    assert [m["mentions"] for m in in_room(transcript, GROUP1)] == [["张大妈"], ["赵大爷"]]


def test_urgent_report_gets_110_reply_before_anything_else(run_file):
    transcript = run_file("urgent_knife.toml")
    first = transcript[0]
    assert first["room"] == XIUJIANG
    assert first["mentions"] == ["周女士"]
    assert "110" in first["text"]
    at_once = [m for m in transcript if m["at"] == first["at"]]
    assert len(at_once) == 3  # 110 reply, acknowledgement, officer's notice
    notice = to_officer(transcript, "陈警官")[0]["text"]
    assert "紧急" in notice


def test_officers_unknown_rooms_and_the_bot_itself_produce_no_output(run_file):
    assert run_file("never_flagged.toml") == []


def test_explicit_reports_open_cases_and_other_mentions_get_help(run_file):
    transcript = run_file("explicit_and_help.toml")
    chen = to_officer(transcript, "陈警官")
    sun = to_officer(transcript, "孙警官")
    assert len(chen) == 1 and "占道摆摊" in chen[0]["text"]
    assert len(sun) == 1 and "路灯坏了" in sun[0]["text"] and "#2" in sun[0]["text"]
    room = in_room(transcript, XIUJIANG)
    help_replies = [m for m in room if m["at"] == "2026-03-02T17:00:00+08:00"]
    assert len(help_replies) == 1
    assert help_replies[0]["mentions"] == ["吴先生"]
    assert help_replies[0]["text"].count("\n") == 1  # two lines
    assert "举报" in help_replies[0]["text"] and "110" in help_replies[0]["text"]
    # Ordinary chat without a mention gets nothing.
    assert not [m for m in transcript if m["at"] == "2026-03-02T17:05:00+08:00"]


def test_ack_in_group_off_sends_only_the_private_notice(tmp_path, rules_only):
    from tests.support import config_with, report, run_inline

    transcript = run_inline(
        rules_only, report("09:15"), directory=tmp_path, config_text=config_with(("ack_in_group = true", "ack_in_group = false")), end="2026-03-02T18:00:00+08:00"
    )
    assert in_room(transcript, GROUP1) == []
    assert len(to_officer(transcript, "李警官")) == 1


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "打" * 100_000,
        "楼下有人打架" + "\x00\x07\x1b[31m" * 50,
        "😀😀🔥🔥👮",
        "\u200b\u200d\ufeff",
        "@平安助手",
    ],
    ids=["empty", "blank", "100k", "control", "emoji", "zero-width", "mention-only"],
)
def test_odd_input_gives_a_sane_result_without_traceback(run_events, text, caplog):
    transcript = run_events(say("09:15", "张大妈", text, GROUP1, mentions=("平安助手",)))
    assert not [r for r in caplog.records if r.exc_info], "a handler raised"
    # Whatever the verdict, the bot answers once in the group (help or acknowledgement)
    # and never echoes the input back.
    group = in_room(transcript, GROUP1)
    assert len(group) >= 1
    for message in transcript:
        assert len(message["text"]) < 2000


async def test_lone_surrogates_from_the_wire_are_stored_safely(tmp_path, rules_only, config):
    """A broken UTF-16 pair (seen from some clients) must not break storage of a report."""
    from datetime import datetime, timedelta, timezone

    from bot.events import Incoming
    from bot.run.simulation import Simulation

    start = datetime(2026, 3, 2, 9, tzinfo=timezone(timedelta(hours=8)))
    sim = Simulation(config, start, rules_only, tmp_path / "s.db")
    await sim.start()
    await sim.transport.deliver(Incoming(id="x", at=start, sender="张\ud800大妈", text="楼下两个人吵起来了，快打架了\udc00", room=GROUP1))
    await sim.app.outbox.drain()
    await sim.stop()
    notice = [m for m in sim.transcript() if m.get("contact") == "李警官"]
    assert len(notice) == 1 and "楼下两个人吵起来了" in notice[0]["text"]


async def test_a_case_is_never_stored_without_its_notices(tmp_path, rules_only, config, monkeypatch):
    """The case and the messages about it are one transaction: when queuing the notice
    fails, the case is not stored either; the message is kept and, once the disk
    works again, stored with its acknowledgement and notice, once each."""
    from datetime import timedelta

    from tests.support import power_cut_while_queuing

    sim, stored = await power_cut_while_queuing(monkeypatch, config, rules_only, tmp_path / "s.db", "楼下两个人吵起来了，快打架了", GROUP1)
    assert stored == 0 and len(sim.app.pipeline.pending) == 1
    await sim.run_until(sim.clock.now() + timedelta(minutes=5))
    await sim.restart()  # and a restart adds nothing
    await sim.stop()
    transcript = sim.transcript()
    assert len(in_room(transcript, GROUP1)) == 1
    notices = to_officer(transcript, "李警官")
    assert len(notices) == 1 and "楼下两个人吵起来了，快打架了" in notices[0]["text"] and "2026-03-02 09:00" in notices[0]["text"]


async def test_a_message_delivered_again_after_a_restart_is_not_handled_twice(tmp_path, rules_only, config):
    """A gateway may replay a message (the same id) after a reconnect; the in-memory
    duplicate filter is gone after a restart, but the stored message id is not."""
    from datetime import datetime, timedelta, timezone

    from bot.events import Incoming
    from bot.run.simulation import Simulation

    start = datetime(2026, 3, 2, 9, tzinfo=timezone(timedelta(hours=8)))
    sim = Simulation(config, start, rules_only, tmp_path / "r.db")
    await sim.start()
    msg = Incoming(id="wx-msg-1", at=start, sender="张大妈", text="楼下两个人吵起来了，快打架了", room=GROUP1)
    await sim.transport.deliver(msg)
    await sim.restart()
    await sim.transport.deliver(msg)
    await sim.app.outbox.drain()
    rows = await sim.app.db.read(lambda d: d.execute("select count(*) from case_messages").fetchone()[0])
    await sim.stop()
    assert rows == 1
    assert len(to_officer(sim.transcript(), "李警官")) == 1 and len(in_room(sim.transcript(), GROUP1)) == 1
