"""Dates as guard-post staff write and read them.

Staff type `2026-03-05`, `3月5日`, `明天`, `后天` or `周三` on a phone keyboard; this
module turns one such word into a date relative to "today" (pure, no clock), and
formats dates back the way they are said (`3月5日（周四）`).
"""
from __future__ import annotations

import re
import unicodedata
from datetime import date, timedelta

WEEKDAY_NAMES = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
_WEEKDAY_CHARS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_RELATIVE = {"今天": 0, "今日": 0, "明天": 1, "明日": 1, "后天": 2, "大后天": 3}

_FULL = re.compile(r"(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*[日号]?")
_MONTH_DAY = re.compile(r"(\d{1,2})\s*月\s*(\d{1,2})\s*[日号]?")
_WEEKDAY = re.compile(r"(下|这|本)?(?:个)?(?:周|星期|礼拜)([一二三四五六日天七])")

# "3月1日" typed on 2 March means the day before, not next year's: only a date this far
# in the past is taken to mean next year (December's "1月5日").
_NEXT_YEAR_AFTER = timedelta(days=180)


def parse_day(text: str, today: date) -> date | None:
    """The date one word names, or None when it names none (or an impossible one).

    `周三`/`星期三` is the coming Wednesday: today when today is Wednesday, else the
    next one; `下周三` is the Wednesday of next week, `本周三` the one of this week.
    """
    word = unicodedata.normalize("NFKC", text).strip()
    if word in _RELATIVE:
        return today + timedelta(days=_RELATIVE[word])
    if m := _FULL.fullmatch(word):
        return _date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    if m := _MONTH_DAY.fullmatch(word):
        day = _date(today.year, int(m.group(1)), int(m.group(2)))
        if day is not None and today - day > _NEXT_YEAR_AFTER:
            day = _date(today.year + 1, day.month, day.day)
        return day
    if m := _WEEKDAY.fullmatch(word):
        weekday = _WEEKDAY_CHARS[m.group(2)]
        monday = today - timedelta(days=today.weekday())
        if m.group(1) == "下":
            return monday + timedelta(days=7 + weekday)
        if m.group(1) in ("这", "本"):
            return monday + timedelta(days=weekday)
        return today + timedelta(days=(weekday - today.weekday()) % 7)
    return None


def _date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def day_label(day: date, today: date | None = None) -> str:
    """`3月5日（周四）`; the year is added when it is not the current one."""
    year = f"{day.year}年" if today is not None and day.year != today.year else ""
    return f"{year}{day.month}月{day.day}日（{WEEKDAY_NAMES[day.weekday()]}）"


def short_day(day: date) -> str:
    """`3月5日 周四`: for table rows, where brackets would crowd a phone screen."""
    return f"{day.month}月{day.day}日 {WEEKDAY_NAMES[day.weekday()]}"
