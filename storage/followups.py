"""Follow-up visits (回访) of mediated disputes: one row per planned visit.

A mediated case gets one row per `followup.days` entry; recording a visit fills
the earliest pending one. 反弹 cancels the rest of the round; mediating again
starts a new round.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

PENDING = "pending"
DONE = "done"
CANCELLED = "cancelled"


@dataclass(frozen=True)
class FollowUp:
    id: int
    case_id: int
    round: int
    seq: int
    due_at: datetime
    status: str
    result: str | None
    note: str | None
    actor: str | None
    done_at: datetime | None


def _followup(row: dict) -> FollowUp:
    return FollowUp(
        id=row["id"],
        case_id=row["case_id"],
        round=row["round"],
        seq=row["seq"],
        due_at=datetime.fromisoformat(row["due_at"]),
        status=row["status"],
        result=row["result"],
        note=row["note"],
        actor=row["actor"],
        done_at=datetime.fromisoformat(row["done_at"]) if row["done_at"] else None,
    )


def plan(db: sqlite_utils.Database, case_id: int, due: list[datetime]) -> list[FollowUp]:
    """Plan a new round of visits for a freshly mediated case."""
    last = db.execute("select coalesce(max(round), 0) from followups where case_id = ?", [case_id]).fetchone()[0]
    db["followups"].insert_all(
        [{"case_id": case_id, "round": last + 1, "seq": i, "due_at": d.isoformat(), "status": PENDING} for i, d in enumerate(due, start=1)]
    )
    return [f for f in for_case(db, case_id) if f.round == last + 1]


def for_case(db: sqlite_utils.Database, case_id: int) -> list[FollowUp]:
    return [_followup(r) for r in db.query("select * from followups where case_id = ? order by round, seq", [case_id])]


def get(db: sqlite_utils.Database, followup_id: int) -> FollowUp | None:
    rows = list(db.query("select * from followups where id = ?", [followup_id]))
    return _followup(rows[0]) if rows else None


def next_pending(db: sqlite_utils.Database, case_id: int) -> FollowUp | None:
    rows = list(db.query("select * from followups where case_id = ? and status = ? order by round, seq limit 1", [case_id, PENDING]))
    return _followup(rows[0]) if rows else None


def all_pending(db: sqlite_utils.Database) -> list[FollowUp]:
    return [_followup(r) for r in db.query("select * from followups where status = ? order by id", [PENDING])]


def record(db: sqlite_utils.Database, followup_id: int, result: str, note: str, actor: str, at: datetime) -> None:
    db["followups"].update(followup_id, {"status": DONE, "result": result, "note": note or None, "actor": actor, "done_at": at.isoformat()})


def record_extra(db: sqlite_utils.Database, case_id: int, result: str, note: str, actor: str, at: datetime) -> None:
    """A visit nobody planned (反弹 reported on an archived case): kept for the record."""
    last = db.execute("select coalesce(max(round), 1), count(*) from followups where case_id = ?", [case_id]).fetchone()
    seq = db.execute("select coalesce(max(seq), 0) from followups where case_id = ? and round = ?", [case_id, last[0]]).fetchone()[0]
    db["followups"].insert(
        {"case_id": case_id, "round": last[0], "seq": seq + 1, "due_at": at.isoformat(), "status": DONE, "result": result, "note": note or None, "actor": actor, "done_at": at.isoformat()}
    )


def cancel_pending(db: sqlite_utils.Database, case_id: int) -> list[int]:
    ids = [r["id"] for r in db.query("select id from followups where case_id = ? and status = ?", [case_id, PENDING])]
    db.execute("update followups set status = ? where case_id = ? and status = ?", [CANCELLED, case_id, PENDING])
    return ids


def done_count(db: sqlite_utils.Database, case_id: int) -> int:
    return db.execute("select count(*) from followups where case_id = ? and status = ?", [case_id, DONE]).fetchone()[0]
