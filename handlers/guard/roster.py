"""One shift of one school on one date, and who is on duty for it.

Every guard-post behaviour (reminder, check-in, chase, swap, table, attendance) asks
the same two questions: when are this shift's moments on this date, and who is on
duty once 代班 swaps are applied. Both are answered here, once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

import sqlite_utils

from bot.config import Config, School, Shift
from handlers.guard.calendar import is_school_day
from handlers.guard.dates import day_label
from storage import guard_posts as store


def remind_lead(shift: Shift) -> timedelta:
    """How long before the start the reminder goes out (and 到岗 starts to count)."""
    return timedelta(minutes=shift.remind_before_minutes)


def grace(shift: Shift) -> timedelta:
    """After the start: until then 到岗 is on time; then the chase; twice it, the officer."""
    return timedelta(minutes=shift.checkin_grace_minutes)


def length(shift: Shift) -> timedelta:
    """From start to end, on the wall clock (the end moment's offset from the start)."""
    return timedelta(hours=shift.end.hour - shift.start.hour, minutes=shift.end.minute - shift.start.minute)


@dataclass(frozen=True)
class ShiftDay:
    school: School
    shift: Shift
    day: date
    tz: tzinfo

    def at(self, offset: timedelta) -> datetime:
        """The moment `offset` after the shift's start on this date. Wall-clock
        arithmetic on the local date: "15 minutes before 21:30" is 21:15 whatever the
        UTC offset does that night."""
        return (datetime.combine(self.day, self.shift.start) + offset).replace(tzinfo=self.tz)

    @property
    def start(self) -> datetime:
        return self.at(timedelta(0))

    @property
    def end(self) -> datetime:
        return datetime.combine(self.day, self.shift.end).replace(tzinfo=self.tz)

    @property
    def remind_at(self) -> datetime:
        """From the reminder on, 到岗 counts for this shift."""
        return self.at(-remind_lead(self.shift))

    @property
    def on_time_until(self) -> datetime:
        """A check-in by the end of the grace period is on time; after it, late."""
        return self.at(grace(self.shift))

    @property
    def rostered(self) -> tuple[str, ...]:
        """The weekday roster from the config, before swaps."""
        return self.shift.on_duty(self.day)

    @property
    def hours(self) -> str:
        return f"{self.shift.start:%H:%M}–{self.shift.end:%H:%M}"

    def label(self) -> str:
        """`3月5日（周四）晚间护学岗 21:30–22:10`"""
        return f"{day_label(self.day)}{self.shift.name} {self.hours}"

    def key(self, message: str) -> str:
        """The outbox key of this shift-day's `message` (remind, unstaffed, chase,
        officer): sent once, ever."""
        return f"guard:{self.school.id}:{self.shift.name}:{self.day.isoformat()}:{message}"


def shift_days(school: School, day: date, tz: tzinfo) -> list[ShiftDay]:
    """The school's shifts on `day`, in start order; none when it is not a school day."""
    if not is_school_day(school, day):
        return []
    return sorted((ShiftDay(school, s, day, tz) for s in school.shifts), key=lambda sd: (sd.shift.start, sd.shift.name))


def duty_with_swaps(sd: ShiftDay, swaps: list[store.Swap]) -> tuple[str, ...]:
    """The people on duty, given swaps read for a span of dates (the table reads a week)."""
    mine = [s for s in swaps if s.shift == sd.shift.name and s.day == sd.day]
    return store.apply_swaps(sd.rostered, mine)


def on_duty(db: sqlite_utils.Database, sd: ShiftDay) -> tuple[str, ...]:
    """Inside a transaction: the people on duty after swaps."""
    return duty_with_swaps(sd, store.swaps_between(db, sd.school.id, sd.day, sd.day))


def school_of(config: Config, school_id: str) -> School:
    """The school a job's data names (jobs carry ids, not config objects)."""
    return next(s for s in config.schools if s.id == school_id)


def shift_of(school: School, name: str) -> Shift:
    return next(s for s in school.shifts if s.name == name)
