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
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Awaitable, Callable

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.date import DateTrigger

from bot.attempts import Attempt, attempting
from bot.clock import Clock
from storage.db import is_storage_failure, track_writes

JobFunc = Callable[[datetime], Awaitable[None]]
log = logging.getLogger(__name__)
# A job that stored nothing because the database refused a write runs again this much later.
STORAGE_REDO = timedelta(seconds=30)


@dataclass
class _Job:
    id: str
    trigger: BaseTrigger
    func: JobFunc
    next_time: datetime | None
    previous: datetime | None = None
    attempt: Attempt | None = None  # set on a redo: what the failed try queued


class Scheduler:
    """Runs job functions at their trigger's fire times; a job gets its scheduled time."""

    def __init__(self, clock: Clock):
        self.clock = clock
        self._jobs: dict[str, _Job] = {}
        self._changed = asyncio.Event()

    def add(self, job_id: str, trigger: BaseTrigger, func: JobFunc, *, catch_up: timedelta = timedelta(0)) -> None:
        """Add (or replace) a job. With `catch_up`, a fire time that passed less than that
        long ago still fires: work missed while the bot was down is done on start."""
        now = self.clock.now()
        first = trigger.get_next_fire_time(None, now - catch_up)
        self._jobs[job_id] = _Job(job_id, trigger, func, first)
        self._changed.set()

    def add_once(self, job_id: str, when: datetime, func: JobFunc) -> None:
        """A one-shot job; a moment already past fires on the next run."""
        self._jobs[job_id] = _Job(job_id, DateTrigger(run_date=when), func, when)
        self._changed.set()

    def remove(self, job_id: str) -> None:
        self._jobs.pop(job_id, None)

    def remove_prefix(self, prefix: str) -> None:
        for job_id in [j for j in self._jobs if j.startswith(prefix)]:
            del self._jobs[job_id]

    def next_fire_time(self) -> datetime | None:
        times = [j.next_time for j in self._jobs.values() if j.next_time is not None]
        return min(times) if times else None

    async def run_due(self, now: datetime) -> int:
        """Run every job due at or before `now`, earliest first (ties by id, for
        deterministic transcripts). Returns how many ran."""
        ran = 0
        while True:
            due = [j for j in self._jobs.values() if j.next_time is not None and j.next_time <= now]
            if not due:
                return ran
            job = min(due, key=lambda j: (j.next_time, j.id))
            fire_time = job.next_time
            assert fire_time is not None
            job.previous = fire_time
            job.next_time = job.trigger.get_next_fire_time(fire_time, max(now, fire_time + timedelta(microseconds=1)))
            if job.next_time is None and self._jobs.get(job.id) is job:
                del self._jobs[job.id]
            await self._run_job(job, fire_time)
            ran += 1

    async def _run_job(self, job: _Job, fire_time: datetime) -> None:
        attempt = job.attempt or Attempt(None, job.func)
        with track_writes() as tally, attempting(attempt):
            try:
                await job.func(fire_time)
                return
            except Exception as exc:  # one broken job must not stop the others
                if not (is_storage_failure(exc) and tally.count == 0):
                    log.exception("定时任务 %s 执行失败", job.id)
                    return
                failure = exc
        # Nothing stored (the disk is full): do it again later at the same fire time;
        # what this try already sent (from memory) is not sent twice.
        log.error("定时任务 %s 未能保存（%s），%d 秒后重做", job.id, failure, STORAGE_REDO.total_seconds())
        redo_id = f"{job.id}#redo@{fire_time.isoformat()}"
        self._jobs[redo_id] = _Job(redo_id, DateTrigger(run_date=fire_time), lambda _t, f=job.func: f(fire_time), self.clock.now() + STORAGE_REDO, attempt=attempt)
        self._changed.set()

    async def run_forever(self) -> None:
        """Real-clock loop: sleep until the next fire time or until jobs change."""
        while True:
            await self.run_due(self.clock.now())
            nxt = self.next_fire_time()
            # Wake at least every minute so a wall-clock jump (NTP, suspend) is noticed.
            timeout = 60.0 if nxt is None else min(60.0, max(0.0, (nxt - self.clock.now()).total_seconds()))
            self._changed.clear()
            try:
                await asyncio.wait_for(self._changed.wait(), timeout)
            except TimeoutError:
                pass
