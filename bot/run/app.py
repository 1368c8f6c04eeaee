"""The composition root: builds storage, scheduler, outbox, handlers and pipeline for
one config, on one clock and one transport, and starts and stops them in order.

`pingan run` and `pingan simulate` both build this same App; only the clock and the
transport differ.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from datetime import datetime, timedelta
from pathlib import Path

from bot.clock import Clock
from bot.config import Config
from bot.events import Outgoing
from bot.identity import People
from bot.feature import DetectorLike, Feature, Job, JobFunc, Services
from bot.metrics import CountingDetector, Metrics
from bot.outbox import Outbox
from bot.rate_limit import RateLimiter
from bot.run.pipeline import DuplicateFilter, Pipeline
from bot.run.storage_watch import StorageWatch, admins
from bot.run.work import WorkRunner
from bot.scheduler import Scheduler
from bot.transports.base import Transport
from handlers import build_features
from storage import handled as handled_store
from storage import people as people_store
from storage.db import Database

log = logging.getLogger(__name__)
# While messages wait for the database to take writes again, try this often.
STORAGE_RETRY_INTERVAL = timedelta(seconds=10)
STORAGE_RETRY = "bot.storage_retry"


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
        names_are_ids: bool | None = None,
    ):
        self.config = config
        self.clock = clock
        self.transport = transport
        self.db = Database(db_path or config.bot.database)
        # Counters for /metrics, one set per App: the detector counts its verdicts,
        # the pipeline the messages and urgent replies, the outbox the sends.
        self.metrics = Metrics()
        detector = CountingDetector(detector, self.metrics)
        self.scheduler = Scheduler(clock, self._run_job)
        self.outbox = Outbox(self.db, transport, clock, limiter)
        if names_are_ids is None:
            names_are_ids = getattr(transport, "ids_are_names", False)
        self.people = People(config, names_are_ids=names_are_ids)
        self.runner = WorkRunner(self.db, self.outbox, self.scheduler, clock, route=self.people.address)
        self.features: list[Feature] = build_features(Services(config, clock, detector, self.people, data_dir=self.db.path.parent))
        self.job_funcs = _job_table(self.features)
        self.watch = StorageWatch(config, clock, self.db, self._put_routed)
        self.pipeline = Pipeline(
            config,
            [h for f in self.features for h in f.handlers()],
            self.runner,
            dedup,
            schedule_retry=self._schedule_storage_retry,
            on_storage_change=self.watch.check,
        )
        self.watch.pending = lambda: len(self.pipeline.pending)
        self.watch.dropped = lambda: self.pipeline.dropped
        self.pipeline.metrics = self.outbox.metrics = self.metrics
        self.watch.held = lambda: self.outbox.memory_count
        self.watch.on_failing = self._schedule_storage_retry
        self.outbox.on_storage_change = self.watch.check
        if hasattr(transport, "on_problem"):
            # The Wechaty transport notices rooms that copy a configured topic.
            transport.on_problem = self.tell_admins  # type: ignore[attr-defined]
        self._tasks: list[asyncio.Task] = []

    async def _run_job(self, job: Job, fire_time: datetime) -> bool:
        """The scheduler's runner: a feature's job is carried out like a message."""
        if job.name == STORAGE_RETRY:
            await self._retry_storage()
            return True
        return await self.runner.carry_out(self.job_funcs[job.name](job, fire_time))

    def _schedule_storage_retry(self) -> None:
        """Retry kept messages on the scheduler, so the virtual clock drives it in tests."""
        self.scheduler.add(Job(STORAGE_RETRY, at=self.clock.now() + STORAGE_RETRY_INTERVAL))

    async def _retry_storage(self) -> None:
        if not self.pipeline.pending and self.db.write_error is not None:
            await self.db.probe_write()  # nothing to retry: does writing work again?
        await self.pipeline.retry_pending()  # reschedules itself while work remains
        await self.watch.check()
        if self.watch.failing:
            self._schedule_storage_retry()

    async def _put_routed(self, msg: Outgoing) -> bool:
        """The bot's own alarms go to the admins' bound ids, like every private notice
        (never by name: an impostor of the admin's name must not get them). They hold
        nothing of residents', so an unbound admin's copy goes to the officers' room whole."""
        return await self.outbox.put(self.people.address(dataclasses.replace(msg, redacted=msg.redacted or msg.text)))

    async def tell_admins(self, problem: str) -> None:
        """A problem in the chat network (one line from the transport), sent privately
        to the admins. Urgent, like the storage alarm: it concerns where notices go."""
        for name in admins(self.config):
            try:
                await self._put_routed(Outgoing(text=f"【系统告警】{problem}", contact=name, urgent=True))
            except Exception:  # noqa: BLE001 - the alarm must not break message handling
                log.exception("无法通知管理员 %s", name)

    @property
    def transport_state(self) -> str:
        return self.transport.state

    async def outbox_pending(self) -> int:
        return await self.outbox.pending_count()

    def storage_problem(self) -> str | None:
        return self.watch.problem()

    def scheduler_state(self) -> dict:
        """For /healthz: how many jobs wait and when the next one fires."""
        nxt = self.scheduler.next_fire_time()
        return {"jobs": len(self.scheduler), "next_run": None if nxt is None else nxt.isoformat()}

    async def start(self) -> None:
        version = await self.db.open()
        log.info("数据库 %s 已就绪（结构版本 %d）", self.db.path, version)
        await self.outbox.restore_limits()
        now = self.clock.now()
        await self.db.write(lambda d: handled_store.prune(d, now))
        stored = await self.db.read(people_store.bindings)
        self.people.load((b.name, b.wechat_id) for b in stored)
        for feature in self.features:
            if not await self.runner.carry_out(feature.start()):
                raise RuntimeError(f"数据库无法写入，无法启动：{self.db.path}（{self.db.write_error}）")
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


def _job_table(features: list[Feature]) -> dict[str, JobFunc]:
    """Every feature's job functions by name; a name declared twice is a bug."""
    table: dict[str, JobFunc] = {}
    for feature in features:
        for name, func in feature.jobs().items():
            if name in table or name == STORAGE_RETRY:
                raise ValueError(f"job name declared twice: {name}")
            table[name] = func
    return table
