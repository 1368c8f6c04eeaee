"""The scheduler runs APScheduler triggers on whichever clock runs."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger

from bot.clock import VirtualClock
from bot.scheduler import Scheduler

TZ = ZoneInfo("Asia/Shanghai")
START = datetime(2026, 3, 2, 6, 0, tzinfo=TZ)  # a Monday


async def run_until(scheduler: Scheduler, clock: VirtualClock, end: datetime) -> None:
    while (nxt := scheduler.next_fire_time()) is not None and nxt <= end:
        clock.advance_to(nxt)
        await scheduler.run_due(nxt)


async def test_cron_job_fires_at_each_moment_with_its_scheduled_time():
    clock = VirtualClock(START)
    scheduler = Scheduler(clock)
    fired: list[datetime] = []

    async def job(at: datetime) -> None:
        fired.append(at)

    scheduler.add("weekly", CronTrigger(day_of_week="sun", hour=18, timezone=TZ), job)
    await run_until(scheduler, clock, START + timedelta(days=21))
    assert fired == [datetime(2026, 3, d, 18, 0, tzinfo=TZ) for d in (8, 15, 22)]


async def test_one_shot_job_runs_once_and_can_be_removed_before():
    clock = VirtualClock(START)
    scheduler = Scheduler(clock)
    fired: list[str] = []

    async def job_a(at: datetime) -> None:
        fired.append("a")

    async def job_b(at: datetime) -> None:
        fired.append("b")

    scheduler.add_once("case:1:remind", START + timedelta(minutes=10), job_a)
    scheduler.add_once("case:2:remind", START + timedelta(minutes=10), job_b)
    scheduler.remove("case:2:remind")  # claimed at minute 9
    await run_until(scheduler, clock, START + timedelta(days=1))
    assert fired == ["a"]
    assert scheduler.next_fire_time() is None


async def test_jobs_at_the_same_moment_run_in_id_order_and_a_failing_job_does_not_stop_others(caplog):
    clock = VirtualClock(START)
    scheduler = Scheduler(clock)
    fired: list[str] = []

    async def boom(at: datetime) -> None:
        raise RuntimeError("bug")

    async def record(at: datetime) -> None:
        fired.append("ok")

    at = START + timedelta(hours=1)
    scheduler.add_once("b", at, record)
    scheduler.add_once("a", at, boom)
    await run_until(scheduler, clock, at)
    assert fired == ["ok"]
    assert "定时任务 a 执行失败" in caplog.text


async def test_catch_up_fires_a_moment_missed_less_than_the_window_ago():
    # The bot starts at 21:18; the 21:15 reminder is 3 minutes late but still due,
    # a 21:05 one (13 minutes late) is not.
    clock = VirtualClock(datetime(2026, 3, 2, 21, 18, tzinfo=TZ))
    scheduler = Scheduler(clock)
    fired: list[datetime] = []

    async def job(at: datetime) -> None:
        fired.append(at)

    scheduler.add("remind", CronTrigger(hour=21, minute=15, timezone=TZ), job, catch_up=timedelta(minutes=5))
    scheduler.add("old", CronTrigger(hour=21, minute=5, timezone=TZ), job, catch_up=timedelta(minutes=5))
    await scheduler.run_due(clock.now())
    assert fired == [datetime(2026, 3, 2, 21, 15, tzinfo=TZ)]
