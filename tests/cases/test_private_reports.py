"""Residents writing to the bot privately are answered (SPEC.md "Private messages from residents")."""
from __future__ import annotations

import sqlite3

from tests.support import DISPUTE, GROUP1, GROUP2, ROOM, XIAPU, in_room, only, say, texts, to


def test_a_private_fire_gets_119_at_once_and_is_asked_for_its_community(run_day) -> None:
    transcript = run_day(say("20:00", "赵大爷", "救命！我家着火了"))
    replies = to(transcript, "赵大爷")
    assert "119" in replies[0]["text"]
    assert "哪个社区" in replies[1]["text"]


def test_a_private_report_naming_its_community_reaches_that_officer_and_is_acknowledged_privately(run_day, tmp_path) -> None:
    db = tmp_path / "private.db"
    transcript = run_day(say("10:00", "赵大爷", "举报 官园社区 三栋楼下两个人吵起来了，快打架了"), db_path=db)
    assert in_room(transcript, GROUP1) == []  # the group need not know who reported
    assert "已登记为#1" in to(transcript, "赵大爷")[-1]["text"]
    notice = to(transcript, "李警官")[0]["text"]
    assert "【新警情】#1" in notice and "赵大爷" in notice and "三栋楼下两个人吵起来了" in notice
    with sqlite3.connect(db) as conn:
        assert conn.execute("select room, reporter from cases").fetchall() == [(GROUP1, "赵大爷")]


def test_anything_else_gets_the_short_help(run_day) -> None:
    transcript = run_day(say("10:00", "赵大爷", "你好，请问派出所几点上班"))
    (reply,) = to(transcript, "赵大爷")
    assert "举报 社区名 情况" in reply["text"] and "110" in reply["text"]


