"""Guard-post records: check-ins, 代班 swaps and attendance figures.

Plain functions over a `sqlite_utils.Database`, run through `Database.write`/`read`.
Dates are stored as ISO `YYYY-MM-DD` (the shift's local date) and moments as ISO
timestamps with offset, so rows sort and compare as text.

Attendance is settled per shift and date when the shift ends (`close_shift_day`): each
person on duty is on time, late or missed, and anyone else who checked in is a helper.
The monthly briefing reads it through `attendance_summary`.
"""
from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Iterable

import sqlite_utils

from storage.sql import in_clause

ON_TIME = "on_time"
LATE = "late"
MISSED = "missed"
HELPER = "helper"
# The bot was not running during the shift: nobody asked for a check-in, so a missing
# one says nothing about the person and must not count against them.
UNRECORDED = "unrecorded"
STATUS_NAMES = {ON_TIME: "准时", LATE: "迟到", MISSED: "缺岗", HELPER: "协助", UNRECORDED: "未记录"}


@dataclass(frozen=True)
class CheckIn:
    person: str
    at: datetime
    on_duty: bool


@dataclass(frozen=True)
class Swap:
    school: str
    shift: str
    day: date
    original: str
    replacement: str
    at: datetime


# --------------------------------------------------------------------------- check-ins


def checkins(db: sqlite_utils.Database, school: str, shift: str, day: date) -> dict[str, CheckIn]:
    rows = db.query(
        "select person, at, on_duty from guard_checkins where school = ? and shift = ? and day = ? order by at, id",
        [school, shift, day.isoformat()],
    )
    return {r["person"]: CheckIn(r["person"], datetime.fromisoformat(r["at"]), bool(r["on_duty"])) for r in rows}


def record_checkin(db: sqlite_utils.Database, school: str, shift: str, day: date, person: str, at: datetime, on_duty: bool) -> tuple[CheckIn, bool]:
    """Record a check-in unless this person already checked in for this shift and date.
    Returns the check-in that counts (the first one) and whether it was new."""
    existing = checkins(db, school, shift, day).get(person)
    if existing is not None:
        return existing, False
    db["guard_checkins"].insert(
        {"school": school, "shift": shift, "day": day.isoformat(), "person": person, "at": at.isoformat(), "on_duty": int(on_duty)}
    )
    return CheckIn(person, at, on_duty), True


# --------------------------------------------------------------------------- swaps


def add_swap(db: sqlite_utils.Database, swap: Swap) -> None:
    db["guard_swaps"].insert(
        {
            "school": swap.school,
            "shift": swap.shift,
            "day": swap.day.isoformat(),
            "original": swap.original,
            "replacement": swap.replacement,
            "at": swap.at.isoformat(),
        }
    )


def swaps_between(db: sqlite_utils.Database, school: str, first: date, last: date) -> list[Swap]:
    """The school's swaps for dates from `first` to `last`, in the order they were made."""
    rows = db.query(
        "select * from guard_swaps where school = ? and day between ? and ? order by id",
        [school, first.isoformat(), last.isoformat()],
    )
    return [
        Swap(r["school"], r["shift"], date.fromisoformat(r["day"]), r["original"], r["replacement"], datetime.fromisoformat(r["at"]))
        for r in rows
    ]


def apply_swaps(names: tuple[str, ...], swaps: Iterable[Swap]) -> tuple[str, ...]:
    """The people on duty once swaps (of this shift and date, oldest first) are applied;
    a replacement takes the original's place in the list."""
    current = list(names)
    for swap in swaps:
        if swap.original in current and swap.replacement not in current:
            current[current.index(swap.original)] = swap.replacement
    return tuple(current)


# --------------------------------------------------------------------------- attendance


def is_closed(db: sqlite_utils.Database, school: str, shift: str, day: date) -> bool:
    return bool(list(db.query("select 1 from guard_closed where school = ? and shift = ? and day = ?", [school, shift, day.isoformat()])))


def last_closed_day(db: sqlite_utils.Database, school: str, shift: str) -> date | None:
    row = db.execute("select max(day) from guard_closed where school = ? and shift = ?", [school, shift]).fetchone()
    return date.fromisoformat(row[0]) if row and row[0] else None


def mark_settled_before(db: sqlite_utils.Database, school: str, shift: str, day: date, now: datetime) -> None:
    """Record that nothing before `day` needs settling: the first start of the bot on
    this database (or with a new shift), so later restarts know where to start."""
    db["guard_closed"].insert(
        {"school": school, "shift": shift, "day": (day - timedelta(days=1)).isoformat(), "closed_at": now.isoformat()},
        ignore=True,
    )


