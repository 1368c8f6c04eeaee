"""Guard-post groups (护学岗工作群), SPEC.md "Guard-post groups (schools)".

The feature that ties the pieces together: in a school's room it routes 到岗 to
check-in, 代班 to swaps and 值班表 to the table; at start it warns about years
without state calendar data, settles shifts that ended while the bot was down, and
schedules reminders, chasing, officer notices and the weekly table.

Anything else goes through the detector (SPEC.md "Reports in guard-post
groups"): a report opens a case for the school's supervising officer, an urgent
one gets the emergency reply first. The reports feature is handed in as a
callable, so the two features do not import each other. Ordinary chat in a
guard-post room is not stored or answered.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Awaitable, Callable

from bot.config import ContactGroup, School
from bot.events import Incoming, Outgoing
from handlers.base import Services
from handlers.duty_table import WeeklyTable, week_of
from handlers.guard_checkin import CheckIns, is_checkin
from handlers.guard_shifts import ShiftJobs
from handlers.guard_swaps import Swaps, is_swap_command
from handlers.school_days import calendar_warnings
from handlers.text import normalize_command, strip_leading_mentions

log = logging.getLogger(__name__)

THIS_WEEK = frozenset({"值班表", "本周值班表", "这周值班表", "查值班表"})
NEXT_WEEK = frozenset({"下周值班表", "下周值班"})
HELP_TEXT = (
    "护学岗群可用：\n"
    "到岗 —— 到岗后回复，登记签到\n"
    "代班 日期 班次 代班人 —— 如：代班 3月5日 晚间护学岗 王老师\n"
    "值班表 / 下周值班表 —— 查看值班安排"
)


ReportHandler = Callable[[Incoming, ContactGroup], Awaitable[bool]]


class GuardPosts:
    def __init__(self, services: Services, report: ReportHandler | None = None):
        self.s = services
        self.report = report
        self.tz = services.config.bot.tz
        self.checkins = CheckIns(services)
        self.swaps = Swaps(services)
        self.jobs = ShiftJobs(services)
        self.table = WeeklyTable(services)

    def handlers(self) -> list["GuardPosts"]:
        return [self]

    async def start(self) -> None:
        for warning in calendar_warnings(self.s.config):
            log.warning(warning)
        await self.jobs.settle_missed()
        self.jobs.schedule()
        self.table.schedule()

    def matches(self, msg: Incoming) -> bool:
        return msg.room is not None and self.s.config.school_by_room(msg.room) is not None

    async def handle(self, msg: Incoming) -> None:
        school = self.s.config.school_by_room(msg.room or "")
        assert school is not None
        if is_checkin(msg.text):
            await self.checkins.handle(school, msg)
        elif is_swap_command(msg.text):
            await self.swaps.handle(school, msg)
        elif (command := normalize_command(strip_leading_mentions(msg.text))) in THIS_WEEK | NEXT_WEEK:
            await self._table(school, msg, next_week=command in NEXT_WEEK)
        elif await self._reported(school, msg):
            return
        elif msg.mentions_bot:
            await self.s.send(Outgoing(text=HELP_TEXT, room=school.room, mentions=(msg.sender,)))

    async def _reported(self, school: School, msg: Incoming) -> bool:
        """A teacher's or guard's report (校门口有人拿刀打架): the school's case, for its officer."""
        if self.report is None or self.s.config.officer(msg.sender) is not None:
            return False
        place = ContactGroup(room=school.room, community=school.name, station=school.station, officer=school.officer)
        return await self.report(msg, place)

    async def _table(self, school: School, msg: Incoming, next_week: bool) -> None:
        first, last = week_of(msg.at.astimezone(self.tz).date() + timedelta(days=7 if next_week else 0))
        await self.s.send(Outgoing(text=await self.table.table(school, first, last), room=school.room))
