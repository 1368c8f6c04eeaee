"""Identity on the simulator (SPEC.md "Identity"): who may act is decided by the
sender's id, never by the name shown; notices go to bound ids; replies to the room
id they answer."""
from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

from storage import people as people_store
from storage.db import Database
from tests.support import GROUP1, ROOM, in_room, only, report, restart, run_inline, sent_at, say, t, to

FIRE = "三楼楼道里着火了，冒了好多烟"


def invite(db_path: Path, name: str, code: str, made: str = "08:00", valid_hours: int = 24) -> None:
    """What `pingan invite` leaves in the database: a code for `name`."""

    async def write() -> None:
        db = Database(db_path)
        await db.open()
        made_at = datetime.fromisoformat(t(made))
        await db.write(lambda d: people_store.add_invite(d, name, code, made_at, made_at + timedelta(hours=valid_hours)))
        await db.close()

    asyncio.run(write())


def status(db_path: Path, case_id: int = 1) -> str:
    with sqlite3.connect(db_path) as conn:
        return conn.execute("select status from cases where id = ?", [case_id]).fetchone()[0]


def test_an_impostor_of_a_bound_officer_is_refused_and_the_leader_told(run_day, tmp_path):
    db = tmp_path / "i.db"
    transcript = run_day(report("09:00") + say("09:05", "李警官", "认领 1", sender_id="wx-impostor"), db_path=db)
    refusal = only([m for m in sent_at(transcript, "09:05") if m.get("contact_id") == "wx-impostor"])
    assert "仅供社区民警使用" in refusal["text"]
    alert = only(sent_at(to(transcript, "王所长"), "09:05"))["text"]
    assert alert.startswith("【身份提醒】") and "wx-impostor" in alert and "认领 1" in alert
    assert status(db) == "待认领"
    # The real officer's notice went to the real officer only, never to the impostor.
    assert [m for m in transcript if m.get("contact_id") == "wx-impostor" and "张大妈" in m["text"]] == []


def test_binding_by_code_moves_notices_and_commands_to_the_bound_id_across_a_restart(run_day, tmp_path):
    db = tmp_path / "b.db"
    invite(db, "李警官", "123456")
    transcript = run_day(
        say("09:00", "老李", "绑定 123456", sender_id="wx-li")
        + restart("09:05")
        + report("09:10")
        + say("09:20", "李警官", "认领 1")  # the name alone no longer makes an officer
        + say("09:21", "老李", "认领 1", sender_id="wx-li"),
        db_path=db,
    )
    assert only(sent_at(transcript, "09:00"))["text"].startswith("绑定成功：此微信号已绑定为李警官")
    notice = only([m for m in sent_at(transcript, "09:10") if m.get("contact") == "李警官"])
    assert notice.get("contact_id") == "wx-li" and "【新警情】#1" in notice["text"]
    assert "【身份提醒】" in only(sent_at(to(transcript, "王所长"), "09:20"))["text"]
    assert only([m for m in sent_at(transcript, "09:21") if m.get("contact_id") == "wx-li"])["text"].startswith("已认领#1")
    assert status(db) == "处理中"


def test_a_code_works_once_and_wrong_codes_are_limited(run_day, tmp_path):
    db = tmp_path / "c.db"
    invite(db, "陈警官", "654321")
    wrong = sum((say(f"09:0{i}", "某人", f"绑定 00000{i}", sender_id="wx-guess") for i in range(6)), [])
    transcript = run_day(
        say("08:30", "陈警官", "绑定 654321", sender_id="wx-chen")
        + say("08:40", "别人", "绑定 654321", sender_id="wx-other")
        + wrong
        + say("09:30", "某人", "绑定 12", sender_id="wx-guess"),
        db_path=db,
    )
    assert only(sent_at(transcript, "08:30"))["text"].startswith("绑定成功")
    assert "已用过" in only(sent_at(transcript, "08:40"))["text"]
    replies = [only(sent_at(transcript, f"09:0{i}"))["text"] for i in range(6)]
    assert all("无效" in r for r in replies[:5]) and "次数过多" in replies[5]
    assert "六位数字" in only(sent_at(transcript, "09:30"))["text"]


