"""Corrections to frozen months: a case of a month whose briefing was sent changes
in a way that changes that month's figures (SPEC.md "Monthly briefing").

Only the record is here, in plain SQL with no other store imported, so that
storage/cases.py can note a correction in the same transaction as the change
itself; reading frozen months and applying corrections is storage/months.py.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from storage.sql import in_clause

REBOUND = "rebound"  # 回访 反弹: no longer mediated, open again
RECLASSIFY = "reclassify"  # 改类: another category
FALSE_POSITIVE = "false_positive"  # 误报 after the briefing counted it as received
KINDS = (REBOUND, RECLASSIFY, FALSE_POSITIVE)


@dataclass(frozen=True)
class Correction:
    id: int
    station: str
    month: str  # the corrected month, 'YYYY-MM'
    case_id: int
    kind: str
    category_from: str | None
    category_to: str | None
    at: datetime
    actor: str
    reported_in: str | None  # the month whose briefing reported it


def note_correction(
    db: sqlite_utils.Database,
    case_id: int,
    kind: str,
    at: datetime,
    actor: str,
    *,
    category_from: str | None = None,
    category_to: str | None = None,
) -> list[Correction]:
    """Record the change as a correction of every frozen month that counted the case
    (one, in practice); nothing when no briefing has counted it yet."""
    assert kind in KINDS, kind
    rows = list(db.query("select station, month from month_cases where case_id = ?", [case_id]))
    out = []
    for r in rows:
        row = {
            "station": r["station"],
            "month": r["month"],
            "case_id": case_id,
            "kind": kind,
            "category_from": category_from,
            "category_to": category_to,
            "at": at.isoformat(),
            "actor": actor,
            "reported_in": None,
        }
        row_id = db["month_corrections"].insert(row).last_pk
        out.append(_correction({**row, "id": row_id}))
    return out


def corrections(db: sqlite_utils.Database, station: str, month: str | None = None, *, unreported: bool = False) -> list[Correction]:
    """A station's corrections (of one month, or of all), oldest first."""
    where, params = ["station = ?"], [station]
    if month is not None:
        where.append("month = ?")
        params.append(month)
    if unreported:
        where.append("reported_in is null")
    rows = db.query(f"select * from month_corrections where {' and '.join(where)} order by id", params)
    return [_correction(r) for r in rows]


def mark_reported(db: sqlite_utils.Database, ids: list[int], reported_in: str) -> None:
    if ids:
        db.execute(
            f"update month_corrections set reported_in = ? where {in_clause('id', ids)}",
            [reported_in, *ids],
        )


def _correction(r: dict) -> Correction:
    return Correction(
        id=r["id"],
        station=r["station"],
        month=r["month"],
        case_id=r["case_id"],
        kind=r["kind"],
        category_from=r["category_from"],
        category_to=r["category_to"],
        at=datetime.fromisoformat(r["at"]),
        actor=r["actor"] or "",
        reported_in=r["reported_in"],
    )
