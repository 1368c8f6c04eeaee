"""What every feature handler gets and offers.

A handler's `matches` is a pure synchronous check (testable without an event loop,
as in python-telegram-bot); `handle` decides, writes storage and sends through
`Services.send` (the durable outbox). The pipeline gives each message to the first
handler that matches.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable, Protocol

from bot.clock import Clock
from bot.config import Config
from bot.events import Incoming, Outgoing
from bot.scheduler import Scheduler
from nlp.detection import Detection
from storage.db import Database

Send = Callable[[Outgoing], Awaitable[bool]]


class DetectorLike(Protocol):
    def detect(self, text: str) -> Detection: ...


@dataclass(frozen=True)
class Services:
    """The dependencies handlers and jobs use, passed explicitly (no globals)."""

    config: Config
    clock: Clock
    db: Database
    detector: DetectorLike
    scheduler: Scheduler
    send: Send


class Handler(Protocol):
    def matches(self, msg: Incoming) -> bool: ...

    async def handle(self, msg: Incoming) -> None: ...


class Feature(Protocol):
    """One behaviour of SPEC.md (reports, officer commands, guard posts, ...).

    `handlers` are offered messages in order; `start` runs after the database is open
    and before messages arrive, to rebuild the feature's scheduler jobs from config and
    database (nothing about jobs is pickled, so a restart loses nothing).
    """

    def handlers(self) -> list[Handler]: ...

    async def start(self) -> None: ...