def test_an_expired_code_binds_nobody(run_day, tmp_path):
    db = tmp_path / "e.db"
    invite(db, "陈警官", "111111", made="06:00", valid_hours=1)
    transcript = run_day(say("08:00", "陈警官", "绑定 111111", sender_id="wx-chen"), db_path=db)
    assert "过期" in only(transcript)["text"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from bindings").fetchone()[0] == 0


def test_an_unbound_officers_notice_goes_to_the_officers_room_without_reporter_or_text(rules_only, tmp_path):
    transcript = run_inline(
        rules_only, report("09:00") + say("09:05", "李警官", "认领 1"), directory=tmp_path, end="2026-03-02T09:30:00+08:00", bind_by_name=False
    )
    assert not [m for m in to(transcript, "李警官") if "#1" in m["text"]]  # nothing private before binding
    notice = only([m for m in in_room(transcript, ROOM) if "#1" in m["text"]])["text"]
    assert notice.startswith("【新警情】#1") and "李警官尚未绑定微信" in notice
    assert "张大妈" not in notice and "吵起来" not in notice
    assert "尚未绑定" in only(sent_at(transcript, "09:05"))["text"]  # the command is refused with how to bind


def test_a_resident_named_like_the_bot_or_an_officer_is_answered_as_a_resident(run_day):
    transcript = run_day(say("09:00", "平安助手", FIRE, GROUP1, sender_id="wx-resident") + say("09:10", "李警官", "楼下两个人吵起来了，快打架了", GROUP1, sender_id="wx-other"))
    assert "119" in sent_at(in_room(transcript, GROUP1), "09:00")[0]["text"]
    # The second one is a resident's report (an officer's own messages are never reports).
    assert only(sent_at(to(transcript, "李警官"), "09:10"))["text"].startswith("【新警情】#2")


def test_a_room_with_a_copied_topic_gets_its_own_case_and_its_own_urgent_reply(run_day, tmp_path):
    db = tmp_path / "r.db"
    transcript = run_day(say("09:00", "张大妈", FIRE, GROUP1) + say("09:02", "钱先生", FIRE, GROUP1, room_id="copied-room"), db_path=db)
    second = sent_at(transcript, "09:02")
    urgent = [m for m in second if "119" in m["text"]]
    assert only(urgent).get("room_id") == "copied-room"
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from cases").fetchone()[0] == 2  # not merged across rooms


def test_a_resident_named_like_an_officer_is_answered_privately_at_their_own_id(run_day):
    """Private replies go to the id that wrote, never to the officer whose name it shows
    (the officer used to get a stranger's 119 reply, and the resident nothing)."""
    transcript = run_day(
        say("09:00", "李警官", "救命！我家着火了", sender_id="wx-resident")
        + say("09:10", "李警官", "举报 官园社区 小区门口天天有人占道摆摊", sender_id="wx-resident")
        + say("09:20", "李警官", "你好", sender_id="wx-resident")
    )
    replies = [m for m in transcript if m.get("contact") == "李警官" and m.get("contact_id") == "wx-resident"]
    assert "119" in sent_at(replies, "09:00")[0]["text"]
    assert any("已登记为#1" in m["text"] for m in sent_at(replies, "09:10"))  # the private acknowledgement
    assert only(sent_at(replies, "09:20"))["text"].startswith("您好，这里是平安群助手")
    # The real officer (bound by name on the simulator) hears only of the case (its
    # notice, and later its reminders): none of the resident's replies.
    to_officer = [m for m in to(transcript, "李警官") if m.get("contact_id") != "wx-resident"]
    assert to_officer[0]["text"].startswith("【新警情】#1")
    assert all(m["text"].startswith("【") and "#1" in m["text"] for m in to_officer), to_officer
