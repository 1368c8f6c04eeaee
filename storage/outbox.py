"""Every SQL statement on the `outbox` table (the durable queue of outgoing messages).

A row is written before its message is handed to the transport and marked sent
afterwards; `key` is unique, so work that runs twice (a restart mid-reminder) queues
its message once. The sending loop is bot/outbox.py; work commits its rows here in the
same transaction as its other writes (bot/feature.py). Storage does not import the
bot's event types: a message is anything with the fields below.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable, Protocol

import sqlite_utils

from storage.sql import in_clause, utc_text

# Keys per `in (...)` query: well under SQLite's variable limit.
_CHUNK = 500


class Message(Protocol):
    text: str
    room: str | None
    contact: str | None
    mentions: tuple[str, ...]
    file: str | None
    urgent: bool
    key: str | None
    room_id: str | None
    contact_id: str | None


@dataclass(frozen=True)
class QueuedRow:
    """A queued, unsent message: the row's bookkeeping and the message's fields."""

    id: int
    attempts: int
    retry_at: datetime | None
    fields: dict[str, Any]


def enqueue(db: sqlite_utils.Database, msg: Message, now: datetime, sent_at: datetime | None = None) -> bool:
    """Insert unless a message with the same key exists; True when inserted. With
    `sent_at`, the row records a message already sent (from the memory lane)."""
    if msg.key is not None and is_queued(db, msg.key):
        return False
    row_id = db["outbox"].insert(
        {
            "key": msg.key,
            "created_at": now.isoformat(),
            "room": msg.room,
            "contact": msg.contact,
            "room_id": msg.room_id,
            "contact_id": msg.contact_id,
            "text": msg.text,
            "mentions": json.dumps(list(msg.mentions), ensure_ascii=False),
            "file": msg.file,
            "urgent": int(msg.urgent),
            "attempts": 0,
            "sent_at": None if sent_at is None else sent_at.isoformat(),
        }
    ).last_pk
    if msg.key is None:
        db["outbox"].update(row_id, {"key": f"auto:{row_id}"})
    return True


def is_queued(db: sqlite_utils.Database, key: str) -> bool:
    """Whether a message with this key was ever queued (sent or not)."""
    return db.execute("select 1 from outbox where key = ?", [key]).fetchone() is not None


def queued_keys(db: sqlite_utils.Database, keys: Iterable[str]) -> set[str]:
    """Which of these keys were queued before: a restart skips the steps that sent
    them instead of re-firing every past step only to dedup it."""
    keys = list(keys)
    found: set[str] = set()
    for i in range(0, len(keys), _CHUNK):
        chunk = keys[i : i + _CHUNK]
        found.update(r[0] for r in db.execute(f"select key from outbox where {in_clause('key', chunk)}", chunk))
    return found


def unsent(db: sqlite_utils.Database) -> list[QueuedRow]:
    """Messages waiting to go, urgent first, then in the order they were queued."""
    rows = db.query("select * from outbox where sent_at is null and failed is null order by urgent desc, id")
    return [
        QueuedRow(
            r["id"],
            r["attempts"] or 0,
            datetime.fromisoformat(r["retry_at"]) if r["retry_at"] else None,
            {
                "text": r["text"] or "",
                "room": r["room"],
                "contact": r["contact"],
                "room_id": r["room_id"],
                "contact_id": r["contact_id"],
                "mentions": tuple(json.loads(r["mentions"] or "[]")),
                "file": r["file"],
                "urgent": bool(r["urgent"]),
                "key": r["key"],
            },
        )
        for r in rows
    ]


def unsent_count(db: sqlite_utils.Database) -> int:
    return db.execute("select count(*) from outbox where sent_at is null and failed is null").fetchone()[0]


def mark_sent(db: sqlite_utils.Database, row_id: int, at: datetime) -> None:
    db["outbox"].update(row_id, {"sent_at": at.isoformat()})


def note_attempt(db: sqlite_utils.Database, row_id: int, values: dict[str, Any]) -> None:
    """Bookkeeping of a failed send: `attempts`, `retry_at`, or `failed` (given up)."""
    db["outbox"].update(row_id, values)


def sends_since(db: sqlite_utils.Database, since: datetime) -> list[tuple[str | None, str | None, datetime]]:
    """(room, contact, sent_at) of every message sent since `since`, by id where the
    row has one: the rate limits are rebuilt from these after a restart."""
    rows = db.execute(
        "select coalesce(room_id, room), case when room is null then coalesce(contact_id, contact) end, sent_at from outbox where sent_at >= ?",
        [since.isoformat()],
    )
    return [(room, contact, datetime.fromisoformat(sent_at)) for room, contact, sent_at in rows]


def any_queued_before(db: sqlite_utils.Database, moment: datetime) -> bool:
    """Whether anything was queued before `moment`: evidence the bot ran by then."""
    return db.execute("select 1 from outbox where datetime(created_at) < ? limit 1", [utc_text(moment)]).fetchone() is not None
