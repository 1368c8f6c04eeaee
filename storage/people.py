"""Bindings of configured people to WeChat ids, and the one-time invite codes that
make them (SPEC.md "Identity").

A code is 6 digits, valid 24 hours, used once; only its hash is stored, so a copy
of the database does not hand out working codes. `pingan invite` writes here while
`pingan run` may be running: both go through SQLite's own locking.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils


@dataclass(frozen=True)
class Binding:
    name: str
    wechat_id: str
    bound_at: datetime
    via: str  # how: "invite" (绑定 with a code); ids given in the config are not stored


def code_hash(code: str) -> str:
    # The code is short; the hash keeps it out of the file, not out of reach of a
    # determined offline search — which the 24-hour expiry and single use bound.
    return hashlib.sha256(f"pingan-invite:{code}".encode()).hexdigest()


def add_invite(db: sqlite_utils.Database, name: str, code: str, now: datetime, expires: datetime) -> None:
    db["invites"].insert(
        {"code_hash": code_hash(code), "name": name, "created_at": now.isoformat(), "expires_at": expires.isoformat()},
        replace=True,
    )


def take_invite(db: sqlite_utils.Database, code: str, now: datetime, wechat_id: str) -> str | None:
    """The name a valid, unused, unexpired code was made for, marking it used by
    `wechat_id`; None when there is no such code."""
    row = db.execute("select name, expires_at, used_at from invites where code_hash = ?", [code_hash(code)]).fetchone()
    if row is None or row[2] is not None or datetime.fromisoformat(row[1]) <= now:
        return None
    db["invites"].update(code_hash(code), {"used_at": now.isoformat(), "used_by": wechat_id})
    return row[0]


def bind(db: sqlite_utils.Database, name: str, wechat_id: str, now: datetime) -> None:
    """`name` is now `wechat_id`: any earlier binding of the name, or of the id to
    another name, is replaced (one person, one id)."""
    db.execute("delete from bindings where name = ? or wechat_id = ?", [name, wechat_id])
    db["bindings"].insert({"name": name, "wechat_id": wechat_id, "bound_at": now.isoformat(), "via": "invite"})


def bindings(db: sqlite_utils.Database) -> list[Binding]:
    rows = db.execute("select name, wechat_id, bound_at, via from bindings order by name").fetchall()
    return [Binding(name, wechat_id, datetime.fromisoformat(at), via or "invite") for name, wechat_id, at, via in rows]
