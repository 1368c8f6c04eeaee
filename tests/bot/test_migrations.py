"""Named migrations (storage/migrations.py): each runs once, a name may be
registered only once, and databases numbered by `user_version` keep working."""
from __future__ import annotations

import asyncio
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
import sqlite_utils

from storage import cases as case_store
from storage.db import Database
from storage.migrations import MIGRATIONS, TABLE, DuplicateMigration, Migrations, migration

CST = timezone(timedelta(hours=8))
NAMES = [step.name for step in MIGRATIONS.steps]


def open_db(path: Path) -> int:
    async def run() -> int:
        db = Database(path)
        try:
            return await db.open()
        finally:
            await db.close()

    return asyncio.run(run())


def recorded(path: Path) -> list[str]:
    with closing(sqlite3.connect(path)) as conn:
        return [row[0] for row in conn.execute(f"select name from {TABLE} order by rowid")]


def user_version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return conn.execute("PRAGMA user_version").fetchone()[0]


def old_style_database(path: Path, count: int) -> None:
    """A database as the numbered scheme left it: the first `count` migrations run,
    `user_version` = count, no `_migrations` table, and one case in it."""
    db = sqlite_utils.Database(sqlite3.connect(path, isolation_level=None))
    for step in MIGRATIONS.steps[:count]:
        step.fn(db)
    db.execute(f"PRAGMA user_version = {count}")
    case_store.open_case(
        db, at=datetime(2026, 3, 2, 9, 0, tzinfo=CST), room="官园社区警民联系群1", community="官园社区", station="guanyuan",
        officer="李警官", category="dispute", severity="normal", reporter="张大妈", text="楼下吵架", keywords=(), rules=(), explicit=False,
    )
    db.conn.close()


def test_the_bots_migrations_have_their_function_names_in_order():
    assert NAMES == ["m001_cases_and_outbox", "m002_case_workflow", "m003_guard_posts", "m004_detector_feedback", "m005_web_passwords"]


def test_a_new_database_records_every_migration_by_name(tmp_path):
    path = tmp_path / "new.db"
    assert open_db(path) == len(NAMES)
    assert recorded(path) == NAMES
    assert user_version(path) == len(NAMES)
    assert open_db(path) == len(NAMES)  # a second open runs nothing and records nothing twice
    assert recorded(path) == NAMES


@pytest.mark.parametrize("count", [1, 2, 3])
def test_an_old_numbered_database_is_adopted_and_brought_up_to_date(tmp_path, count):
    path = tmp_path / "old.db"
    old_style_database(path, count)
    assert open_db(path) == len(NAMES)
    assert recorded(path) == NAMES  # the first `count` adopted, the rest run, in order
    assert user_version(path) == len(NAMES)
    with closing(sqlite3.connect(path)) as conn:
        tables = {row[0] for row in conn.execute("select name from sqlite_master where type = 'table'")}
        assert {"followups", "guard_checkins", "detector_feedback"} <= tables
        assert conn.execute("select reporter from cases").fetchall() == [("张大妈",)]


def test_an_old_database_at_the_last_version_runs_nothing(tmp_path):
    # Running any migration again would fail: its tables already exist.
    path = tmp_path / "current.db"
    old_style_database(path, len(NAMES))
    assert open_db(path) == len(NAMES)
    assert recorded(path) == NAMES


def test_a_name_registered_twice_is_refused():
    steps = Migrations()

    @steps
    def m001_first(db: sqlite_utils.Database) -> None:
        pass

    def again(db: sqlite_utils.Database) -> None:
        pass

    again.__name__ = "m001_first"
    with pytest.raises(DuplicateMigration, match="m001_first"):
        steps(again)
    with pytest.raises(DuplicateMigration):
        steps.add("m001_first", again)
    assert [s.fn for s in steps.steps] == [m001_first]


def test_the_bots_set_refuses_a_second_migration_of_an_existing_name():
    def m003_guard_posts(db: sqlite_utils.Database) -> None:
        raise AssertionError("never registered, never run")

    with pytest.raises(DuplicateMigration):
        migration(m003_guard_posts)
    assert [step.name for step in MIGRATIONS.steps] == NAMES


def _set(*names: str, ran: list[str]) -> Migrations:
    steps = Migrations()
    for name in names:
        steps.add(name, lambda db, name=name: (ran.append(name), db.execute(f"create table {name} (x)")))
    return steps


def test_a_migration_added_between_applied_ones_runs_once():
    db = sqlite_utils.Database(sqlite3.connect(":memory:", isolation_level=None))
    ran: list[str] = []
    assert _set("a", "c", ran=ran).apply(db) == 2
    # A merge puts a branch's migration "b" before "c", which has already run.
    assert _set("a", "b", "c", ran=ran).apply(db) == 3
    assert _set("a", "b", "c", ran=ran).apply(db) == 3
    assert ran == ["a", "c", "b"]


def test_a_failing_migration_leaves_no_trace_and_runs_again_next_time():
    db = sqlite_utils.Database(sqlite3.connect(":memory:", isolation_level=None))
    steps = Migrations()
    attempts: list[int] = []

    def m001_flaky(d: sqlite_utils.Database) -> None:
        d.execute("create table flaky (x)")
        attempts.append(1)
        if len(attempts) == 1:
            raise sqlite3.OperationalError("disk I/O error")

    steps(m001_flaky)
    with pytest.raises(sqlite3.OperationalError):
        steps.apply(db)
    assert "flaky" not in db.table_names()
    assert db.execute(f"select count(*) from {TABLE}").fetchone()[0] == 0
    assert steps.apply(db) == 1 and "flaky" in db.table_names()
