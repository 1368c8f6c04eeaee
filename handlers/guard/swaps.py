"""代班: a person on duty hands one shift on one date to someone else.

`代班 2026-03-05 晚间护学岗 王老师` (the date also as `3月5日`, `明天`, `后天`, `周三`;
the shift may be left out where a school has only one). Only someone on duty for that
shift and date (after earlier swaps) may hand it on. Every refusal says why in one
line, so the sender can fix the command instead of guessing.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, tzinfo

import sqlite_utils

from bot.config import School, Shift
from bot.events import Incoming, Outgoing
from bot.feature import Outcome, Work
from handlers.guard.calendar import DayOff, day_off, holiday_name
from handlers.guard.dates import day_label, parse_day
from handlers.guard.roster import ShiftDay, on_duty
from handlers.text import clip
from storage import guard_posts as store

COMMAND = "代班"
USAGE = "代班格式：代班 日期 班次 代班人，如：代班 3月5日 晚间护学岗 王老师（日期也可写 2026-03-05、明天、后天、周三）"


# "代班" opens a command when a date (or a separator) follows; "代班的事明天再说" is chat.
_COMMAND_START = re.compile(r"^代班(?=$|[\s:：@\d今明后大周星礼下本这])")


MAX_NAME = 12  # longer than any person's name: refused, never echoed


def is_swap_command(command: str) -> bool:
    """`command` is the text as the room handler normalised it for commands."""
    return _COMMAND_START.match(command) is not None


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


def parse_swap(school: School, command: str, today: date) -> SwapRequest:
    """Pure: read a 代班 command, or raise Refusal saying what is wrong."""
    rest = command[len(COMMAND) :].strip(" :：")
    words = [w.lstrip("@") for w in rest.split(" ") if w.strip("@")]
    if len(words) == 2 and len(school.shifts) == 1:
        words = [words[0], school.shifts[0].name, words[1]]
    if len(words) != 3:
        raise Refusal(USAGE)
    day_word, shift_word, replacement = words
    if len(replacement) > MAX_NAME:
        # A name is a few characters; nothing longer is stored or echoed back.
        raise Refusal(f"代班人姓名太长（{len(replacement)}字），请只写姓名（{MAX_NAME}字以内）。")
    day = parse_day(day_word, today)
    if day is None:
        raise Refusal(f"没看懂日期“{clip(day_word, 12)}”。{USAGE}")
    shift = _find_shift(school, shift_word)
    if shift is None:
        names = "、".join(s.name for s in school.shifts)
        raise Refusal(f"{school.name}没有“{clip(shift_word, 12)}”这个班次，可选：{names}。")
    return SwapRequest(day, shift, replacement)


# How a day without school is named in a refusal ("不是上课日（清明节）").
_DAY_OFF_WORDS = {DayOff.OUT_OF_TERM: "（不在学期内）", DayOff.CLOSED: "（学校停课）", DayOff.WEEKEND: ""}


def _day_off_words(why: DayOff, school: School, day: date) -> str:
    return f"（{holiday_name(day, school.calendar)}）" if why is DayOff.HOLIDAY else _DAY_OFF_WORDS[why]


def swap(school: School, msg: Incoming, command: str, tz: tzinfo, person: str | None) -> Work:
    """The work for a 代班 command: what can be checked from the message and the
    config is checked here; who is on duty, in the transaction that records it."""
    now = msg.at.astimezone(tz)
    today = now.date()
    try:
        request = parse_swap(school, command, today)
        sd = ShiftDay(school, request.shift, request.day, tz)
        if sd.day < today:
            raise Refusal(f"{day_label(sd.day, today)}已经过去，不能再登记代班。")
        if now >= sd.end:
            raise Refusal(f"今天的{sd.shift.name}已于{sd.shift.end:%H:%M}结束，不能再登记代班。")
        why = day_off(school, sd.day)
        if why is not None:
            raise Refusal(f"{day_label(sd.day, today)}不是上课日{_day_off_words(why, school, sd.day)}，没有护学岗，无需代班。")
        if person is None:
            # The name shown is bound to another WeChat id: not that person's swap to make.
            raise Refusal(f"此微信号不是已绑定的{clip(msg.sender, 12)}，不能登记代班。")
        if request.replacement == person:
            raise Refusal("代班人不能是自己。")
    except Refusal as refusal:
        return Work.send(_refused(school, msg, str(refusal)))
    return Work.transact(lambda db: _record(db, sd, msg, person, request.replacement, today))


def _record(db: sqlite_utils.Database, sd: ShiftDay, msg: Incoming, sender: str, replacement: str, today: date) -> Outcome:
    # Checked and written in one transaction: two swaps at once cannot both hand on
    # the same place. `sender`: who the swap is from, by bound id (or name until bound).
    school = sd.school
    label = f"{day_label(sd.day, today)}{sd.shift.name}"
    duty = on_duty(db, sd)
    if sender not in duty:
        listed = "、".join(duty) if duty else "无人"
        return Outcome(sends=[_refused(school, msg, f"{clip(sender, 12)}不在{label}的值班名单上（当班：{listed}），只有当班人员可以找人代班。")])
    if replacement in duty:
        return Outcome(sends=[_refused(school, msg, f"{replacement}已在{label}值班。")])
    store.add_swap(db, store.Swap(school.id, sd.shift.name, sd.day, sender, replacement, msg.at))
    text = f"代班已登记：{day_label(sd.day)}{sd.shift.name} {sd.hours} 由{replacement}代替{clip(sender, 12)}。"
    return Outcome(sends=[Outgoing(text=text, room=school.room, room_id=msg.room_id, mentions=(replacement,))])


def _refused(school: School, msg: Incoming, why: str) -> Outgoing:
    """A refusal: one line saying why, to the sender."""
    return Outgoing(text=why, room=school.room, room_id=msg.room_id, mentions=(msg.sender,))
