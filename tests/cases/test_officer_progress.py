"""`进度 12` and the reporter's one-line feedback in the group (SPEC.md, issue 4 item 7)."""
from __future__ import annotations

from tests.support import GROUP1, GROUP2, sent_at, in_room, only, report, run_with_config, say, to  # noqa: F401


def test_reporter_asks_progress_in_the_group_and_gets_the_state_only(run_day):
    events = (
        report("09:15")
        + say("09:20", "张大妈", "@平安助手 进度 1", GROUP1, ("平安助手",))
        + say("09:30", "李警官", "认领 1")
        + say("09:40", "张大妈", "进度 #1", GROUP1)
    )
    transcript = run_day(events)
    before = only(sent_at(in_room(transcript, GROUP1), "09:20"))
    assert before["mentions"] == ["张大妈"]
    assert before["text"] == "您反映的#1：已转告社区民警，等待民警受理。"
    after = only(sent_at(in_room(transcript, GROUP1), "09:40"))
    assert after["text"] == "您反映的#1：民警已受理，正在处理。"


def test_someone_whose_message_joined_the_case_may_ask_too(run_day):
    events = report("09:15") + report("09:25", "赵大爷", "3栋那两家又在吵架，还推搡起来了") + say("09:30", "赵大爷", "@平安助手 进度 1", GROUP1, ("平安助手",))
    assert "等待民警受理" in only(sent_at(in_room(run_day(events), GROUP1), "09:30"))["text"]


def test_other_residents_and_other_groups_get_no_status(run_day):
    events = (
        report("09:15")
        + say("09:20", "刘阿姨", "@平安助手 进度 1", GROUP1, ("平安助手",))
        + say("09:21", "张大妈", "@平安助手 进度 1", GROUP2, ("平安助手",))
        + say("09:22", "张大妈", "@平安助手 进度 99", GROUP1, ("平安助手",))
        + say("09:23", "张大妈", "@平安助手 进度 abc", GROUP1, ("平安助手",))
    )
    transcript = run_day(events)
    assert only(sent_at(transcript, "09:20"))["text"] == "#1的进度只告知报告人本人。"
    assert only(sent_at(transcript, "09:21"))["text"] == "本群没有#1，请核对编号。"
    assert only(sent_at(transcript, "09:22"))["text"] == "本群没有#99，请核对编号。"
    assert "应为数字" in only(sent_at(transcript, "09:23"))["text"]


def test_chat_about_progress_without_a_mention_is_just_chat(run_day):
    assert run_day(say("09:20", "刘阿姨", "进度太慢了，装修还没完", GROUP1)) == []


def test_officer_may_ask_in_the_group_and_privately(run_day):
    events = report("09:15") + say("09:20", "李警官", "@平安助手 进度 1", GROUP1, ("平安助手",)) + say("09:21", "陈警官", "进度 1")
    transcript = run_day(events)
    assert only(sent_at(in_room(transcript, GROUP1), "09:20"))["text"] == "您反映的#1：已转告社区民警，等待民警受理。"
    private = only(to(transcript, "陈警官"))["text"]
    assert private.startswith("#1 矛盾纠纷·高（官园社区）：待认领，责任民警李警官")


def test_reporter_feedback_is_one_line_without_details(run_day):
    events = report("09:15") + say("09:30", "李警官", "认领 1") + say("10:00", "李警官", "办结 1 调解不成 转诉讼，当事人电话13812345678")
    group = [m for m in in_room(run_day(events), GROUP1) if m["at"] != "2026-03-02T09:15:00+08:00"]
    assert [m["text"] for m in group] == ["您反映的#1已由社区民警李警官受理。", "您反映的#1已办结，感谢您的反映。"]
    assert all(m["mentions"] == ["张大妈"] for m in group)


def test_reporter_feedback_can_be_turned_off(tmp_path, rules_only):
    events = report("09:15") + say("09:30", "李警官", "认领 1") + say("10:00", "李警官", "办结 1 已处置")
    transcript = run_with_config(tmp_path, rules_only, events, ("ack_in_group = true", "ack_in_group = true\nnotify_reporter = false"))
    assert len(in_room(transcript, GROUP1)) == 1  # only the acknowledgement of the report
    assert "已认领#1" in only(sent_at(transcript, "09:30"))["text"]
