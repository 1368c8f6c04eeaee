"""Reports in guard-post groups (SPEC.md): a teacher's report opens a case for the
school's supervising officer; an urgent one gets the emergency reply first; the
guard-post words keep their meaning and ordinary chat is left alone."""
from __future__ import annotations

import sqlite3

from tests.support import in_room, only, say, to  # noqa: F401

SCHOOL_ROOM = "宜春一中护学岗工作群"  # supervising officer 李警官


def test_a_knife_fight_at_the_school_gate_gets_110_and_reaches_the_schools_officer(run_day, tmp_path) -> None:
    db = tmp_path / "guard.db"
    transcript = run_day(say("16:30", "张老师", "校门口有人拿刀打架", SCHOOL_ROOM), db_path=db)
    replies = in_room(transcript, SCHOOL_ROOM)
    assert "110" in replies[0]["text"] and replies[0]["mentions"] == ["张老师"]
    notice = to(transcript, "李警官")[0]["text"]
    assert "【新警情】#1" in notice and "宜春一中" in notice and "校门口有人拿刀打架" in notice
    with sqlite3.connect(db) as conn:
        assert conn.execute("select room, community, officer from cases").fetchall() == [(SCHOOL_ROOM, "宜春一中", "李警官")]


def test_guard_post_words_keep_their_meaning_and_chat_is_left_alone(run_day, tmp_path) -> None:
    db = tmp_path / "guard.db"
    transcript = run_day(
        say("16:00", "王老师", "值班表", SCHOOL_ROOM) + say("16:05", "王老师", "今天降温了，大家值班多穿点衣服", SCHOOL_ROOM),
        db_path=db,
    )
    assert [m["at"][11:16] for m in in_room(transcript, SCHOOL_ROOM)] == ["16:00"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from cases").fetchone()[0] == 0
