"""Cases (一纠纷一档案): rows, messages and the audit trail of events.

Plain functions over a `sqlite_utils.Database`, run through `Database.write`/`read`.
Only flagged messages are ever passed here; ordinary chat never reaches storage.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

# Status names are what officers see and type about, so they are stored in Chinese.
PENDING = "待认领"
IN_PROGRESS = "处理中"
AWAITING_FOLLOWUP = "待回访"
ARCHIVED = "已归档"
CLOSED = "已办结"
FALSE_POSITIVE = "误报"
OPEN_STATUSES = (PENDING, IN_PROGRESS)

MAX_STORED_TEXT = 2000  # a case keeps the report, not a pasted novel


@dataclass(frozen=True)
class Case:
    id: int
    room: str
    community: str
    station: str
    officer: str
    category: str
    severity: str
    status: str
    reporter: str
    opened_at: datetime
    last_message_at: datetime
    message_count: int
    keywords: tuple[str, ...]
    rules: tuple[str, ...]
    explicit: bool
    claimed_by: str | None
    claimed_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    outcome_note: str | None

    @property
    def label(self) -> str:
        return f"#{self.id}"


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _case(row: dict) -> Case:
    return Case(
        id=row["id"],
        room=row["room"],
        community=row["community"] or "",
        station=row["station"],
        officer=row["officer"],
        category=row["category"],
        severity=row["severity"],
        status=row["status"],
        reporter=row["reporter"],
        opened_at=datetime.fromisoformat(row["opened_at"]),
        last_message_at=datetime.fromisoformat(row["last_message_at"]),
        message_count=row["message_count"],
        keywords=tuple(json.loads(row["keywords"] or "[]")),
        rules=tuple(json.loads(row["rules"] or "[]")),
        explicit=bool(row["explicit"]),
        claimed_by=row["claimed_by"],
        claimed_at=_dt(row["claimed_at"]),
        closed_at=_dt(row["closed_at"]),
        outcome=row["outcome"],
        outcome_note=row["outcome_note"],
    )


def get_case(db: sqlite_utils.Database, case_id: int) -> Case | None:
    rows = list(db.query("select * from cases where id = ?", [case_id]))
    return _case(rows[0]) if rows else None


def find_mergeable(db: sqlite_utils.Database, room: str, category: str, since: datetime) -> Case | None:
    """The open case of this room and category whose last message is at or after `since`."""
    rows = list(
        db.query(
            f"select * from cases where room = ? and category = ? and status in ({','.join('?' * len(OPEN_STATUSES))})"
            " and last_message_at >= ? order by last_message_at desc limit 1",
            [room, category, *OPEN_STATUSES, since.isoformat()],
        )
    )
    return _case(rows[0]) if rows else None


def open_case(
    db: sqlite_utils.Database,
    *,
    at: datetime,
    room: str,
    community: str,
    station: str,
    officer: str,
    category: str,
    severity: str,
    reporter: str,
    text: str,
    keywords: tuple[str, ...],
    rules: tuple[str, ...],
    explicit: bool,
) -> Case:
    case_id = db["cases"].insert(
        {
            "room": room,
            "community": community,
            "station": station,
            "officer": officer,
            "category": category,
            "severity": severity,
            "status": PENDING,
            "reporter": reporter,
            "opened_at": at.isoformat(),
            "last_message_at": at.isoformat(),
            "message_count": 1,
            "keywords": json.dumps(list(keywords), ensure_ascii=False),
            "rules": json.dumps(list(rules), ensure_ascii=False),
            "explicit": int(explicit),
        }
    ).last_pk
    _insert_message(db, case_id, at, reporter, text, keywords)
    add_event(db, case_id, at, "opened", reporter, f"{category}/{severity}")
    case = get_case(db, case_id)
    assert case is not None
    return case


def join_case(db: sqlite_utils.Database, case: Case, *, at: datetime, sender: str, text: str, keywords: tuple[str, ...], severity: str) -> Case:
    """Add a further report to an open case; the severity only ever rises."""
    merged_keywords = list(dict.fromkeys([*case.keywords, *keywords]))
    db["cases"].update(
        case.id,
        {
            "last_message_at": at.isoformat(),
            "message_count": case.message_count + 1,
            "keywords": json.dumps(merged_keywords, ensure_ascii=False),
            "severity": severity,
        },
    )
    _insert_message(db, case.id, at, sender, text, keywords)
    detail = "" if severity == case.severity else f"等级升为{severity}"
    add_event(db, case.id, at, "message_joined", sender, detail)
    joined = get_case(db, case.id)
    assert joined is not None
    return joined


def _insert_message(db: sqlite_utils.Database, case_id: int, at: datetime, sender: str, text: str, keywords: tuple[str, ...]) -> None:
    db["case_messages"].insert(
        {
            "case_id": case_id,
            "at": at.isoformat(),
            "sender": sender,
            "text": text[:MAX_STORED_TEXT],
            "keywords": json.dumps(list(keywords), ensure_ascii=False),
        }
    )


def add_event(db: sqlite_utils.Database, case_id: int, at: datetime, kind: str, actor: str, detail: str = "") -> None:
    db["case_events"].insert({"case_id": case_id, "at": at.isoformat(), "kind": kind, "actor": actor, "detail": detail})


def case_messages(db: sqlite_utils.Database, case_id: int) -> list[dict]:
    return list(db.query("select at, sender, text, keywords from case_messages where case_id = ? order by id", [case_id]))


def case_events(db: sqlite_utils.Database, case_id: int) -> list[dict]:
    return list(db.query("select at, kind, actor, detail from case_events where case_id = ? order by id", [case_id]))
