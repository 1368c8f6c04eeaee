"""One shift of one school on one date, and who is on duty for it.

Every guard-post behaviour (reminder, check-in, chase, swap, table, attendance) asks
the same two questions: when are this shift's moments on this date, and who is on
duty once 代班 swaps are applied. Both are answered here, once.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

import sqlite_utils

from bot.config import School, Shift
from handlers.guard_dates import day_label
from handlers.school_days import is_school_day
from storage import guard_posts as store
from storage.db import Database


@dataclass(frozen=True)
class ShiftDay:
    school: School
    shift: Shift
    day: date
    tz: tzinfo

    def _at(self, moment: time, offset: timedelta = timedelta(0)) -> datetime:
        # Wall-clock arithmetic on the local date: "15 minutes before 21:30" is 21:15
        # whatever the UTC offset does that night.
        naive = datetime.combine(self.day, moment) + offset
        return naive.replace(tzinfo=self.tz)

    @property
    def start(self) -> datetime:
        return self._at(self.shift.start)

    @property
    def end(self) -> datetime:
        return self._at(self.shift.end)

    @property
    def remind_at(self) -> datetime:
        """From the reminder on, 到岗 counts for this shift."""
        return self._at(self.shift.start, -timedelta(minutes=self.shift.remind_before_minutes))

    @property
    def grace(self) -> timedelta:
        return timedelta(minutes=self.shift.checkin_grace_minutes)

    @property
    def chase_at(self) -> datetime:
        return self.start + self.grace

    @property
    def officer_at(self) -> datetime:
        return self.start + 2 * self.grace

    @property
    def on_time_until(self) -> datetime:
        """A check-in by the end of the grace period is on time; after it, late."""
        return self.start + self.grace

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

    def key(self, kind: str) -> str:
        """The outbox key of this shift-day's `kind` message: sent once, ever."""
        return f"guard:{self.school.id}:{self.shift.name}:{self.day.isoformat()}:{kind}"


def shift_days(school: School, day: date, tz: tzinfo) -> list[ShiftDay]:
    """The school's shifts on `day`, in start order; none when it is not a school day."""
    if not is_school_day(school, day):
        return []
    return sorted((ShiftDay(school, s, day, tz) for s in school.shifts), key=lambda sd: (sd.shift.start, sd.shift.name))


def duty_with_swaps(sd: ShiftDay, swaps: list[store.Swap]) -> tuple[str, ...]:
    mine = [s for s in swaps if s.shift == sd.shift.name and s.day == sd.day]
    return store.apply_swaps(sd.rostered, mine)


def on_duty_sync(db: sqlite_utils.Database, sd: ShiftDay) -> tuple[str, ...]:
    """Inside a `Database.write`/`read` function: the people on duty after swaps."""
    return duty_with_swaps(sd, store.swaps_between(db, sd.school.id, sd.day, sd.day))


async def on_duty(database: Database, sd: ShiftDay) -> tuple[str, ...]:
    return await database.read(lambda db: on_duty_sync(db, sd))
