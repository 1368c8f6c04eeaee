"""Every bad officer command gets one line saying what is wrong and what to type;
nothing changes and nothing raises."""
from __future__ import annotations

import logging

import pytest
import sqlite_utils

from tests.support import sent_at, only, report, say, to

BAD = [
    ("认领", "缺少案件编号"),
    ("认领 abc", "应为数字"),
    ("认领 -3", "正整数"),
    ("认领 99999999999999999999", "核对编号"),
    ("认领 999", "没有找到案件#999"),
    ("认领 0", "没有找到案件#0"),
    ("认领 1 2", "多了"),
    ("认领 1 马上去", "多了"),
    ("详情", "缺少案件编号"),
    ("详情 x", "应为数字"),
    ("详情 1 abc", "页码"),
    ("详情 999", "没有找到"),
    ("办结", "缺少案件编号"),
    ("办结 1", "办结结果"),
    ("办结 1 好了", "办结结果只能是"),
    ("办结 -1 已处置", "正整数"),
    ("办结 999 已处置", "没有找到"),
    ("误报", "缺少案件编号"),
    ("误报 1 真的是误报", "多了"),
    ("误报 #999", "没有找到"),
    ("转办", "缺少案件编号"),
    ("转办 1", "转给哪位民警"),
    ("转办 1 王警官", "没有名为“王警官”的民警"),
    ("转办 1 陈警官 李警官", "只能转给一位民警"),
    ("转办 abc 陈警官", "应为数字"),
    ("回访", "缺少案件编号"),
    ("回访 1", "回访结果"),
    ("回访 1 很好", "回访结果只能是"),
    ("回访 1 无反弹", "待认领"),
    ("改类", "缺少案件编号"),
    ("改类 1", "改为哪一类"),
    ("改类 1 打架", "没有“打架”这一类"),
    ("改类 999 交通安全", "没有找到"),
    ("改类 1 矛盾纠纷", "已是矛盾纠纷"),
    ("统计 2026-13", "2026-03"),
    ("统计 上个月", "2026-03"),
    ("待办 abc", "页码"),
    ("待办 0", "页码"),
    ("帮助 我", "不用写别的"),
    ("进度", "缺少案件编号"),
    ("进度 999", "没有找到"),
]


@pytest.mark.parametrize("text,expected", BAD, ids=[b[0] for b in BAD])
def test_bad_command_gets_one_line_and_changes_nothing(run_day, tmp_path, caplog, text, expected):
    db = tmp_path / "c.db"
    transcript = run_day(report("09:15") + say("09:16", "李警官", text), end="2026-03-02T09:20:00+08:00", db_path=db)
    reply = only(to(sent_at(transcript, "09:16"), "李警官"))["text"]
    assert expected in reply
    assert "\n" not in reply and len(reply) <= 80
    assert not [r for r in caplog.records if r.exc_info], "a handler raised"
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    row = sqlite_utils.Database(db)["cases"].get(1)
    assert (row["status"], row["officer"], row["claimed_by"]) == ("待认领", "李警官", None)
    assert [e["kind"] for e in sqlite_utils.Database(db)["case_events"].rows] == ["opened", "notified"]


def test_a_bad_command_in_the_officers_room_is_answered_there(run_day):
    transcript = run_day(say("09:16", "陈警官", "认领 abc", room="官园派出所工作群"))
    reply = only(transcript)
    assert reply["room"] == "官园派出所工作群" and reply["mentions"] == ["陈警官"] and "应为数字" in reply["text"]


@pytest.mark.parametrize(
    "text,expected",
    [
        ("认领 12", ("认领", 12, None)),
        ("认领＃１２", ("认领", 12, None)),
        ("@平安助手\u2005认领　#12", ("认领", 12, None)),
        ("认领 #0012", ("认领", 12, None)),
        ("办结 12 调解不成功，转诉讼", ("办结", 12, "调解不成")),
        ("办结12调解成功", ("办结", 12, "调解成功")),
        ("回访 ＃３ 没有反弹", ("回访", 3, "无反弹")),
        ("转办 12 给 @陈警官", ("转办", 12, None)),
    ],
)
def test_parser_reads_phone_keyboard_forms(text, expected):
    from handlers.cases.commands import parse

    _, command = parse(text)
    assert (command.name, command.case_id, command.outcome) == expected
    if command.name == "转办":
        assert command.officer == "陈警官"


def test_admin_acts_on_every_station(tmp_path, rules_only):
    from tests.support import run_with_config

    events = report("09:15") + say("09:16", "钱所长", "认领 1") + say("09:17", "钱所长", "待办")
    transcript = run_with_config(tmp_path, rules_only, events, ('name = "钱所长"\nstation = "xiujiang"\nrole = "leader"', 'name = "钱所长"\nstation = "xiujiang"\nrole = "admin"'))
    assert only(to(sent_at(transcript, "09:16"), "钱所长"))["text"].startswith("已认领#1")
    assert only(to(sent_at(transcript, "09:17"), "钱所长"))["text"].startswith("全部待办（共1件）")
