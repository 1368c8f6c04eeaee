"""Versioned schema migrations, applied in order at start.

The schema version lives in SQLite's `user_version`; each migration is a small
function that runs once. Add new ones at the end; never edit an applied one.
"""
from __future__ import annotations

from typing import Callable

import sqlite_utils

Migration = Callable[[sqlite_utils.Database], None]
MIGRATIONS: list[Migration] = []


def migration(fn: Migration) -> Migration:
    MIGRATIONS.append(fn)
    return fn


def apply_migrations(db: sqlite_utils.Database) -> int:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    for number, fn in enumerate(MIGRATIONS, start=1):
        if number <= version:
            continue
        with db.conn:
            db.execute("BEGIN")
            fn(db)
            db.execute(f"PRAGMA user_version = {number}")
    return len(MIGRATIONS)


@migration
def m001_cases_and_outbox(db: sqlite_utils.Database) -> None:
    db["cases"].create(
        {
            "id": int,
            "room": str,
            "community": str,
            "station": str,
            "officer": str,
            "category": str,
            "severity": str,
            "status": str,
            "reporter": str,
            "opened_at": str,
            "last_message_at": str,
            "message_count": int,
            "keywords": str,  # JSON list: words that fired, for 误报 feedback
            "rules": str,  # JSON list: why it fired
            "explicit": int,  # opened by 求助/报警/举报 whatever the detector said
            "claimed_by": str,
            "claimed_at": str,
            "closed_at": str,
            "outcome": str,
            "outcome_note": str,
        },
        pk="id",
        not_null={"room", "station", "officer", "category", "severity", "status", "reporter", "opened_at"},
    )
    db["cases"].create_index(["room", "category", "status"])
    db["cases"].create_index(["station", "status"])
    db["case_messages"].create(
        {"id": int, "case_id": int, "at": str, "sender": str, "text": str, "keywords": str},
        pk="id",
        foreign_keys=[("case_id", "cases", "id")],
    )
    db["case_messages"].create_index(["case_id"])
    db["case_events"].create(
        {"id": int, "case_id": int, "at": str, "kind": str, "actor": str, "detail": str},
        pk="id",
        foreign_keys=[("case_id", "cases", "id")],
    )
    db["case_events"].create_index(["case_id"])
    db["outbox"].create(
        {
            "id": int,
            "key": str,
            "created_at": str,
            "room": str,
            "contact": str,
            "text": str,
            "mentions": str,
            "file": str,
            "urgent": int,
            "sent_at": str,
            "attempts": int,
            "failed": str,  # why it can never be delivered (room or person not found)
        },
        pk="id",
    )
    db["outbox"].create_index(["key"], unique=True)
    db["outbox"].create_index(["sent_at", "urgent"])
