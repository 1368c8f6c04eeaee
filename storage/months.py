"""Frozen months (SPEC.md "Monthly briefing"): a month's figures are kept as its
briefing sent them, with the cases they counted, and change afterwards only by
corrections (storage/corrections.py).

`freeze` runs in the briefing's transaction. A frozen month is read back as the
figures sent plus every correction since; `corrected` recounts the case figures
from the kept facts with corrections applied (by storage/stats.py's definitions),
so a later 反弹 or 改类 shows as a correction, while a case still open at the
briefing and resolved later does not rewrite the month (that is next month's work).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Callable, Iterable

import sqlite_utils

from storage import cases as cs
from storage import corrections as corr
from storage.corrections import Correction
from storage.stats import CaseFacts, MonthlyFigures


@dataclass(frozen=True)
class FrozenMonth:
    station: str
    month: str  # 'YYYY-MM'
    sent: MonthlyFigures  # as the briefing sent them
    frozen_at: datetime
    facts: tuple[CaseFacts, ...]  # the cases as they were counted
    corrections: tuple[Correction, ...]  # oldest first

    def corrected(self, which: Callable[[Correction], bool] = lambda c: True) -> MonthlyFigures:
        """The figures sent, recounted with the corrections `which` selects."""
        chosen = [c for c in self.corrections if which(c)]
        if not chosen:
            return self.sent
        return self.sent.with_cases(apply_corrections(self.facts, chosen))

    @property
    def current(self) -> MonthlyFigures:
        """With every correction so far."""
        return self.corrected()

    @property
    def as_reported(self) -> MonthlyFigures:
        """With the corrections that briefings have reported so far."""
        return self.corrected(lambda c: c.reported_in is not None)

    @property
    def unreported(self) -> tuple[Correction, ...]:
        return tuple(c for c in self.corrections if c.reported_in is None)


def apply_corrections(facts: Iterable[CaseFacts], corrections: Iterable[Correction]) -> list[CaseFacts]:
    """The facts as the corrections (in order) changed them."""
    by_id = {f.case_id: f for f in facts}
    for c in corrections:
        fact = by_id.get(c.case_id)
        if fact is None:
            continue
        if c.kind == corr.REBOUND:
            fact = replace(fact, status=cs.IN_PROGRESS, outcome=None)
        elif c.kind == corr.RECLASSIFY and c.category_to:
            fact = replace(fact, category=c.category_to)
        elif c.kind == corr.FALSE_POSITIVE:
            fact = replace(fact, status=cs.FALSE_POSITIVE, outcome=cs.FALSE_POSITIVE)
        by_id[c.case_id] = fact
    return list(by_id.values())


def freeze(db: sqlite_utils.Database, station: str, figures: MonthlyFigures, facts: list[CaseFacts], at: datetime) -> None:
    """Keep the month's figures as sent and the cases they counted."""
    month = figures.label
    db["months"].insert({"station": station, "month": month, "figures": figures.to_json(), "frozen_at": at.isoformat()})
    db["month_cases"].insert_all(
        (
            {
                "station": station,
                "month": month,
                "case_id": f.case_id,
                "category": f.category,
                "community": f.community,
                "status": f.status,
                "outcome": f.outcome,
                "suspected": int(f.suspected),
            }
            for f in facts
        ),
        batch_size=500,
    )


def is_frozen(db: sqlite_utils.Database, station: str, month: str) -> bool:
    return bool(list(db.query("select 1 from months where station = ? and month = ?", [station, month])))


def frozen_month(db: sqlite_utils.Database, station: str, month: str) -> FrozenMonth | None:
    rows = list(db.query("select figures, frozen_at from months where station = ? and month = ?", [station, month]))
    if not rows:
        return None
    facts = tuple(
        CaseFacts(r["case_id"], r["category"], r["community"] or "", r["status"], r["outcome"], bool(r["suspected"]))
        for r in db.query("select * from month_cases where station = ? and month = ? order by case_id", [station, month])
    )
    return FrozenMonth(
        station=station,
        month=month,
        sent=MonthlyFigures.from_json(rows[0]["figures"]),
        frozen_at=datetime.fromisoformat(rows[0]["frozen_at"]),
        facts=facts,
        corrections=tuple(corr.corrections(db, station, month)),
    )


def briefed_month(db: sqlite_utils.Database, case_id: int) -> str | None:
    """The month ('YYYY-MM') whose briefing counted this case, if one did."""
    row = db.execute("select month from month_cases where case_id = ? limit 1", [case_id]).fetchone()
    return row[0] if row else None


def months_to_correct(db: sqlite_utils.Database, station: str) -> list[FrozenMonth]:
    """The station's frozen months with corrections no briefing has reported yet,
    oldest month first."""
    months = [r["month"] for r in db.query(
        "select distinct month from month_corrections where station = ? and reported_in is null order by month", [station]
    )]
    return [m for m in (frozen_month(db, station, month) for month in months) if m is not None]
