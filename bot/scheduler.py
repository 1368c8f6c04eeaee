"""Scheduled work on whichever clock runs.

APScheduler 3.x supplies the triggers (cron, date, interval and their timezone and DST
rules); this module supplies the loop. APScheduler's own schedulers read the wall
clock and sleep on the event loop, which would make `pingan simulate` take as long as
the weeks it simulates. Here the same jobs run either from `run_forever` (real clock)
or from `run_due` called by the simulator after it moves the virtual clock.

Jobs are rebuilt from config and database at start (no pickled job store), so a
restart never runs stale code or loses a job.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable, Mapping

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger

from bot.clock import Clock
from bot.feature import Job

log = logging.getLogger(__name__)
# A job that stored nothing because the database refused a write runs again this much later.
STORAGE_REDO = timedelta(seconds=30)

# Runs a job at its fire time; False when nothing could be stored (the database refused
# the write) and the job must be done again later.
JobRunner = Callable[[Job, datetime], Awaitable[bool]]


@dataclass
class _Entry:
    job: Job
    trigger: BaseTrigger
    next_time: datetime | None
    redo_of: datetime | None = None  # a redo runs for this original fire time


class Scheduler:
    """Runs jobs at their trigger's fire times; each run gets its scheduled time.

    Jobs are identified by name and data (`Job.id`): adding one again replaces it, and
    `cancel` removes them by name and data, never by string prefixes."""

    def __init__(self, clock: Clock, runner: JobRunner | None = None):
        self.clock = clock
        # Set by the runtime once it exists (it needs the scheduler too).
        self.runner = runner
        self._entries: dict[str, _Entry] = {}
        self._changed = asyncio.Event()

    def add(self, job: Job) -> None:
        """Add (or replace) a job: a one-shot `at` (a moment already past fires on the
        next run) or a repeating `trigger`; with `catch_up`, a fire time that passed
        less than that long ago still fires."""
        if job.trigger is not None:
            first = job.trigger.get_next_fire_time(None, self.clock.now() - job.catch_up)
            self._entries[job.id] = _Entry(job, job.trigger, first)
        else:
            assert job.at is not None, f"job {job.name} has neither a moment nor a trigger"
            self._entries[job.id] = _Entry(job, DateTrigger(run_date=job.at), job.at)
        self._changed.set()

    def cancel(self, name: str, where: Mapping[str, Any] | None = None) -> None:
        for job_id in [i for i, e in self._entries.items() if e.job.name == name and e.job.has(where or {})]:
            del self._entries[job_id]

    def jobs(self, name: str | None = None) -> list[Job]:
        """The scheduled jobs (of one name), in id order."""
        return [self._entries[i].job for i in sorted(self._entries) if name is None or self._entries[i].job.name == name]

    def next_fire_time(self) -> datetime | None:
        times = [e.next_time for e in self._entries.values() if e.next_time is not None]
        return min(times) if times else None

    def next_job(self) -> tuple[datetime, Job] | None:
        """The job that fires next and when (ties by id, as `run_due` runs them)."""
        due = [(e.next_time, job_id, e.job) for job_id, e in self._entries.items() if e.next_time is not None]
        if not due:
            return None
        at, _, job = min(due, key=lambda d: (d[0], d[1]))
        return at, job

    def __len__(self) -> int:
        return len(self._entries)

    async def run_due(self, now: datetime) -> int:
        """Run every job due at or before `now`, earliest first (ties by id, for
        deterministic transcripts). Returns how many ran."""
        ran = 0
        while True:
            due = [(e.next_time, job_id, e) for job_id, e in self._entries.items() if e.next_time is not None and e.next_time <= now]
            if not due:
                return ran
            next_time, job_id, entry = min(due, key=lambda d: (d[0], d[1]))
            assert next_time is not None
            fire_time = entry.redo_of or next_time
            entry.next_time = entry.trigger.get_next_fire_time(next_time, max(now, next_time + timedelta(microseconds=1)))
            if entry.next_time is None and self._entries.get(job_id) is entry:
                del self._entries[job_id]
            await self._run(entry.job, fire_time)
            ran += 1

    async def _run(self, job: Job, fire_time: datetime) -> None:
        assert self.runner is not None, "the scheduler has no runner"
        try:
            done = await self.runner(job, fire_time)
        except Exception:  # one broken job must not stop the others
            log.exception("定时任务 %s 执行失败", job.id)
            return
        if done:
            return
        # Nothing stored (the disk is full): do it again later, for the same fire time.
        log.error("定时任务 %s 未能保存，%d 秒后重做", job.id, STORAGE_REDO.total_seconds())
        redo_at = self.clock.now() + STORAGE_REDO
        redo_id = f"{job.id}#redo@{fire_time.isoformat()}"
        self._entries[redo_id] = _Entry(job, DateTrigger(run_date=redo_at), redo_at, redo_of=fire_time)
        self._changed.set()

    async def run_forever(self) -> None:
        """Real-clock loop: sleep until the next fire time or until jobs change."""
        while True:
            await self.run_due(self.clock.now())
            nxt = self.next_fire_time()
            # Wake at least every minute so a wall-clock jump (NTP, suspend) is noticed.
            timeout = 60.0 if nxt is None else min(60.0, max(0.0, (nxt - self.clock.now()).total_seconds()))
            self._changed.clear()
            # asyncio.timeout, not wait_for: see Outbox.run_forever.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._changed.wait()
