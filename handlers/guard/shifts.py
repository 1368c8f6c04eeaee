"""Scheduled guard-post work: reminders, chasing, officer notices and settling
attendance when a shift ends.

Each kind of work is one daily cron job per school and shift, at the shift's moment
(start − remind, start + grace, start + 2×grace, end); the job works out which date
it is for and does nothing on a day that is not a school day. Jobs are rebuilt at
start, so a config change takes effect on restart and nothing is pickled.

Restart safety: every message carries an outbox key (school, shift, date, kind), so it
is sent at most once however often a job runs. Jobs are added with a one-day catch-up
so that after a restart the last missed moment of each job still runs: if it passed
less than `LATE_LIMIT` ago the message goes out late; otherwise it is dropped with a
log line (a reminder half an hour after the shift began only confuses people).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Awaitable, Callable

import sqlite_utils
from apscheduler.triggers.cron import CronTrigger

from bot.config import School, Shift
from bot.events import Outgoing
from handlers.base import Services
from handlers.guard_roster import ShiftDay, on_duty_sync, shift_days
from handlers.school_days import is_school_day
from storage import guard_posts as store

log = logging.getLogger(__name__)

LATE_LIMIT = timedelta(minutes=5)  # a missed message later than this is dropped
CATCH_UP = timedelta(days=1)  # how far back a restart looks for a missed moment
SETTLE_LOOKBACK = timedelta(days=400)  # oldest unsettled shift a restart will settle


@dataclass(frozen=True)
class _Kind:
    """One kind of shift work and when it happens, relative to the shift's start."""

    name: str
    offset: Callable[[Shift], timedelta]


REMIND = _Kind("remind", lambda s: -timedelta(minutes=s.remind_before_minutes))
CHASE = _Kind("chase", lambda s: timedelta(minutes=s.checkin_grace_minutes))
OFFICER = _Kind("officer", lambda s: timedelta(minutes=2 * s.checkin_grace_minutes))
CLOSE = _Kind("close", lambda s: _minutes_between(s.start, s.end))


def _minutes_between(start: time, end: time) -> timedelta:
    return timedelta(hours=end.hour - start.hour, minutes=end.minute - start.minute)


def _before_end(shift: Shift, offset: timedelta) -> bool:
    """Nobody is chased once the shift is over, so such moments get no job at all."""
    return offset < _minutes_between(shift.start, shift.end)


async def deliver_unless_late(services: Services, fire_time: datetime, what: str, messages: list[Outgoing]) -> None:
    """Send a moment's messages, unless the moment passed more than LATE_LIMIT ago:
    then drop them with a log line (silently if they went out before a restart)."""
    if not messages:
        return
    lateness = services.clock.now() - fire_time
    if lateness <= LATE_LIMIT:
        for message in messages:
            await services.send(message)
        return
    keys = [m.key for m in messages if m.key]
    if not await services.db.read(lambda db: all(store.queued(db, k) for k in keys)):
        log.warning(
            "%s错过了发送时间（%s，已过去%d分钟，超过%d分钟），不再补发：%s",
            what,
            fire_time.astimezone(services.clock.tz).strftime("%Y-%m-%d %H:%M"),
            lateness.total_seconds() // 60,
            LATE_LIMIT.total_seconds() // 60,
            "、".join(keys),
        )