def test_a_bare_report_asks_what_happened_and_opens_nothing(run_day, tmp_path) -> None:
    db = tmp_path / "bare.db"
    transcript = run_day(say("10:00", "赵大爷", "@平安助手 举报", GROUP1, mentions=("平安助手",)), db_path=db)
    (reply,) = in_room(transcript, GROUP1)
    assert "请说明发生了什么、在哪里" in reply["text"] and reply["mentions"] == ["赵大爷"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from cases").fetchone()[0] == 0


def test_an_officer_command_in_a_contact_group_gets_a_private_hint(run_day) -> None:
    transcript = run_day(say("09:00", "张大妈", "楼下两个人吵起来了，快打架了", GROUP1) + say("09:05", "李警官", "@平安助手 认领 1", GROUP1, mentions=("平安助手",)))
    hints = [m["text"] for m in to(transcript, "李警官") if "民警命令请私聊我" in m["text"]]
    assert hints == ["民警命令请私聊我或在派出所工作群发送，例如：认领 1。群里发的命令不会执行。"]


def test_a_bare_private_report_asks_what_happened(run_day) -> None:
    transcript = run_day(say("10:00", "赵大爷", "举报"))
    (reply,) = to(transcript, "赵大爷")
    assert "请说明发生了什么、在哪里" in reply["text"]


def test_explicit_reports_from_two_residents_are_each_acknowledged_when_they_merge(run_day) -> None:
    text = "举报 三栋楼下两个人吵起来了，快打架了"
    transcript = run_day(say("09:00", "张大妈", text, GROUP1) + say("09:05", "王大爷", text, GROUP1) + say("09:06", "王大爷", text, GROUP1))
    acks = [m["mentions"] for m in in_room(transcript, GROUP1) if "已登记为#1" in m["text"]]
    assert acks == [["张大妈"], ["王大爷"]]  # once each, however often they repeat it
    assert len([m for m in to(transcript, "李警官") if "【新警情】" in m["text"]]) == 1


# ---- routed by the sender's contact group (the transport says which rooms they are in) ----

def test_a_private_report_from_a_member_of_one_group_reaches_that_groups_officer(run_day, tmp_path) -> None:
    db = tmp_path / "home.db"
    transcript = run_day(say("10:00", "赵大爷", DISPUTE, member_of=(GROUP1, ROOM)), db_path=db)  # ROOM: not a contact group
    assert in_room(transcript, GROUP1) == []  # the group need not know who reported
    (ack,) = to(transcript, "赵大爷")
    assert "已登记为#1" in ack["text"] and "李警官" in ack["text"]
    (notice,) = [m for m in to(transcript, "李警官") if "【新警情】" in m["text"]]  # reminders follow
    assert "【新警情】#1" in notice["text"] and "赵大爷" in notice["text"] and DISPUTE in notice["text"]
    assert to(transcript, "陈警官") == []
    with sqlite3.connect(db) as conn:
        assert conn.execute("select room, room_id, community, officer, reporter from cases").fetchall() == [
            (GROUP1, None, "官园社区", "李警官", "赵大爷")]


def test_an_urgent_private_report_gets_the_emergency_reply_first_then_the_case(run_day) -> None:
    transcript = run_day(say("20:00", "赵大爷", "救命！我家着火了", member_of=(GROUP2,)))
    replies = texts(to(transcript, "赵大爷"))
    assert "119" in replies[0] and "已登记为#1" in replies[1]
    assert "【新警情】#1" in to(transcript, "陈警官")[0]["text"]


def test_an_explicit_private_report_without_a_community_goes_to_the_members_group(run_day) -> None:
    transcript = run_day(say("10:00", "赵大爷", "举报 小区门口天天有人占道摆摊", member_of=(XIAPU,)))
    assert "已登记为#1" in to(transcript, "赵大爷")[0]["text"]
    assert "【新警情】#1" in to(transcript, "孙警官")[0]["text"]


def test_a_private_report_from_a_member_of_several_groups_is_asked_its_community(run_day, tmp_path) -> None:
    db = tmp_path / "several.db"
    transcript = run_day(say("10:00", "赵大爷", DISPUTE, member_of=(GROUP1, GROUP2)), db_path=db)
    (reply,) = to(transcript, "赵大爷")
    assert "哪个社区" in reply["text"]
    assert to(transcript, "李警官") == [] and to(transcript, "陈警官") == []
    with sqlite3.connect(db) as conn:
        assert conn.execute("select count(*) from cases").fetchone()[0] == 0


def test_a_private_report_from_a_member_of_no_group_is_asked_its_community(run_day) -> None:
    transcript = run_day(say("10:00", "赵大爷", DISPUTE, member_of=(ROOM,)))
    (reply,) = to(transcript, "赵大爷")
    assert "哪个社区" in reply["text"]
    assert to(transcript, "李警官") == []


def test_two_rooms_with_the_groups_topic_do_not_count_as_one_group(run_day) -> None:
    transcript = run_day(say("10:00", "赵大爷", DISPUTE, member_of=(GROUP1, GROUP1)))
    assert "哪个社区" in only(to(transcript, "赵大爷"))["text"]


def test_the_community_a_private_report_names_wins_over_the_senders_group(run_day) -> None:
    transcript = run_day(say("10:00", "赵大爷", "举报 秀江社区 三栋楼下两个人吵起来了，快打架了", member_of=(GROUP1,)))
    assert "【新警情】#1" in to(transcript, "陈警官")[0]["text"]
    assert to(transcript, "李警官") == []


def test_ordinary_private_chat_from_a_member_still_gets_the_help(run_day) -> None:
    transcript = run_day(say("10:00", "赵大爷", "你好，请问派出所几点上班", member_of=(GROUP1,)))
    assert "举报 社区名 情况" in only(to(transcript, "赵大爷"))["text"]


def test_a_private_report_does_not_join_the_groups_case_it_was_not_said_there(run_day, tmp_path) -> None:
    # As a report naming its community: its own case and notice (the officer reads
    # what the resident wrote privately), merged only with that group's private reports.
    db = tmp_path / "join.db"
    transcript = run_day(say("09:00", "张大妈", DISPUTE, GROUP1) + say("09:05", "赵大爷", "举报 三栋楼下有人吵架要打起来了", member_of=(GROUP1,))
                         + say("09:10", "钱阿姨", "举报 三栋楼下有人吵架要打起来了", member_of=(GROUP1,)), db_path=db)
    assert len([m for m in to(transcript, "李警官") if "【新警情】" in m["text"]]) == 2
    assert "已登记为#2" in to(transcript, "赵大爷")[0]["text"] and "已登记为#2" in to(transcript, "钱阿姨")[0]["text"]
    with sqlite3.connect(db) as conn:
        assert conn.execute("select id, room, room_id, message_count from cases order by id").fetchall() == [
            (1, GROUP1, GROUP1, 1), (2, GROUP1, None, 2)]


def test_a_scenario_file_names_the_rooms_a_private_sender_is_in(tmp_path) -> None:
    from bot.run.scenario import load_scenario

    path = tmp_path / "s.toml"
    path.write_text(
        'config = "pingan.toml"\nstart = 2026-03-02T06:00:00+08:00\nend = 2026-03-02T21:00:00+08:00\n'
        f'[[events]]\nat = 2026-03-02T10:00:00+08:00\nfrom = "赵大爷"\ntext = "{DISPUTE}"\nmember_of = ["{GROUP1}"]\n',
        encoding="utf-8")
    assert load_scenario(path).events[0].member_of == (GROUP1,)
