"""`改类 N 类别` (SPEC.md "Officer commands"): a wrong category corrected, audited in
详情, and the month's figures follow."""
from __future__ import annotations

import pytest
import sqlite_utils

from tests.support import GROUP2, KNIFE, only, report, say, sent_at, to

# A knife attack the detector filed as 矛盾纠纷 (as in issue 14), closed as 已处置.
KNIFE_AS_DISPUTE = (
    report("09:00")
    + report("09:05", "吴先生", KNIFE, GROUP2)
    + say("09:20", "李警官", "认领 1")
    + say("09:30", "李警官", "办结 1 调解成功")
    + say("09:31", "陈警官", "认领 2")
    + say("09:32", "陈警官", "办结 2 已处置")
)


def test_a_knife_attack_filed_as_a_dispute_is_corrected_and_the_rate_follows(run_day, tmp_path):
    db = tmp_path / "c.db"
    events = KNIFE_AS_DISPUTE + say("10:00", "王所长", "统计") + say("10:01", "王所长", "改类 2 治安防范") + say("10:02", "王所长", "统计") + say("10:03", "王所长", "详情 2")
    transcript = run_day(events, end="2026-03-02T10:30:00+08:00", db_path=db)
    before = only(sent_at(to(transcript, "王所长"), "10:00"))["text"]
    assert "调处率：50.00%（1/2）" in before and "受理2件：矛盾纠纷2" in before
    reply = only(sent_at(to(transcript, "王所长"), "10:01"))["text"]
    assert reply == "已将#2的类别由矛盾纠纷改为治安防范（已记入档案）。统计随之更新。"
    after = only(sent_at(to(transcript, "王所长"), "10:02"))["text"]
    assert "调处率：100.00%（1/1）" in after and "受理2件：矛盾纠纷1、治安防范1" in after
    detail = only(sent_at(to(transcript, "王所长"), "10:03"))["text"]
    assert detail.startswith("【案件#2】治安防范·紧急 · 已办结")
    assert "10:01 改类 王所长：矛盾纠纷→治安防范" in detail
    row = sqlite_utils.Database(db)["cases"].get(2)
    assert (row["category"], row["status"], row["outcome"]) == ("security", "已办结", "已处置")


def test_an_officer_of_another_station_cannot_reclassify(run_day, tmp_path):
    db = tmp_path / "c.db"
    transcript = run_day(report("09:00") + say("09:05", "孙警官", "改类 1 交通安全"), db_path=db)
    assert only(to(transcript, "孙警官"))["text"] == "#1属于官园派出所，您无权操作。"
    assert sqlite_utils.Database(db)["cases"].get(1)["category"] == "dispute"
    assert "reclassified" not in [e["kind"] for e in sqlite_utils.Database(db)["case_events"].rows_where("case_id = 1")]


@pytest.mark.parametrize(
    "text,category",
    [("改类 2 交通安全", "traffic"), ("改类 #2 交通", "traffic"), ("改类２为治安防范", "security"), ("改类 2 security", "security"), ("改类 2 防诈骗", "fraud")],
)
def test_category_words_officers_type(text, category):
    from handlers.cases.commands import parse

    spec, command = parse(text)
    assert (spec.name, command.case_id, command.category) == ("改类", 2, category)


def test_every_state_may_be_reclassified_even_a_false_positive(run_day, tmp_path):
    db = tmp_path / "c.db"
    events = report("09:00") + say("09:05", "李警官", "误报 1") + say("09:06", "李警官", "改类 1 交通安全")
    transcript = run_day(events, db_path=db)
    assert only(sent_at(to(transcript, "李警官"), "09:06"))["text"].startswith("已将#1的类别由矛盾纠纷改为交通安全")
    assert sqlite_utils.Database(db)["cases"].get(1)["category"] == "traffic"
