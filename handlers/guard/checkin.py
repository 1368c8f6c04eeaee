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
from bot.feature import Outcome, Work
from handlers.guard.roster import ShiftDay, on_duty, shift_days
from handlers.text import clip
from storage import guard_posts as store

CHECKIN_WORDS = frozenset({"到岗", "已到岗", "到了", "到岗了", "已到岗了", "我到了", "我已到岗", "我到岗了", "已到"})
_WECHAT_EMOJI = re.compile(r"\[[^\[\]\s]{1,8}\]")  # WeChat sends its emoji as "[强]", "[OK]"


def is_checkin(bare: str) -> bool:
    """Pure: does this message say "I am on post"? `bare` is the text as the room
    handler normalised it (NFKC, leading @-mentions removed, question marks kept)."""
    if "?" in bare:
        return False
    text = _WECHAT_EMOJI.sub("", bare)
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


def check_in(school: School, msg: Incoming, tz: tzinfo, person: str | None) -> Work:
    """The work for a check-in word from `person` (who the sender is by their bound
    WeChat id, or by name until the name is bound; None: the name shown belongs to
    someone bound to another id): recorded inside a shift's window, otherwise a reply
    saying when check-ins count (no database needed)."""
    if person is None:
        return Work.send(Outgoing(text=f"此微信号不是已绑定的{clip(msg.sender, 12)}，到岗未登记。", room=school.room, room_id=msg.room_id))
    window = _window(school, msg.at, tz)
    if window.active:
        return Work.transact(lambda db: _record(db, window.active, msg, tz, person))
    if not window.school_day:
        text = "今天不是上课日，没有护学岗安排。"
    elif window.upcoming is not None:
        up = window.upcoming
        text = f"{up.shift.name}从{up.remind_at.astimezone(tz):%H:%M}起登记到岗，届时请再回复“到岗”。"
    else:
        assert window.ended is not None
        text = f"今天的{window.ended.shift.name}已于{window.ended.shift.end:%H:%M}结束，不再登记到岗，辛苦了！"
    return Work.send(Outgoing(text=text, room=school.room, room_id=msg.room_id))


def _record(db: sqlite_utils.Database, candidates: list[ShiftDay], msg: Incoming, tz: tzinfo, person: str) -> Outcome:
    # With overlapping shifts, the one the sender is on duty for wins.
    duties = [(sd, on_duty(db, sd)) for sd in candidates]
    sd, duty = next(((sd, d) for sd, d in duties if person in d), duties[0])
    checkin, new = store.record_checkin(db, sd.school.id, sd.shift.name, sd.day, person, msg.at, person in duty)
    when = f"{checkin.at.astimezone(tz):%H:%M}"
    shown = clip(person, 12)  # a display name is the sender's to choose: never a wall of text
    if not new:
        text = f"{shown}已于{when}登记{sd.shift.name}到岗，无需重复回复。"
    elif checkin.on_duty:
        text = f"{shown} {when} 到岗，已记录。"
    else:
        text = f"{shown} {when} 协助{sd.shift.name}，已记录，谢谢！"
    return Outcome(sends=[Outgoing(text=text, room=sd.school.room, room_id=msg.room_id)])
