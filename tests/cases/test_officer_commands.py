"""Officer commands (SPEC.md "Officer commands", "States"), on the virtual clock:
what the officer, the reporter and the room see."""
from __future__ import annotations

import sqlite_utils

from tests.support import (
    DISPUTE,
    GROUP1,
    GROUP2,
    ROOM,
    XIAPU,
    sent_at,
    in_room,
    only,
    report,
    say,
    to,
)


def status(db_path, case_id: int = 1) -> str:
    return sqlite_utils.Database(db_path)["cases"].get(case_id)["status"]


def test_claim_in_private_replies_privately_tells_reporter_and_stops_escalation(run_day):
    transcript = run_day(report("09:15") + say("09:18", "李警官", "认领 1"))
    reply = only(to(sent_at(transcript, "09:18"), "李警官"))
    assert reply["text"].startswith("已认领#1")
    assert "办结 1" in reply["text"]
    told = only([m for m in in_room(transcript, GROUP1) if m["at"].endswith("09:18:00+08:00")])
    assert told["mentions"] == ["张大妈"]
    assert "#1" in told["text"] and "受理" in told["text"] and "吵" not in told["text"]
    assert "\n" not in told["text"]
    # No reminder and no escalation afterwards.
    assert not [m for m in transcript if "催办" in m["text"] or "超时" in m["text"]]


def test_command_in_officers_room_is_answered_there_with_a_mention(run_day):
    transcript = run_day(report("09:15") + say("09:18", "李警官", "@平安助手 认领 #1", room=ROOM, mentions=("平安助手",)))
    reply = only(in_room(transcript, ROOM))
    assert reply["mentions"] == ["李警官"] and reply["text"].startswith("已认领#1")
    assert not to(sent_at(transcript, "09:18"), "李警官")


def test_case_ids_in_every_form_are_accepted(run_day):
    forms = ["认领 1", "认领 #1", "认领＃１", "认领　＃１", "认领1", "认领 1。"]
    for form in forms:
        transcript = run_day(report("09:15") + say("09:18", "李警官", form))
        assert only(to(sent_at(transcript, "09:18"), "李警官"))["text"].startswith("已认领#1"), form


def test_claim_by_another_officer_is_refused_with_who_has_it(run_day, tmp_path):
    db = tmp_path / "c.db"
    transcript = run_day(report("09:15") + say("09:18", "李警官", "认领 1") + say("09:20", "陈警官", "认领 1"), db_path=db)
    refusal = only(to(transcript, "陈警官"))["text"]
    assert "李警官" in refusal and "处理中" in refusal and "\n" not in refusal
    assert sqlite_utils.Database(db)["cases"].get(1)["officer"] == "李警官"


def test_claiming_twice_says_it_is_already_yours(run_day):
    transcript = run_day(report("09:15") + say("09:18", "李警官", "认领 1") + say("09:19", "李警官", "认领 1"))
    assert only(to(sent_at(transcript, "09:19"), "李警官"))["text"].startswith("您已认领#1")


def test_resolve_before_claim_is_refused_with_the_state_and_next_step(run_day, tmp_path):
    db = tmp_path / "c.db"
    transcript = run_day(report("09:15") + say("09:18", "李警官", "办结 1 已处置"), db_path=db)
    refusal = only(to(sent_at(transcript, "09:18"), "李警官"))["text"]
    assert "待认领" in refusal and "认领 1" in refusal
    assert status(db) == "待认领"


def test_mediated_goes_to_followup_and_tells_reporter_closed(run_day, tmp_path):
    db = tmp_path / "c.db"
    transcript = run_day(report("09:15") + say("09:18", "李警官", "认领 1") + say("11:00", "李警官", "办结 1 调解成功 双方签了协议"), db_path=db)
    reply = only(to(sent_at(transcript, "11:00"), "李警官"))["text"]
    assert reply.startswith("#1已办结：调解成功（双方签了协议）")
    assert "03-09" in reply and "04-01" in reply and "09:00" in reply
    told = only([m for m in in_room(transcript, GROUP1) if m["at"].endswith("11:00:00+08:00")])
    assert told["mentions"] == ["张大妈"] and "已办结" in told["text"] and "协议" not in told["text"]
    assert status(db) == "待回访"


