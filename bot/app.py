"""The composition root: builds storage, scheduler, outbox, handlers and pipeline for
one config, on one clock and one transport, and starts and stops them in order.

`pingan run` and `pingan simulate` both build this same App; only the clock and the
transport differ.
"""
from __future__ import annotations

import asyncio
import logging
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import Clock
from bot.config import Config
from bot.outbox import Outbox
from bot.pipeline import DuplicateFilter, Pipeline
from bot.rate_limit import RateLimiter
from bot.scheduler import Scheduler
from bot.storage_watch import StorageWatch
from bot.transports.base import Transport
from handlers.base import DetectorLike, Feature, Services
from handlers.escalation import EscalationClock
from handlers.followups import FollowupReminders
from handlers.guard_posts import GuardPosts
from handlers.officers import OfficerCommands
from handlers.private_reports import PrivateReports
from handlers.reports import ContactGroupReports
from storage.db import Database

log = logging.getLogger(__name__)
# While messages wait for the database to take writes again, try this often.
STORAGE_RETRY_INTERVAL = timedelta(seconds=10)


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
        self.watch = StorageWatch(config, clock, self.db, self.outbox.put)
        self.pipeline = Pipeline(
            config,
            [h for f in self.features for h in f.handlers()],
            dedup,
            schedule_retry=self._schedule_storage_retry,
            on_storage_change=self.watch.check,
        )
        self.watch.pending = lambda: len(self.pipeline.pending)
        self.watch.dropped = lambda: self.pipeline.dropped
        self.watch.held = lambda: self.outbox.memory_count
        self.watch.on_failing = self._schedule_storage_retry
        self.outbox.on_storage_change = self.watch.check
        self._tasks: list[asyncio.Task] = []

    def _schedule_storage_retry(self) -> None:
        """Retry kept messages on the scheduler, so the virtual clock drives it in tests."""

        async def retry(_: datetime) -> None:
            if not self.pipeline.pending and self.db.write_error is not None:
                await self.db.probe_write()  # nothing to retry: does writing work again?
            await self.pipeline.retry_pending()  # reschedules itself while work remains
            await self.watch.check()
            if self.watch.failing:
                self._schedule_storage_retry()

        self.scheduler.add_once("storage-retry", self.clock.now() + STORAGE_RETRY_INTERVAL, retry)

    @staticmethod
    def _build_features(services: Services) -> list[Feature]:
        """Every behaviour of the bot, in the order handlers are offered a message."""
        escalation = EscalationClock(services)
        followups = FollowupReminders(services)
        reports = ContactGroupReports(services, on_case_opened=escalation.on_case_changed)
        return [
            reports,
            GuardPosts(services, report=reports.report),
            PrivateReports(services, report=reports.report),
            OfficerCommands(services, escalation, followups),
            escalation,
            followups,
        ]

    @property
    def transport_state(self) -> str:
        return self.transport.state

    async def outbox_pending(self) -> int:
        return await self.outbox.pending_count()

    def storage_problem(self) -> str | None:
        return self.watch.problem()

    async def start(self) -> None:
        version = await self.db.open()
        log.info("数据库 %s 已就绪（结构版本 %d）", self.db.path, version)
        await self.outbox.restore_limits()
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
