"""Small pieces of SQL text that every store builds the same way.

SQLite cannot bind a list to one `?`, so an `in (...)` needs one placeholder per
value; and times are stored as ISO strings with offsets, which SQLite's
`datetime()` turns into UTC text of one fixed shape, so a moment compared with
them must be written in that shape too.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Sized


def placeholders(values: Sized) -> str:
    """`?,?,?`: one placeholder per value, for `in (...)`."""
    return ",".join("?" * len(values))


def in_clause(column: str, values: Sized) -> str:
    """`column in (?,?,?)`; bind `values` in the same order."""
    return f"{column} in ({placeholders(values)})"


def utc_text(moment: datetime) -> str:
    """`moment` as SQLite's `datetime()` writes it (UTC, to the second), so that
    `datetime(opened_at) >= ?` compares like with like."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
