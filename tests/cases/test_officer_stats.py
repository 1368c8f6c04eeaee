"""`统计`: the month's figures (SPEC.md "Monthly briefing"), and the storage that the
monthly briefing reuses."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlite_utils

from storage import cases as cs
from storage import followups as fs
from storage.migrations import apply_migrations
from storage.stats import monthly_figures, noisy_keywords, percent
from tests.support import GROUP1, GROUP2, KNIFE, XIAPU, sent_at, only, report, say, to  # noqa: F401

CST = timezone(timedelta(hours=8))


def test_percent_has_two_decimals_and_rounds_half_up():
    assert percent(626, 628) == "99.68%"
    assert percent(1, 8) == "12.50%"
    assert percent(1, 3) == "33.33%"
    assert percent(2, 3) == "66.67%"
    assert percent(1, 1) == "100.00%"
    assert percent(0, 0) == "—"


def _db(tmp_path) -> sqlite_utils.Database:
    db = sqlite_utils.Database(memory=True)
    apply_migrations(db)
    return db


def _open(db, when: datetime, category: str = "dispute", room: str = GROUP1, community: str = "官园社区", station: str = "guanyuan", keywords=("吵架",)) -> cs.Case:
    return cs.open_case(
        db, at=when, room=room, community=community, station=station, officer="李警官", category=category, severity="high",
        reporter="张大妈", text="吵架了", keywords=keywords, rules=(), explicit=False,
    )


def test_mediation_rate_626_of_628_with_false_positives_excluded(tmp_path):
    db = _db(tmp_path)
    start = datetime(2026, 3, 1, 8, 0, tzinfo=CST)
    with db.conn:
        for i in range(628):
            case = _open(db, start + timedelta(minutes=i))
            cs.claim(db, case.id, "李警官", case.opened_at)
            cs.resolve(db, case.id, cs.MEDIATED if i < 626 else cs.NOT_MEDIATED, "", "李警官", case.opened_at)
        for i in range(5):  # false positives count neither way
            cs.mark_false_positive(db, _open(db, start + timedelta(hours=20, minutes=i)), "李警官", start)
        _open(db, datetime(2026, 2, 28, 23, 59, tzinfo=CST))  # previous month (local time)
        _open(db, datetime(2026, 4, 1, 0, 0, tzinfo=CST))  # next month
        _open(db, start, station="xiujiang", room=XIAPU, community="下浦社区")  # another station
    figures = monthly_figures(db, stations=("guanyuan",), year=2026, month=3, tz=CST, now=datetime(2026, 4, 1, 9, tzinfo=CST), overdue_days=3)
    assert (figures.disputes_mediated, figures.disputes_received, figures.mediation_rate) == (626, 628, "99.68%")
    assert figures.received == 628 and figures.resolved == 628 and figures.open == 0
    assert figures.false_positives == {"dispute": (5, 633)}
    assert figures.noisy_keywords == [("吵架", 5)]


def test_followups_done_and_overdue_in_the_month(tmp_path):
    db = _db(tmp_path)
    with db.conn:
        case = _open(db, datetime(2026, 3, 2, 9, tzinfo=CST))
        visits = fs.plan(db, case.id, [datetime(2026, 3, 9, 9, tzinfo=CST), datetime(2026, 3, 20, 9, tzinfo=CST), datetime(2026, 3, 30, 9, tzinfo=CST)])
        fs.record(db, visits[0].id, "无反弹", "", "李警官", datetime(2026, 3, 9, 10, tzinfo=CST))
    # 3-20's deadline (3-23) passed unrecorded; 3-30's (4-02) is next month's business.
    figures = monthly_figures(db, stations=("guanyuan",), year=2026, month=3, tz=CST, now=datetime(2026, 4, 1, 9, tzinfo=CST), overdue_days=3)
    assert (figures.followups_done, figures.followups_overdue) == (1, 1)


def test_stats_command_shows_the_month_to_an_officer(run_day):
    events = (
        report("09:00")
        + report("09:05", "吴先生", KNIFE, GROUP2)
        + report("09:10", "刘阿姨", "小区里有人卖假药骗老人", GROUP2)
        + say("09:20", "李警官", "认领 1")
        + say("09:30", "李警官", "办结 1 调解成功")
        + say("09:31", "陈警官", "认领 2")
        + say("09:32", "陈警官", "办结 2 调解不成 转诉讼")
        + say("09:33", "陈警官", "误报 3")
        + report("09:40", "孙大爷", "楼下两个人吵起来了，快打架了", XIAPU)  # another station
        + say("10:00", "李警官", "统计")
        + say("10:01", "钱所长", "统计 2026-03")
        + say("10:02", "王所长", "统计 2026-02")
    )
    transcript = run_day(events, end="2026-03-02T10:30:00+08:00")
    text = only(sent_at(to(transcript, "李警官"), "10:00"))["text"]
    lines = text.splitlines()
    assert lines[0] == "【官园派出所 2026年3月统计】"
    assert "受理2件：矛盾纠纷2" in text
    assert "按社区：官园社区1、秀江社区1" in text
    assert "已办结2件，未结0件" in text
    assert "调处率：50.00%（1/2）" in text
    assert "回访：完成0次，逾期0次" in text
    assert "误报率：防诈骗100.00%（1/1）" in text
    assert "误报最多的词：骗（1）" in text
    assert len(text) < 500
    other = only(sent_at(to(transcript, "钱所长"), "10:01"))["text"]
    assert other.startswith("【秀江派出所 2026年3月统计】") and "受理1件" in other and "未结1件" in other
    february = only(sent_at(to(transcript, "王所长"), "10:02"))["text"]
    assert "受理0件" in february and "调处率：—" in february


def test_noisy_keywords_rank_words_by_false_positives(tmp_path):
    db = _db(tmp_path)
    when = datetime(2026, 3, 2, 9, tzinfo=CST)
    with db.conn:
        for words in (("打架",), ("打架", "吵架"), ("砍",)):
            cs.mark_false_positive(db, _open(db, when, keywords=words), "李警官", when)
        _open(db, when, keywords=("打架",))
    assert noisy_keywords(db) == [("打架", 2), ("吵架", 1), ("砍", 1)]


def test_stats_shows_guard_post_attendance_of_the_stations_schools(run_events):
    school = "宜春一中护学岗工作群"
    events = (
        say("10:00", "李警官", "统计")
        + say("21:20", "张老师", "到岗", room=school)  # on time; 刘师傅 never comes
        + say("22:30", "李警官", "统计")
        + say("22:31", "钱所长", "统计")  # 秀江派出所 has no school
    )
    transcript = run_events(events)
    assert "护学岗到岗率：—（本月无班次记录）" in only(sent_at(to(transcript, "李警官"), "10:00"))["text"]
    assert "护学岗到岗率：宜春一中50.00%（1/2）" in only(sent_at(to(transcript, "李警官"), "22:30"))["text"]
    assert "护学岗" not in only(sent_at(to(transcript, "钱所长"), "22:31"))["text"]


def test_figures_survive_the_round_trip_through_json(tmp_path):
    from storage.stats import Attendance, MonthlyFigures

    db = _db(tmp_path)
    with db.conn:
        case = _open(db, datetime(2026, 3, 2, 9, tzinfo=CST))
        cs.mark_false_positive(db, _open(db, datetime(2026, 3, 2, 10, tzinfo=CST), category="fraud", keywords=("骗",)), "李警官", datetime(2026, 3, 2, 11, tzinfo=CST))
        cs.claim(db, case.id, "李警官", case.opened_at)
    figures = monthly_figures(db, stations=("guanyuan",), year=2026, month=3, tz=CST, now=datetime(2026, 4, 1, 9, tzinfo=CST), overdue_days=3, school_ids=("yc1z",))
    assert figures.attendance == Attendance(0, 0) and figures.attendance_by_school == {"yc1z": Attendance(0, 0)}
    assert MonthlyFigures.from_json(figures.to_json()) == figures


def test_suspected_reports_confirmed_dismissed_and_pending(tmp_path):
    from handlers.cases.month_text import figure_lines

    db = _db(tmp_path)
    when = datetime(2026, 3, 2, 9, tzinfo=CST)

    def suspected() -> cs.Case:
        return cs.open_case(
            db, at=when, room=GROUP1, community="官园社区", station="guanyuan", officer="李警官", category="dispute", severity="normal",
            reporter="张大妈", text="他们又在楼道里闹", keywords=("闹",), rules=(cs.SUSPECTED_RULE,), explicit=False, status=cs.UNVERIFIED,
        )

    with db.conn:
        cs.verify(db, suspected().id, "李警官", when)
        cs.verify(db, suspected().id, "李警官", when)
        cs.mark_false_positive(db, suspected(), "李警官", when)
        suspected()
        _open(db, when)  # an ordinary report is not counted as suspected
    figures = monthly_figures(db, stations=("guanyuan",), year=2026, month=3, tz=CST, now=datetime(2026, 4, 1, 9, tzinfo=CST), overdue_days=3)
    assert (figures.suspected_confirmed, figures.suspected_dismissed, figures.suspected_pending) == (2, 1, 1)
    assert "疑似警情4件：核实2件，误报1件，待核实1件" in figure_lines(figures, {})