def first_activity_day(db: sqlite_utils.Database, school: str, shift: str) -> date | None:
    """The earliest date with a check-in or a swap: where settling can start on a
    database that never closed a shift."""
    row = db.execute(
        "select min(day) from (select day from guard_checkins where school = ? and shift = ?"
        " union all select day from guard_swaps where school = ? and shift = ?)",
        [school, shift, school, shift],
    ).fetchone()
    return date.fromisoformat(row[0]) if row and row[0] else None


def close_shift_day(
    db: sqlite_utils.Database,
    *,
    school: str,
    shift: str,
    day: date,
    on_duty: tuple[str, ...],
    on_time_until: datetime,
    bot_was_running: bool,
    now: datetime,
) -> bool:
    """Settle a finished shift: on time (checked in by `on_time_until`), late, missed
    (or unrecorded when the bot was not running), and helpers. Idempotent; False when
    it was settled before."""
    if is_closed(db, school, shift, day):
        return False
    seen = checkins(db, school, shift, day)
    rows = []
    for person in on_duty:
        checkin = seen.get(person)
        if checkin is None:
            status = MISSED if bot_was_running else UNRECORDED
        else:
            status = ON_TIME if checkin.at <= on_time_until else LATE
        rows.append((person, status, checkin))
    rows += [(person, HELPER, c) for person, c in seen.items() if person not in on_duty]
    db["guard_attendance"].insert_all(
        {
            "school": school,
            "shift": shift,
            "day": day.isoformat(),
            "person": person,
            "status": status,
            "checked_in_at": c.at.isoformat() if c else None,
        }
        for person, status, c in rows
    )
    db["guard_closed"].insert({"school": school, "shift": shift, "day": day.isoformat(), "closed_at": now.isoformat()})
    return True


@dataclass
class AttendanceRow:
    """One person's figures on one shift of one school over a period."""

    school: str
    shift: str
    person: str
    on_time: int = 0
    late: int = 0
    missed: int = 0
    unrecorded: int = 0
    helper: int = 0

    @property
    def on_duty(self) -> int:
        """Shifts this person was rostered for and the bot could observe."""
        return self.on_time + self.late + self.missed


@dataclass
class AttendanceSummary:
    """Figures for the monthly briefing: 出勤率 = on-time check-ins ÷ people on duty."""

    first: date
    last: date
    rows: list[AttendanceRow] = field(default_factory=list)

    def _total(self, name: str) -> int:
        return sum(getattr(r, name) for r in self.rows)

    @property
    def on_time(self) -> int:
        return self._total("on_time")

    @property
    def late(self) -> int:
        return self._total("late")

    @property
    def missed(self) -> int:
        return self._total("missed")

    @property
    def unrecorded(self) -> int:
        return self._total("unrecorded")

    @property
    def helpers(self) -> int:
        return self._total("helper")

    @property
    def on_duty(self) -> int:
        return self._total("on_duty")

    @property
    def rate(self) -> float | None:
        """On-time ÷ on duty as a fraction; None when nobody was on duty."""
        return self.on_time / self.on_duty if self.on_duty else None

    @property
    def rate_text(self) -> str:
        """As the briefing prints rates: a percentage with two decimals, or —."""
        return "—" if self.rate is None else f"{self.rate * 100:.2f}%"


def attendance_summary(db: sqlite_utils.Database, first: date, last: date, school_ids: Iterable[str] | None = None) -> AttendanceSummary:
    """Per school, shift and person figures for shifts from `first` to `last` (both
    included), for all schools or only `school_ids` (e.g. one station's schools)."""
    sql = (
        "select school, shift, person, status, count(*) as n from guard_attendance"
        " where day between ? and ?"
    )
    params: list = [first.isoformat(), last.isoformat()]
    if school_ids is not None:
        ids = list(school_ids)
        if not ids:
            return AttendanceSummary(first, last)
        sql += f" and {in_clause('school', ids)}"
        params += ids
    sql += " group by school, shift, person, status order by school, shift, person"
    rows: dict[tuple[str, str, str], AttendanceRow] = {}
    for r in db.query(sql, params):
        row = rows.setdefault((r["school"], r["shift"], r["person"]), AttendanceRow(r["school"], r["shift"], r["person"]))
        setattr(row, r["status"], getattr(row, r["status"]) + r["n"])
    return AttendanceSummary(first, last, list(rows.values()))


def attendance_for_month(db: sqlite_utils.Database, year: int, month: int, school_ids: Iterable[str] | None = None) -> AttendanceSummary:
    """The briefing's call: one calendar month's figures."""
    first = date(year, month, 1)
    last = date(year, month, calendar.monthrange(year, month)[1])
    return attendance_summary(db, first, last, school_ids)
