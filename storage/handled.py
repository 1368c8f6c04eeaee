"""Ids of the incoming messages whose work was stored, kept a few days.

A gateway that delivers a message again after a reconnect (the same message id)
must not open a second case: the id is written in the same transaction as the
message's work, and a message whose id is here is not done again. Only messages
that stored something are listed; ordinary chat leaves no trace here either.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlite_utils

KEEP = timedelta(days=3)  # far beyond any redelivery; the table stays small


def seen(db: sqlite_utils.Database, message_id: str) -> bool:
    return db.execute("select 1 from handled_messages where id = ?", [message_id]).fetchone() is not None


def mark(db: sqlite_utils.Database, message_id: str, at: datetime) -> None:
    db.execute("insert or ignore into handled_messages (id, at) values (?, ?)", [message_id, at.isoformat()])


def prune(db: sqlite_utils.Database, now: datetime) -> int:
    return db.execute("delete from handled_messages where at < ?", [(now - KEEP).isoformat()]).rowcount
