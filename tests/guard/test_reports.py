"""Reports in guard-post groups (SPEC.md): a teacher's report opens a case for the
school's supervising officer; an urgent one gets the emergency reply first; the
guard-post words keep their meaning and ordinary chat is left alone.

The guard feature's part: what it offers the cases family (`report`) and what it does
with the answer, tested on the handler with a stand-in. The last two tests run the
whole bot, the cases family included."""
from __future__ import annotations

import sqlite3

import pytest

from bot.config import ContactGroup
from bot.events import Outgoing
from bot.feature import NOTHING, Work
from handlers.guard.room import HELP_TEXT, Ask
from tests.guard.support import XJXX, YC1Z, Reports, in_room, message, room, say, to_contact

KNIFE = "校门口有人拿刀打架"
CASE_OPENED = Work.send(Outgoing(text="（立案）", contact="李警官"))


def test_a_teachers_report_is_handed_to_the_cases_family_for_the_schools_officer() -> None:
    reports = Reports(CASE_OPENED)
    handler = room(reports)
    msg = message(KNIFE, sender="张老师")
    assert handler.match(msg).ask is Ask.OTHER
    assert handler.handle(msg, handler.match(msg)) is CASE_OPENED
    assert reports.offered == [(msg, ContactGroup(room=YC1Z, community="宜春一中", station="guanyuan", officer="李警官"))]


def test_each_school_reports_to_its_own_officer() -> None:
    reports = Reports(CASE_OPENED)
    handler = room(reports)
    msg = message(KNIFE, sender="郑老师", room=XJXX)
    handler.handle(msg, handler.match(msg))
    assert reports.offered[0][1] == ContactGroup(room=XJXX, community="秀江小学", station="guanyuan", officer="陈警官")


def test_an_officers_message_in_the_room_is_never_a_report() -> None:
    reports = Reports(CASE_OPENED)
    handler = room(reports)
    msg = message(KNIFE, sender="李警官")
    assert handler.handle(msg, handler.match(msg)) is NOTHING
    assert reports.offered == []


@pytest.mark.parametrize("text", ["到岗", "代班 明天 晚间护学岗 王老师", "代班", "值班表", "下周值班表"])
def test_guard_post_words_are_never_offered_as_reports(text) -> None:
    reports = Reports(CASE_OPENED)
    handler = room(reports)
    msg = message(text, local="2026-03-02 12:00")
    assert handler.match(msg).ask is not Ask.OTHER
    assert handler.handle(msg, handler.match(msg)) is not CASE_OPENED
    assert reports.offered == []


def test_help_only_when_the_bot_is_mentioned_and_the_message_is_no_report() -> None:
    reports = Reports(None)
    handler = room(reports)
    asked = message("@平安助手 怎么用", sender="赵老师", mentions_bot=True)
    work = handler.handle(asked, handler.match(asked))
    assert work.outcome.sends == [Outgoing(text=HELP_TEXT, room=YC1Z, room_id=YC1Z, mentions=("赵老师",))] and work.transaction is None
    assert len(reports.offered) == 1  # a mention can carry a report: asked first
    chat = message("今天降温了，大家值班多穿点衣服")
    assert handler.handle(chat, handler.match(chat)) is NOTHING


def test_a_report_that_mentions_the_bot_is_a_report_not_a_question() -> None:
    handler = room(Reports(CASE_OPENED))
    msg = message(f"@平安助手 {KNIFE}", mentions_bot=True)
    assert handler.handle(msg, handler.match(msg)) is CASE_OPENED


def test_an_officer_mentioning_the_bot_gets_the_help() -> None:
    handler = room(Reports(CASE_OPENED))
    msg = message("@平安助手 你好", sender="李警官", mentions_bot=True)
    assert handler.handle(msg, handler.match(msg)).outcome.sends[0].text == HELP_TEXT


def test_without_the_cases_family_nothing_is_reported() -> None:
    handler = room(None)
    msg = message(KNIFE)
    assert handler.handle(msg, handler.match(msg)) is NOTHING


def test_messages_outside_the_school_rooms_are_not_the_guard_posts() -> None:
    handler = room(Reports(CASE_OPENED))
    assert handler.match(message("到岗", room="官园社区警民联系群1")) is None
    assert handler.match(message("到岗", room=None)) is None


# -- the whole bot, with the cases family -----------------------------------------------------

DAY_END = "2026-03-02T21:00:00+08:00"  # before the evening shift, whose messages are not these tests'


def test_a_knife_fight_at_the_school_gate_gets_110_and_reaches_the_schools_officer(run_events, tmp_path) -> None:
    db = tmp_path / "guard.db"
    transcript = run_events(say("2026-03-02 16:30", "张老师", KNIFE), end=DAY_END, db_path=db)
    replies = in_room(transcript, YC1Z)
    assert "110" in replies[0]["text"] and replies[0]["mentions"] == ["张老师"]
    notice = to_contact(transcript, "李警官")[0]["text"]
    assert "【新警情】#1" in notice and "宜春一中" in notice and KNIFE in notice
    with sqlite3.connect(db) as conn:
        assert conn.execute("select room, community, officer from cases").fetchall() == [(YC1Z, "宜春一中", "李警官")]


def test_guard_post_words_keep_their_meaning_and_chat_is_left_alone(run_events, tmp_path) -> None:
    db = tmp_path / "guard.db"
    transcript = run_events(
        say("2026-03-02 16:00", "王老师", "值班表") + say("2026-03-02 16:05", "王老师", "今天降温了，大家值班多穿点衣服"),
        end=DAY_END,
        db_path=db,
    )
    assert [m["at"][11:16] for m in in_room(transcript, YC1Z)] == ["16:00"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from cases").fetchone()[0] == 0
