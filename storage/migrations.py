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
            "retry_at": str,  # after a failed send: not before this moment
            "failed": str,  # why it can never be delivered (room or person not found)
        },
        pk="id",
    )
    db["outbox"].create_index(["key"], unique=True)
    db["outbox"].create_index(["sent_at", "urgent"])


@migration
def m002_case_workflow(db: sqlite_utils.Database) -> None:
    """Follow-ups, false-positive feedback and the escalation clock of a case."""
    # The escalation clock restarts when a case is transferred or its severity rises;
    # `escalation_round` keeps each round's outbox keys distinct so a restart neither
    # repeats a step of this round nor suppresses one of the next.
    db["cases"].add_column("escalate_from", str)
    db["cases"].add_column("escalation_round", int, not_null_default=1)
    db["followups"].create(
        {
            "id": int,
            "case_id": int,
            "round": int,  # a case mediated again after 反弹 gets a new round of visits
            "seq": int,  # 1-based within the round
            "due_at": str,  # when the reminder goes out
            "status": str,  # pending | done | cancelled
            "result": str,  # 无反弹 | 反弹
            "note": str,
            "actor": str,
            "done_at": str,
        },
        pk="id",
        foreign_keys=[("case_id", "cases", "id")],
    )
    db["followups"].create_index(["case_id"])
    db["followups"].create_index(["status"])
    db["keyword_feedback"].create(
        {"id": int, "case_id": int, "keyword": str, "category": str, "at": str, "actor": str},
        pk="id",
        foreign_keys=[("case_id", "cases", "id")],
    )
    db["keyword_feedback"].create_index(["keyword"])


@migration
def m003_guard_posts(db: sqlite_utils.Database) -> None:
    """Guard posts (护学岗): check-ins, 代班 swaps and per-person attendance."""
    # One check-in per person, shift and date: a second 到岗 must not count twice.
    db["guard_checkins"].create(
        {"id": int, "school": str, "shift": str, "day": str, "person": str, "at": str, "on_duty": int},
        pk="id",
        not_null={"school", "shift", "day", "person", "at"},
    )
    db["guard_checkins"].create_index(["school", "shift", "day", "person"], unique=True)
    # Swaps are kept in the order they were made: a replacement may pass the shift on again.
    db["guard_swaps"].create(
        {"id": int, "school": str, "shift": str, "day": str, "original": str, "replacement": str, "at": str},
        pk="id",
        not_null={"school", "shift", "day", "original", "replacement", "at"},
    )
    db["guard_swaps"].create_index(["school", "day"])
    # Attendance is written when a shift ends, from the roster as it stood then, so
    # later roster edits in the config do not rewrite past months' figures.
    db["guard_attendance"].create(
        {"id": int, "school": str, "shift": str, "day": str, "person": str, "status": str, "checked_in_at": str},
        pk="id",
        not_null={"school", "shift", "day", "person", "status"},
    )
    db["guard_attendance"].create_index(["school", "shift", "day", "person"], unique=True)
    db["guard_attendance"].create_index(["day"])
    db["guard_closed"].create({"school": str, "shift": str, "day": str, "closed_at": str}, pk=("school", "shift", "day"))


@migration
def m004_detector_feedback(db: sqlite_utils.Database) -> None:
    """Texts officers judged: reports the bot missed (补录) and false alarms (误报).

    They are reports, not ordinary chat (which is never stored), and they are
    what `pingan train` learns from the desk.
    """
    db["detector_feedback"].create(
        {"id": int, "kind": str, "case_id": int, "category": str, "text": str, "at": str, "actor": str},
        pk="id",
        not_null={"kind", "text", "at"},
    )
    db["detector_feedback"].create_index(["kind"])
