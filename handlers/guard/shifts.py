"""Scheduled guard-post work: reminders, chasing, officer notices and settling
attendance when a shift ends.

Each step is one daily cron job per school and shift, named for the step and
carrying the school and the shift (`Job("guard.remind", {"school": "yc1z", "shift":
"晚间护学岗"})`), at the shift's moment (start − remind, start + grace, start +
2×grace, end); the job works out which date it is for and does nothing on a day that
is not a school day. Jobs are rebuilt at start, so a config change takes effect on
restart and nothing is pickled.

Restart safety: every message carries an outbox key (school, shift, date, message), so
it is sent at most once however often a job runs. Jobs are added with a one-day
catch-up so that after a restart the last missed moment of each job still runs: if it
passed less than `LATE_LIMIT` ago the message goes out late; otherwise it is dropped
with a log line (a reminder half an hour after the shift began only confuses people).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Callable

import sqlite_utils
from apscheduler.triggers.cron import CronTrigger

from bot.clock import Clock
from bot.config import Shift
from bot.events import Outgoing
from bot.feature import NOTHING, Job, JobFunc, Outcome, Services, Work
from handlers.guard.attendance import settle
from handlers.guard.calendar import is_school_day
from handlers.guard.roster import ShiftDay, grace, length, on_duty, remind_lead, school_of, shift_of
from handlers.text import minute_text
from storage import guard_posts as store
from storage.outbox import queued_keys

log = logging.getLogger(__name__)

LATE_LIMIT = timedelta(minutes=5)  # a missed message later than this is dropped
CATCH_UP = timedelta(days=1)  # how far back a restart looks for a missed moment


@dataclass(frozen=True)
class Step:
    """One scheduled step of every shift: its job's name, when it happens relative to
    the shift's start, and how far back a restart catches it up."""

    job: str
    offset: Callable[[Shift], timedelta]
    catch_up: timedelta = CATCH_UP
    # Chasing: nobody is chased once the shift is over, so such a moment gets no job.
    only_before_end: bool = False


REMIND = Step("guard.remind", lambda s: -remind_lead(s))
CHASE = Step("guard.chase", grace, only_before_end=True)
# The officer hears who is missing at twice the grace, or at the shift's end when the
# shift is shorter than that: a short shift must not leave an absence unreported
# (`check-config` warns about such shifts).
OFFICER = Step("guard.officer", lambda s: min(2 * grace(s), length(s)))
# Settling is silent and idempotent; a restart settles what it missed through
# `settle_missed`, so no catch-up here.
CLOSE = Step("guard.close", length, catch_up=timedelta(0))
STEPS = (REMIND, CHASE, OFFICER, CLOSE)


def deliver_unless_late(db: sqlite_utils.Database, clock: Clock, fire_time: datetime, what: str, messages: list[Outgoing]) -> Outcome:
    """Inside a job's transaction: a moment's messages, unless the moment passed more
    than LATE_LIMIT ago; then none, with a log line (none if they were queued before
    a restart: they went out then)."""
    if not messages:
        return Outcome()
    lateness = clock.now() - fire_time
    if lateness <= LATE_LIMIT:
        return Outcome(sends=messages)
    keys = [m.key for m in messages if m.key]
    if queued_keys(db, keys) != set(keys):
        log.warning(
            "%s错过了发送时间（%s，已过去%d分钟，超过%d分钟），不再补发：%s",
            what,
            minute_text(fire_time.astimezone(clock.tz)),
            lateness.total_seconds() // 60,
            LATE_LIMIT.total_seconds() // 60,
            "、".join(keys),
        )
    return Outcome()


