"""What the dashboard needs from the running bot, passed in by the runtime (bot/run):
the web core imports no feature."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Mapping, Protocol, TypeVar

import sqlite_utils
from aiohttp import web

from bot.clock import Clock
from bot.config import Config
from bot.feature import DetectorLike

T = TypeVar("T")


class Store(Protocol):
    """The database as storage.db.Database offers it: reads on the reader thread,
    writes in one transaction on the writer thread."""

    async def read(self, fn: Callable[[sqlite_utils.Database], T]) -> T: ...

    async def write(self, fn: Callable[[sqlite_utils.Database], T]) -> T: ...


@dataclass(frozen=True)
class Dashboard:
    config: Config
    db: Store
    detector: DetectorLike  # the plain detector: the lexicon tester's tries are not messages
    clock: Clock  # "this month" is the bot's month (virtual in the demo)
    # Case event kinds in officers' words, as the bot's replies use them.
    event_labels: Mapping[str, str] = field(default_factory=dict)
    # Shown on the login page (the demo's accounts); None in production.
    login_hint: str | None = None


DASHBOARD = web.AppKey("dashboard", Dashboard)
PAGE_SIZE = 20


def deps(request: web.Request) -> Dashboard:
    return request.app[DASHBOARD]