def test_not_mediated_and_handled_close_the_case(run_day, tmp_path):
    db = tmp_path / "c.db"
    events = (
        report("09:15")
        + report("09:20", "吴先生", "举报 小区门口天天有人占道摆摊", GROUP2)
        + say("09:30", "李警官", "认领 1")
        + say("09:31", "陈警官", "认领 2")
        + say("10:00", "李警官", "办结 1 调解不成 转诉讼")
        + say("10:01", "陈警官", "办结 #2 已处置 已清理")
    )
    transcript = run_day(events, db_path=db)
    assert only(to(sent_at(transcript, "10:00"), "李警官"))["text"] == "#1已办结：调解不成（转诉讼）。"
    assert only(to(sent_at(transcript, "10:01"), "陈警官"))["text"] == "#2已办结：已处置（已清理）。"
    rows = {r["id"]: r for r in sqlite_utils.Database(db)["cases"].rows}
    assert (rows[1]["status"], rows[1]["outcome"], rows[1]["outcome_note"]) == ("已办结", "调解不成", "转诉讼")
    assert (rows[2]["status"], rows[2]["outcome"]) == ("已办结", "已处置")


def test_closing_a_closed_case_is_refused(run_day):
    events = report("09:15") + say("09:18", "李警官", "认领 1") + say("10:00", "李警官", "办结 1 已处置") + say("10:05", "李警官", "办结 1 调解成功")
    transcript = run_day(events)
    refusal = only(to(sent_at(transcript, "10:05"), "李警官"))["text"]
    assert "已办结" in refusal and "详情 1" in refusal


def test_false_positive_closes_counts_keywords_and_tells_the_reporter(run_day, tmp_path):
    db = tmp_path / "c.db"
    transcript = run_day(report("09:15") + say("09:20", "李警官", "误报 1"), db_path=db)
    reply = only(to(sent_at(transcript, "09:20"), "李警官"))["text"]
    assert "误报" in reply and "吵起来" in reply and "打架" in reply
    assert status(db) == "误报"
    feedback = sorted(r["keyword"] for r in sqlite_utils.Database(db)["keyword_feedback"].rows)
    assert feedback == ["吵起来", "打架"]
    told = only([m for m in in_room(transcript, GROUP1) if m["at"].endswith("09:20:00+08:00")])
    assert told["mentions"] == ["张大妈"] and "\n" not in told["text"]
    assert not [m for m in transcript if "催办" in m["text"]]


def test_false_positive_of_a_mediated_case_is_refused(run_day, tmp_path):
    db = tmp_path / "c.db"
    events = report("09:15") + say("09:18", "李警官", "认领 1") + say("10:00", "李警官", "办结 1 调解成功") + say("10:05", "王所长", "误报 1")
    transcript = run_day(events, db_path=db)
    assert "待回访" in only(to(sent_at(transcript, "10:05"), "王所长"))["text"]
    assert status(db) == "待回访"


def test_transfer_notifies_the_new_officer_with_a_summary(run_day, tmp_path):
    db = tmp_path / "c.db"
    transcript = run_day(report("09:15") + say("09:16", "王所长", "转办 1 陈警官"), db_path=db)
    assert only(to(sent_at(transcript, "09:16"), "王所长"))["text"] == "已将#1转给陈警官，已私信通知。"
    handover = only(to(sent_at(transcript, "09:16"), "陈警官"))["text"]
    for expected in ("【转办】王所长", "#1", "矛盾纠纷", "官园社区", "张大妈", DISPUTE, "认领 1"):
        assert expected in handover, expected
    # The officer who had it is told it moved.
    assert "转给陈警官" in to(sent_at(transcript, "09:16"), "李警官")[0]["text"]
    assert sqlite_utils.Database(db)["cases"].get(1)["officer"] == "陈警官"


def test_transfer_to_unknown_or_other_station_officer_changes_nothing(run_day, tmp_path):
    db = tmp_path / "c.db"
    events = report("09:15") + say("09:16", "王所长", "转办 1 王警官") + say("09:17", "王所长", "转办 1 孙警官") + say("09:18", "王所长", "转办 1 李警官")
    transcript = run_day(events, db_path=db)
    unknown, other, same = (only(to(sent_at(transcript, m), "王所长"))["text"] for m in ("09:16", "09:17", "09:18"))
    assert "没有名为“王警官”的民警" in unknown and "转办 1" in unknown
    assert "孙警官不属于官园派出所" in other
    assert "已由李警官负责" in same
    assert sqlite_utils.Database(db)["cases"].get(1)["officer"] == "李警官"
    assert not to(transcript, "孙警官")