class ShiftJobs:
    def __init__(self, services: Services):
        self.services = services
        self.tz = services.config.bot.tz

    def jobs(self) -> dict[str, JobFunc]:
        return {REMIND.job: self.remind, CHASE.job: self.chase, OFFICER.job: self.tell_officer, CLOSE.job: self.close}

    def schedule(self) -> list[Job]:
        jobs = []
        for school in self.services.config.schools:
            for shift in school.shifts:
                for step in STEPS:
                    offset = step.offset(shift)
                    if step.only_before_end and offset >= length(shift):
                        continue
                    moment = datetime.combine(date(2000, 1, 1), shift.start) + offset
                    trigger = CronTrigger(hour=moment.hour, minute=moment.minute, timezone=self.tz)
                    jobs.append(Job(step.job, {"school": school.id, "shift": shift.name}, trigger=trigger, catch_up=step.catch_up))
        return jobs

    def _shift_day(self, step: Step, job: Job, fire_time: datetime) -> ShiftDay | None:
        """The shift-day a step's fire time belongs to (a long reminder lead time can
        put the reminder on the evening before); None when that is not a school day."""
        school = school_of(self.services.config, job.data["school"])
        shift = shift_of(school, job.data["shift"])
        wall_clock = fire_time.astimezone(self.tz).replace(tzinfo=None)
        day = (wall_clock - step.offset(shift)).date()
        return ShiftDay(school, shift, day, self.tz) if is_school_day(school, day) else None

    def _deliver(self, db: sqlite_utils.Database, fire_time: datetime, what: str, messages: list[Outgoing]) -> Outcome:
        return deliver_unless_late(db, self.services.clock, fire_time, what, messages)

    # -- the jobs -----------------------------------------------------------------------

    def remind(self, job: Job, fire_time: datetime) -> Work:
        sd = self._shift_day(REMIND, job, fire_time)
        if sd is None:
            return NOTHING
        return Work.transact(lambda db: self._deliver(db, fire_time, "护学岗提醒", _reminders(sd, on_duty(db, sd))))

    def chase(self, job: Job, fire_time: datetime) -> Work:
        sd = self._shift_day(CHASE, job, fire_time)
        if sd is None:
            return NOTHING

        def transaction(db: sqlite_utils.Database) -> Outcome:
            missing, _ = _missing(db, sd)
            messages = []
            if missing:
                text = f"{sd.shift.name}已于{sd.shift.start:%H:%M}开始，还没有收到以上人员的“到岗”，请尽快到岗并回复。"
                messages.append(Outgoing(text=text, room=sd.school.room, mentions=missing, key=sd.key("chase")))
            return self._deliver(db, fire_time, "护学岗催到岗", messages)

        return Work.transact(transaction)

    def tell_officer(self, job: Job, fire_time: datetime) -> Work:
        sd = self._shift_day(OFFICER, job, fire_time)
        if sd is None:
            return NOTHING

        def transaction(db: sqlite_utils.Database) -> Outcome:
            missing, present = _missing(db, sd)
            messages = []
            if missing:
                lines = [
                    f"【护学岗未到岗】{sd.school.name} {sd.label()}",
                    f"到{fire_time.astimezone(self.tz):%H:%M}仍未回复到岗：{'、'.join(missing)}",
                ]
                if present:
                    lines.append(f"已到岗：{'、'.join(present)}")
                messages.append(Outgoing(text="\n".join(lines), contact=sd.school.officer, key=sd.key("officer")))
            return self._deliver(db, fire_time, "护学岗未到岗通知", messages)

        return Work.transact(transaction)

    def close(self, job: Job, fire_time: datetime) -> Work:
        sd = self._shift_day(CLOSE, job, fire_time)
        if sd is None:
            return NOTHING

        def transaction(db: sqlite_utils.Database) -> Outcome:
            settle(db, sd, self.services.clock.now())
            return Outcome()

        return Work.transact(transaction)


def _reminders(sd: ShiftDay, duty: tuple[str, ...]) -> list[Outgoing]:
    room = sd.school.room
    if duty:
        text = f"【护学岗提醒】今天{sd.shift.name} {sd.hours}，请值班人员准时到岗，到岗后在群里回复“到岗”。"
        return [Outgoing(text=text, room=room, mentions=duty, key=sd.key("remind"))]
    # Nobody on the roster (e.g. a 调休 Saturday): the post still needs people, so ask
    # the room and tell the supervising officer.
    text = f"【护学岗提醒】今天{sd.shift.name} {sd.hours}，值班表上没有安排人员，已告知{sd.school.officer}。能到岗的请回复“到岗”。"
    notice = f"【护学岗无人排班】{sd.school.name} {sd.label()}，值班表上没有安排人员，请协调安排。"
    return [
        Outgoing(text=text, room=room, key=sd.key("remind")),
        Outgoing(text=notice, contact=sd.school.officer, key=sd.key("unstaffed")),
    ]


def _missing(db: sqlite_utils.Database, sd: ShiftDay) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(on duty and not checked in, checked in) right now."""
    duty = on_duty(db, sd)
    seen = store.checkins(db, sd.school.id, sd.shift.name, sd.day)
    return tuple(p for p in duty if p not in seen), tuple(seen)
