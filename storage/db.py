"""The database handle: one writer thread, one reader thread, WAL mode.

SQLite allows one writer at a time and every call blocks; running them on the event
loop would stall message handling during a slow fsync. As in datasette, all writes go
through a single writer thread (so they never contend) and reads go through another
thread with its own connection (WAL lets it read while the writer writes).
Callers pass plain functions that take a `sqlite_utils.Database`.
"""
from __future__ import annotations

import asyncio
import os
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, TypeVar

import sqlite_utils

from storage.migrations import apply_migrations

T = TypeVar("T")


class DatabaseProblem(Exception):
    """The database cannot be used at all (damaged, not SQLite, cannot be opened).
    The message is one line naming the file, fit to print to an operator as is."""


def is_storage_failure(exc: BaseException) -> bool:
    """True when a write failed because of the database or its disk (full, I/O error,
    read-only, locked too long, damaged), not because of the data: retrying later can
    succeed, so the work is kept instead of dropped. Constraint violations and misuse
    are bugs that a retry would only repeat."""
    if isinstance(exc, (sqlite3.IntegrityError, sqlite3.ProgrammingError, sqlite3.InterfaceError, sqlite3.DataError)):
        return False
    return isinstance(exc, sqlite3.DatabaseError)


class Database:
    def __init__(self, path: Path):
        self.path = Path(path)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-writer")
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db-reader")
        self._local = threading.local()
        self._checked = False
        # Why the last write failed (disk full, I/O error); None once a write succeeds.
        self.write_error: str | None = None
        self.failed_writes = 0

    def _connection(self) -> sqlite_utils.Database:
        # Each thread owns its connection; sqlite3 objects must stay in their thread.
        db = getattr(self._local, "db", None)
        if db is None:
            conn = sqlite3.connect(self.path, isolation_level=None)
            conn.execute("PRAGMA busy_timeout = 5000")
            conn.execute("PRAGMA foreign_keys = ON")
            db = sqlite_utils.Database(conn)
            self._local.db = db
        return db

    async def open(self) -> int:
        """Create the file if needed, switch to WAL and apply pending migrations.
        Returns the schema version: how many migrations the database has had.

        The first open checks the file (`PRAGMA quick_check`): a database damaged in
        its middle pages otherwise starts "healthy" and fails on every report. Raises
        DatabaseProblem, one line naming the file, when it is damaged or not SQLite."""
        if not self.path.exists():
            # Owner-only from the first byte: the database holds residents' reports,
            # and SQLite gives its -wal and -shm files the database file's mode.
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o600))
        check = not self._checked

        def setup(db: sqlite_utils.Database) -> int:
            if check:
                verdict = [row[0] for row in db.execute("PRAGMA quick_check(3)").fetchall()]
                if verdict != ["ok"]:
                    detail = " ".join(" ".join(verdict).split())  # one line, however SQLite words it
                    raise DatabaseProblem(f"数据库文件已损坏：{self.path}（quick_check：{detail[:200]}）")
            db.execute("PRAGMA journal_mode = WAL")
            db.execute("PRAGMA synchronous = NORMAL")
            return apply_migrations(db)

        try:
            version = await self._run(self._writer, setup, transaction=False)
        except sqlite3.DatabaseError as exc:
            raise DatabaseProblem(_describe(self.path, exc)) from None
        self._checked = True
        return version

    async def write(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        """Run `fn` in the writer thread inside one transaction."""
        try:
            result = await self._run(self._writer, fn, transaction=True)
        except Exception as exc:
            if is_storage_failure(exc):
                self.write_error = str(exc) or type(exc).__name__
                self.failed_writes += 1
            raise
        self.write_error = None
        return result

    async def probe_write(self) -> bool:
        """Whether a write goes through now (rewrites the schema version in place).
        Used to notice that space came back when no other work is waiting to be written."""
        def touch(db: sqlite_utils.Database) -> None:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            db.execute(f"PRAGMA user_version = {int(version)}")

        try:
            await self.write(touch)
        except Exception as exc:
            if not is_storage_failure(exc):
                raise
            return False
        return True

    async def read(self, fn: Callable[[sqlite_utils.Database], T]) -> T:
        return await self._run(self._reader, fn, transaction=False)

    async def _run(self, pool: ThreadPoolExecutor, fn: Callable[[sqlite_utils.Database], T], transaction: bool) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, self._call, fn, transaction)

    def _call(self, fn: Callable[[sqlite_utils.Database], T], transaction: bool) -> T:
        db = self._connection()
        if not transaction:
            return fn(db)
        db.execute("BEGIN IMMEDIATE")
        try:
            result = fn(db)
        except BaseException:
            # On SQLITE_FULL and I/O errors SQLite may already have rolled back; a second
            # ROLLBACK would fail and hide the real error behind "no transaction is active".
            if db.conn.in_transaction:
                db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
        return result

    async def close(self) -> None:
        def close_conn(_: sqlite_utils.Database) -> None:
            self._local.db.conn.close()
            self._local.db = None

        for pool in (self._writer, self._reader):
            if not pool._shutdown:  # type: ignore[attr-defined]
                try:
                    await self._run(pool, close_conn, transaction=False)
                finally:
                    pool.shutdown(wait=True)


def _describe(path: Path, exc: sqlite3.DatabaseError) -> str:
    """One line for an operator: which file, and what is wrong with it in plain words."""
    detail = " ".join(str(exc).split())
    if "not a database" in detail:
        return f"不是 SQLite 数据库或文件头已损坏：{path}（{detail}）"
    if "malformed" in detail:
        return f"数据库文件已损坏：{path}（{detail}）"
    if "unable to open" in detail:
        return f"无法打开数据库文件：{path}（{detail}）"
    return f"数据库出错：{path}（{detail}）"


def inspect_database(path: Path) -> None:
    """Check, read-only, that `path` is a sound pingan database before a command that
    only reads it (export, backup) goes on; raise DatabaseProblem (one line) if not.
    Read-only so that pointing `--db` at some other program's SQLite file never adds
    our tables to it."""
    path = Path(path)
    if not path.is_file():
        raise DatabaseProblem(f"数据库文件不存在：{path}")
    try:
        conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise DatabaseProblem(_describe(path, exc)) from None
    try:
        verdict = [row[0] for row in conn.execute("PRAGMA quick_check(3)").fetchall()]
        if verdict != ["ok"]:
            detail = " ".join(" ".join(verdict).split())
            raise DatabaseProblem(f"数据库文件已损坏：{path}（quick_check：{detail[:200]}）")
        if conn.execute("select 1 from sqlite_master where type = 'table' and name = 'cases'").fetchone() is None:
            raise DatabaseProblem(f"不是平安助手的数据库（没有案件表）：{path}")
    except sqlite3.DatabaseError as exc:
        raise DatabaseProblem(_describe(path, exc)) from None
    finally:
        conn.close()