def test_resident_officer_of_another_station_and_stranger_are_refused(run_day, tmp_path):
    db = tmp_path / "c.db"
    events = (
        report("09:15")
        + say("09:16", "张大妈", "认领 1")
        + say("09:17", "孙警官", "认领 1")
        + say("09:18", "路人甲", "@平安助手 认领 1", room=ROOM, mentions=("平安助手",))
        + say("09:19", "孙警官", "详情 1")
    )
    transcript = run_day(events, db_path=db)
    resident = only(to(transcript, "张大妈"))["text"]
    assert "仅供社区民警使用" in resident
    assert "官园派出所" in only(to(sent_at(transcript, "09:17"), "孙警官"))["text"]
    stranger = only(sent_at(in_room(transcript, ROOM), "09:18"))
    assert stranger["mentions"] == ["路人甲"] and "仅供社区民警使用" in stranger["text"]
    assert "无权" in only(to(sent_at(transcript, "09:19"), "孙警官"))["text"]
    assert status(db) == "待认领"


def test_resident_private_chat_that_is_not_a_command_gets_the_short_help_not_the_refusal(run_day):
    # SPEC.md "Private messages from residents": answered, never ignored.
    (reply,) = run_day(say("09:16", "张大妈", "你好"))
    assert reply["contact"] == "张大妈" and "举报 社区名 情况" in reply["text"] and "仅供社区民警" not in reply["text"]


def test_officers_room_chat_is_not_a_command(run_day):
    transcript = run_day(say("09:16", "李警官", "办结了吗？今天好忙", room=ROOM) + say("09:17", "陈警官", "收到", room=ROOM))
    assert transcript == []


def test_todo_lists_my_open_cases_oldest_first_and_pages_at_ten(run_day):
    # 40 minutes apart, so none joins the one before.
    events = sum((report(f"{6 + (i * 40) // 60:02d}:{(i * 40) % 60:02d}", f"居民{i}") for i in range(12)), [])
    events += say("16:00", "李警官", "待办") + say("16:01", "李警官", "待办 2") + say("16:02", "陈警官", "待办") + say("16:03", "王所长", "待办 3")
    transcript = run_day(events, end="2026-03-02T16:30:00+08:00")
    first = only(to(sent_at(transcript, "16:00"), "李警官"))["text"].splitlines()
    assert first[0] == "您的待办（共12件，第1/2页）："
    assert [line.split()[0] for line in first[1:11]] == [f"#{i}" for i in range(1, 11)]
    assert "待办 2" in first[-1]
    second = only(to(sent_at(transcript, "16:01"), "李警官"))["text"].splitlines()
    assert [line.split()[0] for line in second[1:3]] == ["#11", "#12"]
    assert "没有未结案件" in only(to(transcript, "陈警官"))["text"]
    leader = only(to(sent_at(transcript, "16:03"), "王所长"))["text"]
    assert "只有2页" in leader


def test_detail_shows_messages_events_and_followups(run_day):
    events = (
        report("09:15")
        + report("09:25", "赵大爷", "3栋那两家又在吵架，还推搡起来了")
        + say("09:30", "李警官", "认领 1")
        + say("10:00", "李警官", "办结 1 调解成功")
        + say("10:05", "李警官", "详情 ＃１")
    )
    detail = only(to(sent_at(run_day(events), "10:05"), "李警官"))["text"]
    for expected in ("【案件#1】", "待回访", "张大妈", "赵大爷", DISPUTE, "登记", "并入消息", "认领 李警官", "办结 李警官：调解成功", "— 回访 —", "第1次 03-09 09:00 待回访", "第2次 04-01 09:00"):
        assert expected in detail, expected
    assert len(detail) < 1000


def test_long_detail_is_paged(run_day):
    long_text = "楼下两个人吵起来了，快打架了，" + "吵得很凶" * 40
    events = sum((report(f"09:{10 + i:02d}", f"居民{i}", long_text) for i in range(12)), []) + say("10:00", "李警官", "详情 1") + say("10:01", "李警官", "详情 1 2") + say("10:02", "李警官", "详情 1 9")
    transcript = run_day(events)
    page1 = only(to(sent_at(transcript, "10:00"), "李警官"))["text"]
    page2 = only(to(sent_at(transcript, "10:01"), "李警官"))["text"]
    assert len(page1) <= 800 and "详情 1 2" in page1
    assert page2.startswith("（第2/")
    assert "只有" in only(to(sent_at(transcript, "10:02"), "李警官"))["text"]


def test_help_lists_every_command(run_day):
    text = only(to(run_day(say("09:00", "李警官", "帮助")), "李警官"))["text"]
    for word in ("待办", "详情", "认领", "办结", "误报", "转办", "回访", "统计", "改类", "进度"):
        assert word in text


def test_unknown_private_text_from_an_officer_points_to_help(run_day):
    assert "帮助" in only(run_day(say("09:00", "李警官", "在吗")))["text"]
