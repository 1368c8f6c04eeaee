"""The scheduler runs APScheduler triggers on whichever clock runs; jobs carry a name
and their data, and are found and cancelled by them."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.clock import VirtualClock
from bot.feature import Job
from bot.scheduler import Scheduler

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 6, 0, tzinfo=TZ)  # a Monday


def recording(clock: VirtualClock, fired: list, *, fail: str | None = None, redo: set[str] | None = None) -> Scheduler:
    """A scheduler whose runner records (job name, data, fire time); the job named
    `fail` raises; jobs named in `redo` report "nothing stored" once."""

    async def run(job: Job, at: datetime) -> bool:
        if job.name == fail:
            raise RuntimeError("bug")
        if redo is not None and job.name in redo:
            redo.discard(job.name)
            return False
        fired.append((job.name, dict(job.data), at))
        return True

    return Scheduler(clock, run)


async def run_until(scheduler: Scheduler, clock: VirtualClock, end: datetime) -> None:
    while (nxt := scheduler.next_fire_time()) is not None and nxt <= end:
        clock.advance_to(nxt)
        await scheduler.run_due(nxt)


async def test_cron_job_fires_at_each_moment_with_its_scheduled_time_and_data():
    clock = VirtualClock(START)
    fired: list = []
    scheduler = recording(clock, fired)
    scheduler.add(Job("weekly", {"school": "yc1z"}, trigger=CronTrigger(day_of_week="sun", hour=18, timezone=TZ)))
    await run_until(scheduler, clock, START + timedelta(days=21))
    assert fired == [("weekly", {"school": "yc1z"}, datetime(2026, 3, d, 18, 0, tzinfo=TZ)) for d in (8, 15, 22)]


async def test_one_shot_jobs_are_cancelled_by_name_and_data():
    clock = VirtualClock(START)
    fired: list = []
    scheduler = recording(clock, fired)
    at = START + timedelta(minutes=10)
    for case in (1, 2):
        scheduler.add(Job("remind", {"case": case, "round": 1}, at=at))
        scheduler.add(Job("leader", {"case": case, "round": 1}, at=at + timedelta(minutes=5)))
    scheduler.cancel("remind", {"case": 2})  # claimed at minute 9: its reminder goes
    assert [j.data["case"] for j in scheduler.jobs("remind")] == [1]
    assert len(scheduler.jobs("leader")) == 2  # another name is untouched
    await run_until(scheduler, clock, START + timedelta(days=1))
    assert [(name, data["case"]) for name, data, _ in fired] == [("remind", 1), ("leader", 1), ("leader", 2)]
    assert scheduler.next_fire_time() is None


async def test_the_same_job_added_again_replaces_it():
    clock = VirtualClock(START)
    fired: list = []
    scheduler = recording(clock, fired)
    scheduler.add(Job("remind", {"case": 1}, at=START + timedelta(minutes=10)))
    scheduler.add(Job("remind", {"case": 1}, at=START + timedelta(minutes=30)))  # severity changed
    await run_until(scheduler, clock, START + timedelta(days=1))
    assert [at for _, _, at in fired] == [START + timedelta(minutes=30)]


async def test_jobs_at_the_same_moment_run_in_id_order_and_a_failing_job_does_not_stop_others(caplog):
    clock = VirtualClock(START)
    fired: list = []
    scheduler = recording(clock, fired, fail="a")
    at = START + timedelta(hours=1)
    scheduler.add(Job("c", at=at))
    scheduler.add(Job("b", at=at))
    scheduler.add(Job("a", at=at))
    await run_until(scheduler, clock, at)
    assert [name for name, _, _ in fired] == ["b", "c"]
    assert "定时任务 a 执行失败" in caplog.text


async def test_a_job_that_stored_nothing_is_done_again_later_for_its_own_fire_time():
    clock = VirtualClock(START)
    fired: list = []
    scheduler = recording(clock, fired, redo={"remind"})
    at = START + timedelta(minutes=10)
    scheduler.add(Job("remind", {"case": 1}, at=at))
    await run_until(scheduler, clock, START + timedelta(hours=1))
    assert fired == [("remind", {"case": 1}, at)]  # once, and told the moment it was due
    assert clock.now() > at


async def test_catch_up_fires_a_moment_missed_less_than_the_window_ago():
    # The bot starts at 21:18; the 21:15 reminder is 3 minutes late but still due,
    # a 21:05 one (13 minutes late) is not.
    clock = VirtualClock(datetime(2026, 3, 2, 21, 18, tzinfo=TZ))
    fired: list = []
    scheduler = recording(clock, fired)
    scheduler.add(Job("remind", trigger=CronTrigger(hour=21, minute=15, timezone=TZ), catch_up=timedelta(minutes=5)))
    scheduler.add(Job("old", trigger=CronTrigger(hour=21, minute=5, timezone=TZ), catch_up=timedelta(minutes=5)))
    await scheduler.run_due(clock.now())
    assert fired == [("remind", {}, datetime(2026, 3, 2, 21, 15, tzinfo=TZ))]


async def test_the_live_loop_stops_when_cancelled_just_as_its_jobs_change():
    # On Python 3.11 asyncio.wait_for loses a cancellation that arrives just as the
    # awaited event is set, so the loop went on waiting: `pingan run` hung on
    # SIGTERM when a job was added at that moment (seen in CI). The outbox's loop
    # waits the same way (tests/bot/test_outbox.py).
    clock = VirtualClock(START)
    scheduler = recording(clock, [])
    loop = asyncio.create_task(scheduler.run_forever())
    await asyncio.sleep(0)  # the loop now waits for a change or the next fire time
    scheduler.add(Job("later", {}, at=START + timedelta(days=1)))
    await asyncio.sleep(0)  # that wait is over; the loop has not resumed yet
    loop.cancel()
    done, _ = await asyncio.wait({loop}, timeout=5)  # a bound on failure, not a measure
    assert done and loop.cancelled()
