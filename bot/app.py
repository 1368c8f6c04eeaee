"""The composition root: builds storage, scheduler, outbox, handlers and pipeline for
one config, on one clock and one transport, and starts and stops them in order.

`pingan run` and `pingan simulate` both build this same App; only the clock and the
transport differ.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from bot.clock import Clock
from bot.config import Config
from bot.outbox import Outbox
from bot.pipeline import DuplicateFilter, Pipeline
from bot.rate_limit import RateLimiter
from bot.scheduler import Scheduler
from bot.transports.base import Transport
from handlers.base import DetectorLike, Feature, Services
from handlers.escalation import EscalationClock
from handlers.followups import FollowupReminders
from handlers.guard_posts import GuardPosts
from handlers.officers import OfficerCommands
from handlers.reports import ContactGroupReports
from storage.db import Database

log = logging.getLogger(__name__)


class App:
    def __init__(
        self,
        config: Config,
        clock: Clock,
        transport: Transport,
        detector: DetectorLike,
        *,
        db_path: Path | None = None,
        dedup: DuplicateFilter | None = None,
        limiter: RateLimiter | None = None,
    ):
        self.config = config
        self.clock = clock
        self.transport = transport
        self.db = Database(db_path or config.bot.database)
        self.scheduler = Scheduler(clock)
        self.outbox = Outbox(self.db, transport, clock, limiter)
        self.services = Services(config, clock, self.db, detector, self.scheduler, self.outbox.put)
        self.features = self._build_features(self.services)
        self.pipeline = Pipeline(config, [h for f in self.features for h in f.handlers()], dedup)
        self._tasks: list[asyncio.Task] = []

    @staticmethod
    def _build_features(services: Services) -> list[Feature]:
        """Every behaviour of the bot, in the order handlers are offered a message."""
        escalation = EscalationClock(services)
        followups = FollowupReminders(services)
        return [
            ContactGroupReports(services, on_case_opened=escalation.on_case_changed),
            GuardPosts(services),
            OfficerCommands(services, escalation, followups),
            escalation,
            followups,
        ]

    @property
    def transport_state(self) -> str:
        return self.transport.state

    async def outbox_pending(self) -> int:
        return await self.outbox.pending_count()

    async def start(self) -> None:
        version = await self.db.open()
        log.info("数据库 %s 已就绪（结构版本 %d）", self.db.path, version)
        for feature in self.features:
            await feature.start()
        await self.transport.start(self.pipeline.handle)

    async def run_forever(self) -> None:
        """Live mode: the scheduler and the outbox run until cancelled."""
        self._tasks = [
            asyncio.create_task(self.scheduler.run_forever(), name="scheduler"),
            asyncio.create_task(self.outbox.run_forever(), name="outbox"),
        ]
        await asyncio.gather(*self._tasks)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.transport.stop()
        await self.db.close()
