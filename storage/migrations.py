"""Named schema migrations, each applied once, in the order they are registered.

As in sqlite-utils' `migrations.py`, a migration is a small function registered
with `@migration`, and its name (the function's name) goes into the `_migrations`
table in the same transaction as its changes. What has run is known by name, not
by a place in a list, so a migration added on another branch runs exactly once
wherever a merge puts it; and two migrations with one name fail at import, since
a database that had one would silently never get the other. Add new ones at the
end; never edit or rename one that has been applied.

Until December 2026 the number of applied migrations was kept in SQLite's
`PRAGMA user_version` alone. A database without the `_migrations` table has its
first `user_version` migrations recorded as applied on its first open. The pragma
is still set to the number of applied migrations: an older release, which reads
only the pragma, then finds its schema current, and it is the version the bot logs.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Callable, Iterable

import sqlite_utils

MigrationFn = Callable[[sqlite_utils.Database], None]
TABLE = "_migrations"


class DuplicateMigration(ValueError):
    """Two migrations registered under one name: one of them would never run."""


@dataclass(frozen=True)
class Migration:
    name: str
    fn: MigrationFn


class Migrations:
    """An ordered set of uniquely named migrations."""

    def __init__(self) -> None:
        self._steps: dict[str, Migration] = {}  # registration order

    def __call__(self, fn: MigrationFn) -> MigrationFn:
        """Decorator: register `fn` under its function name."""
        self.add(fn.__name__, fn)
        return fn

    def add(self, name: str, fn: MigrationFn) -> None:
        if name in self._steps:
            raise DuplicateMigration(f"a migration named {name!r} is already registered")
        self._steps[name] = Migration(name, fn)

    @property
    def steps(self) -> tuple[Migration, ...]:
        return tuple(self._steps.values())

    def apply(self, db: sqlite_utils.Database) -> int:
        """Run the migrations `db` has not had, each in its own transaction.
        Returns how many migrations the database has had in all."""
        applied = self._applied(db)
        for step in self._steps.values():
            if step.name in applied:
                continue
            with db.conn:
                db.execute("BEGIN")
                step.fn(db)
                _record(db, [step.name])
                applied.add(step.name)
                db.execute(f"PRAGMA user_version = {len(applied)}")
        return len(applied)

    def _applied(self, db: sqlite_utils.Database) -> set[str]:
        """Names recorded in `_migrations`, creating the table first if needed."""
        if TABLE not in db.table_names():
            # A new database (user_version 0) or one from before names: its first
            # user_version migrations ran. One transaction, so that a crash here
            # leaves the database as it was and the next open does this again.
            version = db.execute("PRAGMA user_version").fetchone()[0]
            with db.conn:
                db.execute("BEGIN")
                # applied_at: when the name was recorded; for migrations adopted from
                # user_version that is the upgrade, not when they really ran.
                db.execute(f"create table {TABLE} (name text primary key, applied_at text not null)")
                _record(db, [step.name for step in self.steps[:version]])
        return {row[0] for row in db.execute(f"select name from {TABLE}").fetchall()}


def _record(db: sqlite_utils.Database, names: Iterable[str]) -> None:
    now = datetime.now(timezone.utc).isoformat(timespec="seconds")
    db.conn.executemany(f"insert into {TABLE} (name, applied_at) values (?, ?)", [(name, now) for name in names])


# The bot's schema; `@migration` below registers into it.
MIGRATIONS = Migrations()
migration = MIGRATIONS


def apply_migrations(db: sqlite_utils.Database) -> int:
    return MIGRATIONS.apply(db)


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


@migration
def frozen_months(db: sqlite_utils.Database) -> None:
    """The monthly briefing's figures as sent, the cases they counted, and the
    corrections (反弹, 改类, 误报) made to such a month afterwards."""
    db["months"].create(
        {"station": str, "month": str, "figures": str, "frozen_at": str},
        pk=("station", "month"),
        not_null={"figures", "frozen_at"},
    )
    # Each case as it was counted: a correction is applied to these, so a frozen month
    # changes only by what was corrected, never by later ordinary progress.
    db["month_cases"].create(
        {"station": str, "month": str, "case_id": int, "category": str, "community": str, "status": str, "outcome": str, "suspected": int},
        pk=("station", "month", "case_id"),
    )
    db["month_cases"].create_index(["case_id"])
    db["month_corrections"].create(
        {
            "id": int,
            "station": str,
            "month": str,
            "case_id": int,
            "kind": str,  # rebound | reclassify | false_positive
            "category_from": str,
            "category_to": str,
            "at": str,
            "actor": str,
            "reported_in": str,  # the month whose briefing reported it; NULL until then
        },
        pk="id",
        not_null={"station", "month", "case_id", "kind", "at"},
    )
    db["month_corrections"].create_index(["station", "reported_in"])


@migration
def identity_ids_and_bindings(db: sqlite_utils.Database) -> None:
    """Trusted ids (SPEC.md "Identity"): where a message goes and whose a case is.

    Outbox rows carry the transport id to send to, so a reply reaches the room or
    contact it answers and a notice the person's bound id, never a copied name.
    Cases remember their room's id: they merge only within one room. People are
    bound to a WeChat id by a one-time invite code, kept hashed.
    """
    db["outbox"].add_column("room_id", str)
    db["outbox"].add_column("contact_id", str)
    db["cases"].add_column("room_id", str)
    db.execute("update cases set room_id = room")
    db["bindings"].create({"name": str, "wechat_id": str, "bound_at": str, "via": str}, pk="name", not_null={"wechat_id", "bound_at"})
    db["bindings"].create_index(["wechat_id"], unique=True)
    db["invites"].create(
        {"code_hash": str, "name": str, "created_at": str, "expires_at": str, "used_at": str, "used_by": str},
        pk="code_hash",
        not_null={"name", "created_at", "expires_at"},
    )


@migration
def handled_message_ids(db: sqlite_utils.Database) -> None:
    """Ids of messages whose work was stored (storage/handled.py): a redelivered
    message is not handled twice, across restarts too."""
    db["handled_messages"].create({"id": str, "at": str}, pk="id", not_null={"at"})
    db["handled_messages"].create_index(["at"])


@migration
def web_passwords(db: sqlite_utils.Database) -> None:
    """Dashboard logins: one salted scrypt hash per configured person (`pingan set-password`).

    Kept in the database, not the config: the config is copied around and read by
    many, and a hash there would invite editing it by hand."""
    db["web_passwords"].create({"name": str, "hash": str, "updated_at": str}, pk="name", not_null={"hash", "updated_at"})
