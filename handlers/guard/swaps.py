"""代班: a person on duty hands one shift on one date to someone else.

`代班 2026-03-05 晚间护学岗 王老师` (the date also as `3月5日`, `明天`, `后天`, `周三`;
the shift may be left out where a school has only one). Only someone on duty for that
shift and date (after earlier swaps) may hand it on. Every refusal says why in one
line, so the sender can fix the command instead of guessing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

import sqlite_utils

from bot.config import School, Shift
from bot.events import Incoming, Outgoing
from handlers.base import Services
from handlers.guard_dates import day_label, parse_day
from handlers.guard_roster import ShiftDay, on_duty_sync
from handlers.school_days import holiday_name, in_term, is_school_day
from handlers.text import normalize_command, strip_leading_mentions
from storage import guard_posts as store

COMMAND = "代班"
USAGE = "代班格式：代班 日期 班次 代班人，如：代班 3月5日 晚间护学岗 王老师（日期也可写 2026-03-05、明天、后天、周三）"


# "代班" opens a command when a date (or a separator) follows; "代班的事明天再说" is chat.
_COMMAND_START = re.compile(r"^代班(?=$|[\s:：@\d今明后大周星礼下本这])")


def is_swap_command(text: str) -> bool:
    return _COMMAND_START.match(normalize_command(strip_leading_mentions(text))) is not None


@dataclass(frozen=True)
class SwapRequest:
    day: date
    shift: Shift
    replacement: str


class Refusal(Exception):
    """A swap that cannot be made; the message is the one-line reply."""


def _find_shift(school: School, word: str) -> Shift | None:
    exact = next((s for s in school.shifts if s.name == word), None)
    if exact is not None:
        return exact
    # "晚间" for "晚间护学岗": accepted when it points at exactly one shift.
    partial = [s for s in school.shifts if word and word in s.name]
    return partial[0] if len(partial) == 1 else None


def parse_swap(school: School, text: str, today: date) -> SwapRequest:
    """Pure: read a 代班 command, or raise Refusal saying what is wrong."""
    rest = normalize_command(strip_leading_mentions(text))[len(COMMAND):].strip(" :：")
    words = [w.lstrip("@") for w in rest.split(" ") if w.strip("@")]
    if len(words) == 2 and len(school.shifts) == 1:
        words = [words[0], school.shifts[0].name, words[1]]
    if len(words) != 3:
        raise Refusal(USAGE)
    day_word, shift_word, replacement = words
    day = parse_day(day_word, today)
    if day is None:
        raise Refusal(f"没看懂日期“{day_word}”。{USAGE}")
    shift = _find_shift(school, shift_word)
    if shift is None:
        names = "、".join(s.name for s in school.shifts)
        raise Refusal(f"{school.name}没有“{shift_word}”这个班次，可选：{names}。")
    return SwapRequest(day, shift, replacement)


def _not_school_day_reason(school: School, day: date) -> str:
    why = holiday_name(day)
    if why:
        return f"（{why}）"
    if not in_term(school, day):
        return "（不在学期内）"
    if day in school.closed:
        return "（学校停课）"
    return ""


class Swaps:
    def __init__(self, services: Services):
        self.s = services
        self.tz = services.config.bot.tz

    async def handle(self, school: School, msg: Incoming) -> None:
        try:
            sd, original, replacement = await self._make(school, msg)
        except Refusal as refusal:
            await self.s.send(Outgoing(text=str(refusal), room=school.room, mentions=(msg.sender,)))
            return
        text = f"代班已登记：{day_label(sd.day)}{sd.shift.name} {sd.hours} 由{replacement}代替{original}。"
        await self.s.send(Outgoing(text=text, room=school.room, mentions=(replacement,)))

    async def _make(self, school: School, msg: Incoming) -> tuple[ShiftDay, str, str]:
        now: datetime = msg.at.astimezone(self.tz)
        today = now.date()
        request = parse_swap(school, msg.text, today)
        sd = ShiftDay(school, request.shift, request.day, self.tz)
        label = f"{day_label(sd.day, today)}{sd.shift.name}"
        if sd.day < today:
            raise Refusal(f"{day_label(sd.day, today)}已经过去，不能再登记代班。")
        if now >= sd.end:
            raise Refusal(f"今天的{sd.shift.name}已于{sd.shift.end:%H:%M}结束，不能再登记代班。")
        if not is_school_day(school, sd.day):
            raise Refusal(f"{day_label(sd.day, today)}不是上课日{_not_school_day_reason(school, sd.day)}，没有护学岗，无需代班。")
        sender, replacement = msg.sender, request.replacement
        if replacement == sender:
            raise Refusal("代班人不能是自己。")

        def swap(db: sqlite_utils.Database) -> None:
            # Checked and written in one transaction: two swaps at once cannot both
            # hand on the same place.
            duty = on_duty_sync(db, sd)
            if sender not in duty:
                listed = "、".join(duty) if duty else "无人"
                raise Refusal(f"{sender}不在{label}的值班名单上（当班：{listed}），只有当班人员可以找人代班。")
            if replacement in duty:
                raise Refusal(f"{replacement}已在{label}值班。")
            store.add_swap(db, store.Swap(school.id, sd.shift.name, sd.day, sender, replacement, msg.at))

        await self.s.db.write(swap)
        return sd, sender, replacement
