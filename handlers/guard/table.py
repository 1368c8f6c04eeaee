"""The weekly duty table (值班表): a week's school days, shifts and names after swaps.

Sent every Sunday at 18:00 for the coming week, and on request (`值班表` in the room).
It is read on a phone, so one line per day where a school has one shift, and swaps
are shown where they happen ("王老师（代赵老师）") so nobody is surprised.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo

import sqlite_utils
from apscheduler.triggers.cron import CronTrigger

from bot.config import School
from bot.events import Incoming, Outgoing
from bot.feature import NOTHING, Job, JobFunc, Outcome, Services, Work
from handlers.guard.calendar import DayOff, day_off, holiday_name, in_term, is_makeup_workday
from handlers.guard.dates import short_day
from handlers.guard.roster import ShiftDay, duty_with_swaps, school_of, shift_days
from handlers.guard.shifts import CATCH_UP, deliver_unless_late
from storage import guard_posts as store

NOBODY = "（无人排班）"


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of the week containing `day`."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def _names(sd: ShiftDay, swaps: list[store.Swap]) -> str:
    duty = duty_with_swaps(sd, swaps)
    if not duty:
        return NOBODY
    # Who each replacement stands in for: follow the chain back to the roster name.
    stands_in: dict[str, str] = {}
    for swap in swaps:
        if swap.shift == sd.shift.name and swap.day == sd.day:
            stands_in[swap.replacement] = stands_in.pop(swap.original, swap.original)
    return "、".join(f"{p}（代{stands_in[p]}）" if p in stands_in and stands_in[p] != p else p for p in duty)


def _day_note(school: School, day: date) -> str:
    """Why a weekend day is a school day: the state's 调休, or the school's own open date."""
    if day.weekday() < 5:
        return ""
    if is_makeup_workday(day, school.calendar):
        return "（调休上课）"
    return "（补课）" if day in school.open else ""


def _day_off_note(school: School, day: date) -> str:
    """Why a weekday in term has no school, as the table says it."""
    why = day_off(school, day)
    if why is DayOff.HOLIDAY:
        return f"（{holiday_name(day, school.calendar)}）"
    return "（停课）" if why is DayOff.CLOSED else ""


def has_school_day(school: School, first: date, last: date, tz: tzinfo) -> bool:
    return any(shift_days(school, first + timedelta(days=i), tz) for i in range((last - first).days + 1))


def render_table(school: School, first: date, last: date, swaps: list[store.Swap], tz: tzinfo, unbound: tuple[str, ...] = ()) -> str:
    """The table text for dates `first`..`last` (a Monday–Sunday week); `unbound`:
    staff on it whose WeChat id is not bound yet (their 到岗 counts by name)."""
    lines = [f"【护学岗值班表】{school.name} {first.month}月{first.day}日–{last.month}月{last.day}日"]
    single = len(school.shifts) == 1
    if single:
        only = school.shifts[0]
        lines.append(f"{only.name} {only.start:%H:%M}–{only.end:%H:%M}")
    any_day = False
    day = first
    while day <= last:
        sds = shift_days(school, day, tz)
        if sds:
            any_day = True
            if single:
                lines.append(f"{short_day(day)}{_day_note(school, day)}：{_names(sds[0], swaps)}")
            else:
                lines.append(f"{short_day(day)}{_day_note(school, day)}")
                lines += [f"  {sd.shift.name} {sd.hours}：{_names(sd, swaps)}" for sd in sds]
        elif day.weekday() < 5 and in_term(school, day):
            # A weekday off inside the term is news; weekends off are not.
            lines.append(f"{short_day(day)}：不上课{_day_off_note(school, day)}")
        day += timedelta(days=1)
    if not any_day:
        lines.append("这一周没有上课日，护学岗暂停。")
    else:
        lines.append("到岗后请在群里回复“到岗”；需要换班请发：代班 日期 班次 代班人")
    if unbound:
        lines.append(f"提醒：{'、'.join(unbound)}尚未绑定微信，到岗暂按微信名登记；请向社区民警索取验证码，私聊本助手发送“绑定 验证码”。")
    return "\n".join(lines)


class WeeklyTable:
    """Sunday 18:00: next week's table in each school's room, once per school and week;
    and the table on request."""

    JOB = "guard.table"
    SEND_AT = {"day_of_week": "sun", "hour": 18, "minute": 0}

    def __init__(self, services: Services):
        self.services = services
        self.tz = services.config.bot.tz

    def jobs(self) -> dict[str, JobFunc]:
        return {self.JOB: self.weekly}

    def schedule(self) -> list[Job]:
        return [
            Job(self.JOB, {"school": school.id}, trigger=CronTrigger(**self.SEND_AT, timezone=self.tz), catch_up=CATCH_UP)
            for school in self.services.config.schools
        ]

    def on_request(self, school: School, msg: Incoming, next_week: bool) -> Work:
        """`值班表` (this week) or `下周值班表` in the room: a read-only answer."""
        first, last = week_of(msg.at.astimezone(self.tz).date() + timedelta(days=7 if next_week else 0))
        return Work.query(lambda db: Outcome(sends=[Outgoing(text=self._text(db, school, first, last), room=school.room, room_id=msg.room_id)]))

    def _text(self, db: sqlite_utils.Database, school: School, first: date, last: date) -> str:
        people = self.services.people
        staff = dict.fromkeys(name for shift in school.shifts for names in shift.roster.values() for name in names)
        unbound = tuple(name for name in staff if not people.is_bound(name))
        return render_table(school, first, last, store.swaps_between(db, school.id, first, last), self.tz, unbound)

    def weekly(self, job: Job, fire_time: datetime) -> Work:
        school = school_of(self.services.config, job.data["school"])
        sunday = fire_time.astimezone(self.tz).date()
        first, last = sunday + timedelta(days=1), sunday + timedelta(days=7)
        # Outside the term every Sunday would say "no school next week": say it once,
        # in the week the break starts, and stay quiet until school is back.
        if not has_school_day(school, first, last, self.tz) and not has_school_day(school, sunday - timedelta(days=6), sunday, self.tz):
            return NOTHING

        def transaction(db: sqlite_utils.Database) -> Outcome:
            message = Outgoing(text=self._text(db, school, first, last), room=school.room, key=f"guard:{school.id}:table:{first.isoformat()}")
            return deliver_unless_late(db, self.services.clock, fire_time, "护学岗值班表", [message])

        return Work.transact(transaction)
