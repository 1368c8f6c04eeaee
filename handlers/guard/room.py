"""Messages in a school's guard-post room (护学岗工作群): what each one asks for.

`match` reads a message once: the school of its room, and which guard-post word it is
(到岗, 代班, 值班表 / 下周值班表), or none. `handle` returns the work for it. Anything
else in the room may be a report (SPEC.md "Reports in guard-post groups"): a teacher's
or guard's 校门口有人拿刀打架 goes to the cases family through the `report` callable,
which returns the work that opens the school's case for its supervising officer (an
urgent one with the emergency reply first), or None when the message is no report.
Officers' messages are never reports here. Ordinary chat is not stored or answered;
only a message that @-mentions the bot and is nothing else gets the help.
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from enum import Enum
from typing import Callable

from bot.config import ContactGroup, School
from bot.events import Incoming, Outgoing
from bot.feature import NOTHING, Services, Work
from handlers.guard.checkin import check_in, is_checkin
from handlers.guard.swaps import is_swap_command, swap
from handlers.guard.table import WeeklyTable
from handlers.text import normalize_command, strip_leading_mentions

THIS_WEEK = frozenset({"值班表", "本周值班表", "这周值班表", "查值班表"})
NEXT_WEEK = frozenset({"下周值班表", "下周值班"})
HELP_TEXT = (
    "护学岗群可用：\n"
    "到岗 —— 到岗后回复，登记签到\n"
    "代班 日期 班次 代班人 —— 如：代班 3月5日 晚间护学岗 王老师\n"
    "值班表 / 下周值班表 —— 查看值班安排"
)

Report = Callable[[Incoming, ContactGroup], Work | None]


class Ask(Enum):
    """What a message in a guard-post room asks for."""

    CHECK_IN = "check_in"
    SWAP = "swap"
    THIS_WEEK = "this_week"
    NEXT_WEEK = "next_week"
    OTHER = "other"  # a report, a question for the bot, or chat


@dataclass(frozen=True)
class InRoom:
    """The match: the room's school, what the message asks for, and its text as
    commands are read (leading @-mentions removed, NFKC, spaces collapsed, end
    punctuation trimmed)."""

    school: School
    ask: Ask
    command: str


def read(text: str) -> tuple[Ask, str]:
    """Pure: which guard-post word `text` is, and its command form. A check-in is read
    before the end punctuation is trimmed, so `到了？` stays a question."""
    bare = unicodedata.normalize("NFKC", strip_leading_mentions(text))
    command = normalize_command(bare)
    if is_checkin(bare):
        return Ask.CHECK_IN, command
    if is_swap_command(command):
        return Ask.SWAP, command
    if command in THIS_WEEK:
        return Ask.THIS_WEEK, command
    if command in NEXT_WEEK:
        return Ask.NEXT_WEEK, command
    return Ask.OTHER, command


class GuardRoom:
    """The handler for every message in a school's room."""

    def __init__(self, services: Services, table: WeeklyTable, report: Report | None = None):
        self.services = services
        self.table = table
        self.report = report
        self.tz = services.config.bot.tz

    def match(self, msg: Incoming) -> InRoom | None:
        school = None if msg.room is None else self.services.config.school_by_room(msg.room)
        if school is None:
            return None
        ask, command = read(msg.text)
        return InRoom(school, ask, command)

    def handle(self, msg: Incoming, match: InRoom) -> Work:
        school = match.school
        if match.ask is Ask.CHECK_IN:
            return check_in(school, msg, self.tz, self.services.people.staff_name(msg))
        if match.ask is Ask.SWAP:
            return swap(school, msg, match.command, self.tz, self.services.people.staff_name(msg))
        if match.ask in (Ask.THIS_WEEK, Ask.NEXT_WEEK):
            return self.table.on_request(school, msg, next_week=match.ask is Ask.NEXT_WEEK)
        reported = self._report(school, msg)
        if reported is not None:
            return reported
        if msg.mentions_bot:
            return Work.send(Outgoing(text=HELP_TEXT, room=school.room, room_id=msg.room_id, mentions=(msg.sender,)))
        return NOTHING

    def _report(self, school: School, msg: Incoming) -> Work | None:
        """A teacher's or guard's report: the school's case, for its officer."""
        if self.report is None or self.services.people.officer(msg) is not None:
            return None
        place = ContactGroup(room=school.room, community=school.name, station=school.station, officer=school.officer)
        return self.report(msg, place)
