"""Every SQL statement on the `web_passwords` table: dashboard password hashes by name.

Only hashes are stored; hashing and checking are bot/web/passwords.py's job.
"""
from __future__ import annotations

from datetime import datetime

import sqlite_utils


def set_hash(db: sqlite_utils.Database, name: str, hashed: str, now: datetime) -> None:
    db["web_passwords"].upsert({"name": name, "hash": hashed, "updated_at": now.isoformat()}, pk="name")


def get_hash(db: sqlite_utils.Database, name: str) -> str | None:
    row = db.execute("select hash from web_passwords where name = ?", [name]).fetchone()
    return row[0] if row else None


def names_with_password(db: sqlite_utils.Database) -> set[str]:
    return {row[0] for row in db.execute("select name from web_passwords")}