class ShiftJobs:
    def __init__(self, services: Services):
        self.s = services
        self.tz = services.config.bot.tz

    # -- scheduling -------------------------------------------------------------------

    def schedule(self) -> None:
        for school in self.s.config.schools:
            for shift in school.shifts:
                for kind, work in ((REMIND, self._remind), (CHASE, self._chase), (OFFICER, self._tell_officer)):
                    if kind is REMIND or _before_end(shift, kind.offset(shift)):
                        self._add(school, shift, kind, work, CATCH_UP)
                # Settling is silent and idempotent; restarts settle what they missed
                # through `settle_missed`, so no catch-up here.
                self._add(school, shift, CLOSE, self._close, timedelta(0))

    def _add(self, school: School, shift: Shift, kind: _Kind, work: Callable[[ShiftDay, datetime], Awaitable[None]], catch_up: timedelta) -> None:
        offset = kind.offset(shift)
        moment = datetime.combine(date(2000, 1, 1), shift.start) + offset
        trigger = CronTrigger(hour=moment.hour, minute=moment.minute, timezone=self.tz)

        async def run(fire_time: datetime) -> None:
            # The date of the shift this moment belongs to (a long reminder lead time
            # can put the reminder on the evening before).
            local = fire_time.astimezone(self.tz).replace(tzinfo=None)
            day = (local - offset).date()
            if not is_school_day(school, day):
                return
            await work(ShiftDay(school, shift, day, self.tz), fire_time)

        self.s.scheduler.add(f"guard:{school.id}:{shift.name}:{kind.name}", trigger, run, catch_up=catch_up)

    # -- the work ---------------------------------------------------------------------

    async def _remind(self, sd: ShiftDay, fire_time: datetime) -> None:
        duty = await self.s.db.read(lambda db: on_duty_sync(db, sd))
        room = sd.school.room
        if duty:
            text = f"【护学岗提醒】今天{sd.shift.name} {sd.hours}，请值班人员准时到岗，到岗后在群里回复“到岗”。"
            messages = [Outgoing(text=text, room=room, mentions=duty, key=sd.key("remind"))]
        else:
            # Nobody on the roster (e.g. a 调休 Saturday): the post still needs people,
            # so ask the room and tell the supervising officer.
            text = f"【护学岗提醒】今天{sd.shift.name} {sd.hours}，值班表上没有安排人员，已告知{sd.school.officer}。能到岗的请回复“到岗”。"
            notice = f"【护学岗无人排班】{sd.school.name} {sd.label()}，值班表上没有安排人员，请协调安排。"
            messages = [
                Outgoing(text=text, room=room, key=sd.key("remind")),
                Outgoing(text=notice, contact=sd.school.officer, key=sd.key("unstaffed")),
            ]
        await deliver_unless_late(self.s, fire_time, "护学岗提醒", messages)

    async def _missing(self, sd: ShiftDay) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(on duty and not checked in, checked in) right now."""

        def look(db: sqlite_utils.Database) -> tuple[tuple[str, ...], tuple[str, ...]]:
            duty = on_duty_sync(db, sd)
            seen = store.checkins(db, sd.school.id, sd.shift.name, sd.day)
            return tuple(p for p in duty if p not in seen), tuple(seen)

        return await self.s.db.read(look)

    async def _chase(self, sd: ShiftDay, fire_time: datetime) -> None:
        missing, _ = await self._missing(sd)
        messages = []
        if missing:
            text = f"{sd.shift.name}已于{sd.shift.start:%H:%M}开始，还没有收到以上人员的“到岗”，请尽快到岗并回复。"
            messages.append(Outgoing(text=text, room=sd.school.room, mentions=missing, key=sd.key("chase")))
        await deliver_unless_late(self.s, fire_time, "护学岗催到岗", messages)

    async def _tell_officer(self, sd: ShiftDay, fire_time: datetime) -> None:
        missing, present = await self._missing(sd)
        messages = []
        if missing:
            lines = [
                f"【护学岗未到岗】{sd.school.name} {sd.label()}",
                f"到{fire_time.astimezone(self.tz):%H:%M}仍未回复到岗：{'、'.join(missing)}",
            ]
            if present:
                lines.append(f"已到岗：{'、'.join(present)}")
            messages.append(Outgoing(text="\n".join(lines), contact=sd.school.officer, key=sd.key("officer")))
        await deliver_unless_late(self.s, fire_time, "护学岗未到岗通知", messages)

    async def _close(self, sd: ShiftDay, fire_time: datetime) -> None:
        await self.settle(sd)

    # -- attendance ---------------------------------------------------------------------

    async def settle(self, sd: ShiftDay) -> bool:
        """Write the shift's attendance from the roster as it stands at its end."""
        now = self.s.clock.now()

        def close(db: sqlite_utils.Database) -> bool:
            # Evidence the bot was up during the shift: without it a missing check-in
            # is "unrecorded", not "missed" — nobody was asked.
            running = any(store.queued(db, sd.key(k)) for k in ("remind", "chase", "officer")) or bool(
                store.checkins(db, sd.school.id, sd.shift.name, sd.day)
            )
            return store.close_shift_day(
                db,
                school=sd.school.id,
                shift=sd.shift.name,
                day=sd.day,
                on_duty=on_duty_sync(db, sd),
                on_time_until=sd.on_time_until,
                bot_was_running=running,
                now=now,
            )

        return await self.s.db.write(close)

    async def settle_missed(self) -> int:
        """At start: settle every shift that ended while the bot was down. Starts after
        the last settled date (or the first check-in or swap of a new database)."""
        now = self.s.clock.now()
        today = now.astimezone(self.tz).date()
        settled = 0
        for school in self.s.config.schools:
            for shift in school.shifts:
                last, first_seen = await self.s.db.read(
                    lambda db, sh=shift.name: (store.last_closed_day(db, school.id, sh), store.first_activity_day(db, school.id, sh))
                )
                if last is None:
                    # First start for this shift: settle from today (or the first
                    # check-in or swap on record), and leave a mark so that the next
                    # start, however late, settles from here.
                    first = min(first_seen or today, today)
                    await self.s.db.write(lambda db, sh=shift.name, f=first: store.mark_settled_before(db, school.id, sh, f, now))
                else:
                    first = last + timedelta(days=1)
                day = max(first, today - SETTLE_LOOKBACK)
                while day <= today:
                    for sd in shift_days(school, day, self.tz):
                        if sd.shift.name == shift.name and sd.end <= now and await self.settle(sd):
                            settled += 1
                    day += timedelta(days=1)
        if settled:
            log.info("补记了 %d 个已结束班次的出勤", settled)
        return settled

