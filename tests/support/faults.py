"""Storage failures on demand, for the reliability tests.

`FullDatabase` raises SQLite's own "database or disk is full" (SQLITE_FULL) from every
write while `full` is set, the moment the write would start, as a full disk does to
the first page SQLite must add. `limit_pages` makes a real database file refuse to
grow, through SQLite's `max_page_count`, for tests that want SQLite itself to fail.
"""
from __future__ import annotations

import sqlite3
from typing import Callable, TypeVar

import sqlite_utils

from storage.db import Database

T = TypeVar("T")
DISK_FULL = "database or disk is full"


class FullDatabase(Database):
    full = False
    failed_writes = 0

    def _call(self, fn: Callable[[sqlite_utils.Database], T], transaction: bool) -> T:
        if transaction and self.full:
            self.failed_writes += 1
            raise sqlite3.OperationalError(DISK_FULL)
        return super()._call(fn, transaction)


async def limit_pages(db: Database, extra_pages: int | None) -> None:
    """Let the file grow by at most `extra_pages` pages from now (None: no limit)."""

    def apply(d: sqlite_utils.Database) -> None:
        pages = d.execute("PRAGMA page_count").fetchone()[0]
        d.execute(f"PRAGMA max_page_count = {pages + extra_pages if extra_pages is not None else 1073741823}")

    await db._run(db._writer, apply, transaction=False)
