"""Frozen months (storage/months.py): the figures a briefing sent stay as sent, and
change only by corrections (反弹, 改类, 误报) recorded after the freeze."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import sqlite_utils

from storage import cases as cs
from storage import corrections, months
from storage.migrations import apply_migrations
from storage.stats import month_case_facts, monthly_figures

CST = timezone(timedelta(hours=8))
MARCH = datetime(2026, 3, 2, 9, tzinfo=CST)
APRIL = datetime(2026, 4, 2, 9, tzinfo=CST)


def db_with_march() -> sqlite_utils.Database:
    db = sqlite_utils.Database(memory=True)
    apply_migrations(db)
    with db.conn:
        for i, (category, outcome) in enumerate([("dispute", cs.MEDIATED), ("dispute", cs.MEDIATED), ("dispute", cs.HANDLED), ("fraud", None)]):
            case = cs.open_case(
                db, at=MARCH + timedelta(hours=i), room="官园社区警民联系群1", community="官园社区", station="guanyuan", officer="李警官",
                category=category, severity="high", reporter="张大妈", text="吵架了", keywords=("吵架",), rules=(), explicit=False,
            )
            if outcome:
                cs.claim(db, case.id, "李警官", MARCH)
                cs.resolve(db, case.id, outcome, "", "李警官", MARCH)
    return db


def freeze_march(db: sqlite_utils.Database) -> None:
    facts = month_case_facts(db, stations=("guanyuan",), year=2026, month=3, tz=CST)
    figures = monthly_figures(db, stations=("guanyuan",), year=2026, month=3, tz=CST, now=APRIL, overdue_days=3, facts=facts)
    with db.conn:
        months.freeze(db, "guanyuan", figures, facts, APRIL)


def test_changes_before_the_briefing_are_no_corrections():
    db = db_with_march()
    with db.conn:
        cs.reclassify(db, cs.get_case(db, 3), "security", "王所长", MARCH)
    assert list(db["month_corrections"].rows) == []
    freeze_march(db)
    assert months.frozen_month(db, "guanyuan", "2026-03").sent.by_category == {"dispute": 2, "fraud": 1, "security": 1}


def test_corrections_after_the_briefing_change_the_month_only_through_them():
    db = db_with_march()
    freeze_march(db)
    with db.conn:
        cs.reopen(db, 1, "李警官", APRIL, "又吵了")  # 反弹
        cs.reclassify(db, cs.get_case(db, 3), "security", "王所长", APRIL)  # the knife attack
        cs.mark_false_positive(db, cs.get_case(db, 4), "李警官", APRIL)  # open at the briefing, 误报 later
        cs.claim(db, 2, "李警官", APRIL)  # any other change to a counted case leaves the month alone
    month = months.frozen_month(db, "guanyuan", "2026-03")
    assert (month.sent.disputes_mediated, month.sent.disputes_received, month.sent.received) == (2, 3, 4)
    assert [c.kind for c in month.corrections] == [corrections.REBOUND, corrections.RECLASSIFY, corrections.FALSE_POSITIVE]
    now = month.current
    assert (now.disputes_mediated, now.disputes_received, now.mediation_rate) == (1, 2, "50.00%")
    assert now.by_category == {"dispute": 2, "security": 1} and now.received == 3 and now.open == 1
    assert now.false_positives == {"fraud": (1, 1)}
    assert month.as_reported == month.sent  # nothing reported yet
    assert [m.month for m in months.months_to_correct(db, "guanyuan")] == ["2026-03"]

    with db.conn:
        corrections.mark_reported(db, [c.id for c in month.unreported], "2026-04")
    month = months.frozen_month(db, "guanyuan", "2026-03")
    assert month.as_reported == month.current and month.unreported == ()
    assert months.months_to_correct(db, "guanyuan") == []
    assert months.briefed_month(db, 1) == "2026-03"
