"""到岗: staff confirm they are on post with one word.

`到岗`, `已到岗`, `到了`, `到岗了` (with punctuation, a WeChat emoji like [强] or a
Unicode one) count; a question (`到了？`) does not. From the reminder until the
shift's end a check-in is recorded with its time; from someone not on duty it is
recorded as 协助 (a helper). Every check-in word gets exactly one short reply, so the
sender knows whether it counted.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

import sqlite_utils

from bot.config import School
from bot.events import Incoming, Outgoing
from handlers.base import Services
from handlers.guard_roster import ShiftDay, on_duty_sync, shift_days
from handlers.text import strip_leading_mentions
from storage import guard_posts as store

CHECKIN_WORDS = frozenset({"到岗", "已到岗", "到了", "到岗了", "已到岗了", "我到了", "我已到岗", "我到岗了", "已到"})
_WECHAT_EMOJI = re.compile(r"\[[^\[\]\s]{1,8}\]")  # WeChat sends its emoji as "[强]", "[OK]"


def is_checkin(text: str) -> bool:
    """Pure: does this message say "I am on post"?"""
    text = unicodedata.normalize("NFKC", strip_leading_mentions(text))
    if "?" in text:
        return False
    text = _WECHAT_EMOJI.sub("", text)
    # Keep letters and digits only: drops punctuation, spaces, emoji and their modifiers.
    core = "".join(ch for ch in text if unicodedata.category(ch)[0] in "LN")
    return core in CHECKIN_WORDS


@dataclass(frozen=True)
class _Window:
    """Where a check-in moment falls among the school's shifts."""

    active: list[ShiftDay]
    ended: ShiftDay | None
    upcoming: ShiftDay | None
    school_day: bool


def _window(school: School, at: datetime, tz: tzinfo) -> _Window:
    today = at.astimezone(tz).date()
    todays = shift_days(school, today, tz)
    # A long reminder lead time opens tomorrow's early shift tonight.
    candidates = todays + shift_days(school, today + timedelta(days=1), tz)
    active = [sd for sd in candidates if sd.remind_at <= at < sd.end]
    ended = [sd for sd in todays if sd.end <= at]
    upcoming = [sd for sd in todays if at < sd.remind_at]
    return _Window(active, ended[-1] if ended else None, upcoming[0] if upcoming else None, bool(todays))


class CheckIns:
    def __init__(self, services: Services):
        self.s = services
        self.tz = services.config.bot.tz

    async def handle(self, school: School, msg: Incoming) -> None:
        window = _window(school, msg.at, self.tz)
        if window.active:
            await self._record(window.active, msg)
            return
        if not window.school_day:
            text = "今天不是上课日，没有护学岗安排。"
        elif window.upcoming is not None:
            up = window.upcoming
            text = f"{up.shift.name}从{up.remind_at.astimezone(self.tz):%H:%M}起登记到岗，届时请再回复“到岗”。"
        else:
            assert window.ended is not None
            text = f"今天的{window.ended.shift.name}已于{window.ended.shift.end:%H:%M}结束，不再登记到岗，辛苦了！"
        await self.s.send(Outgoing(text=text, room=school.room))

    async def _record(self, candidates: list[ShiftDay], msg: Incoming) -> None:
        person, at = msg.sender, msg.at

        def record(db: sqlite_utils.Database) -> tuple[ShiftDay, store.CheckIn, bool]:
            # With overlapping shifts, the one the sender is on duty for wins.
            duties = [(sd, on_duty_sync(db, sd)) for sd in candidates]
            sd, duty = next(((sd, d) for sd, d in duties if person in d), duties[0])
            checkin, new = store.record_checkin(db, sd.school.id, sd.shift.name, sd.day, person, at, person in duty)
            return sd, checkin, new

        sd, checkin, new = await self.s.db.write(record)
        when = f"{checkin.at.astimezone(self.tz):%H:%M}"
        if not new:
            text = f"{person}已于{when}登记{sd.shift.name}到岗，无需重复回复。"
        elif checkin.on_duty:
            text = f"{person} {when} 到岗，已记录。"
        else:
            text = f"{person} {when} 协助{sd.shift.name}，已记录，谢谢！"
        await self.s.send(Outgoing(text=text, room=sd.school.room))
