"""The contract between the runtime and the features (SPEC.md's behaviours).

A message reaches a feature's handler in two steps, as in python-telegram-bot
(`check_update` then `handle_update`):

- `match(msg)` is pure: it looks at the message and the config and returns what it
  found (a command, a verdict, a school) or None. No database, no sending.
- `handle(msg, match)` decides and returns a `Work`: what must go out at once
  (`urgent`), and a `transaction` that reads and writes the database and returns an
  `Outcome` (messages to send, jobs to schedule or cancel).

The runtime (bot/run) commits the transaction's writes and the outbox rows of its
messages in ONE database transaction, then wakes the outbox and applies the job
changes. So a case is never stored without its notices, nor a notice queued for a
case that was not stored, and a failed write leaves nothing behind: the whole work
can simply be done again later.

Scheduled jobs follow the same rule: a job carries a name and its data (like
python-telegram-bot's JobQueue), and the feature's function for that name returns a
`Work` the runtime commits the same way.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Mapping, Protocol, TypeVar

import sqlite_utils
from apscheduler.triggers.base import BaseTrigger

from bot.clock import Clock
from bot.config import Config
from bot.events import Incoming, Outgoing
from bot.identity import People
from nlp.detection import Detection

M = TypeVar("M")


@dataclass(frozen=True)
class Job:
    """Scheduled work: a name (which feature function runs it), its data, and when.

    `at` is a one-shot moment; `trigger` an APScheduler trigger (cron) for repeating
    work. `catch_up`: a fire time that passed less than this long ago still fires when
    the job is added (work missed while the bot was down is done on start)."""

    name: str
    data: Mapping[str, Any] = field(default_factory=dict)
    at: datetime | None = None
    trigger: BaseTrigger | None = None
    catch_up: timedelta = timedelta(0)

    @property
    def id(self) -> str:
        """Unique per name and data: scheduling the same job again replaces it."""
        return self.name + "".join(f":{k}={self.data[k]}" for k in sorted(self.data))

    def has(self, where: Mapping[str, Any]) -> bool:
        return all(self.data.get(k) == v for k, v in where.items())


@dataclass(frozen=True)
class Cancel:
    """Remove the scheduled jobs of this name whose data has these values."""

    name: str
    where: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """What a piece of work decided, known once its transaction has run."""

    sends: list[Outgoing] = field(default_factory=list)
    schedule: list[Job] = field(default_factory=list)
    cancel: list[Cancel] = field(default_factory=list)
    # Changes to in-memory state that must follow the commit, never precede it (a
    # new binding of a WeChat id): run once the transaction is stored.
    after: list[Callable[[], None]] = field(default_factory=list)

    def __iadd__(self, other: "Outcome") -> "Outcome":
        self.sends += other.sends
        self.schedule += other.schedule
        self.cancel += other.cancel
        self.after += other.after
        return self


Transaction = Callable[[sqlite_utils.Database], Outcome]


@dataclass
class Work:
    """What a handler or a job returns for the runtime to carry out.

    `urgent`: 110/119/120 replies. They leave before the transaction runs and even if
    it fails (from memory when the database refuses writes): a fire report cannot wait
    for a disk. `transaction`: runs in the database's writer thread; its writes and the
    outbox rows of the Outcome it returns are committed together. `read_only`: the
    transaction only reads (a query command) and runs on the reader thread instead.
    `outcome`: what is known without the database."""

    urgent: tuple[Outgoing, ...] = ()
    transaction: Transaction | None = None
    outcome: Outcome = field(default_factory=Outcome)
    read_only: bool = False

    @classmethod
    def send(cls, *messages: Outgoing) -> "Work":
        return cls(outcome=Outcome(sends=list(messages)))

    @classmethod
    def transact(cls, transaction: Transaction) -> "Work":
        return cls(transaction=transaction)

    @classmethod
    def query(cls, transaction: Transaction) -> "Work":
        return cls(transaction=transaction, read_only=True)


NOTHING = Work()


class DetectorLike(Protocol):
    def detect(self, text: str) -> Detection: ...


@dataclass(frozen=True)
class Services:
    """What features need besides the database, passed explicitly (no globals).
    There is no `send` and no database here on purpose: features return their work."""

    config: Config
    clock: Clock
    detector: DetectorLike
    people: People  # who is who: officers and staff by their bound WeChat ids
    # Where the bot keeps files it sends (the monthly briefing's chart and ledger):
    # beside the database. None: beside the config's database.
    data_dir: Path | None = None

    @property
    def files_dir(self) -> Path:
        return self.data_dir if self.data_dir is not None else self.config.bot.database.parent


class Handler(Protocol[M]):
    def match(self, msg: Incoming) -> M | None: ...

    def handle(self, msg: Incoming, match: M) -> Work: ...


JobFunc = Callable[[Job, datetime], Work]


class Feature(Protocol):
    """One behaviour of SPEC.md (cases, guard posts).

    `handlers()` are offered each message in order; `jobs()` names the functions for the
    feature's scheduled jobs; `start()` runs after the database is open and before
    messages arrive: its work rebuilds the feature's jobs from config and database
    (nothing about jobs is pickled, so a restart loses nothing)."""

    def handlers(self) -> list[Handler[Any]]: ...

    def jobs(self) -> dict[str, JobFunc]: ...

    def start(self) -> Work: ...
