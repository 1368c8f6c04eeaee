"""Officer command arguments: text in, a `Command` or a one-line Chinese `CommandError`
out. The words themselves, their usage lines and who may run them are declared once,
in commands.py; these are the argument parsers that table names.

Pure and synchronous so every odd input an officer can type on a phone keyboard
(full-width digits, ＃１２, 认领12, extra words) is tested without an event loop.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Callable, Protocol

from bot.months import parse_month
from handlers.text import clip, normalize_command, strip_leading_mentions
from nlp.detection import CATEGORIES

OUTCOME_WORDS = {
    "调解成功": "调解成功",
    "调解不成功": "调解不成",
    "调解不成": "调解不成",
    "调解失败": "调解不成",
    "已处置": "已处置",
    "已处理": "已处置",
    "处置完毕": "已处置",
}
# 改类: the categories' names, their ids, and the short words officers say.
CATEGORY_WORDS = {
    **{name: cat for cat, name in CATEGORIES.items()},
    **{cat: cat for cat in CATEGORIES},
    "纠纷": "dispute",
    "矛盾": "dispute",
    "校园": "campus",
    "交通": "traffic",
    "诈骗": "fraud",
    "防诈": "fraud",
    "溺水": "drowning",
    "消防": "fire",
    "火灾": "fire",
    "走失": "missing",
    "治安": "security",
}
FOLLOWUP_WORDS = {"无反弹": "无反弹", "未反弹": "无反弹", "没有反弹": "无反弹", "没反弹": "无反弹", "反弹": "反弹"}

MAX_ID_DIGITS = 9  # larger ids cannot exist and would overflow SQLite integers
MAX_NOTE = 200
MAX_BACKFILL = 2000  # a 补录 keeps the report, not a pasted novel (as a case does)
# The id may run straight into Chinese text (办结12调解成功) but not into Latin letters (12abc).
_ID = re.compile(r"^#?\s*(-?\d+)号?(?![0-9A-Za-z])\s*(.*)$", re.S)
_NOTE_LEAD = " ,，:：;；、"


class CommandError(Exception):
    """The input was a command but unusable; str(err) is the one-line reply."""


@dataclass(frozen=True)
class Command:
    name: str
    case_id: int | None = None
    page: int = 1
    outcome: str | None = None  # 办结: 调解成功/调解不成/已处置; 回访: 无反弹/反弹
    note: str = ""
    officer: str | None = None  # 转办 target
    month: tuple[int | None, int] | None = None  # (year or None for this year, month)
    place: str | None = None  # 补录: the room or community
    text: str = ""  # 补录: the report the bot missed
    category: str | None = None  # 改类: the category id it becomes


class Spec(Protocol):
    """What a parser needs to know of its command (the table in commands.py)."""

    name: str
    usage: str


def clean(text: str) -> str:
    return normalize_command(strip_leading_mentions(normalize_command(text)))


def _usage(spec: Spec) -> str:
    return f"请发送：{spec.usage}"


def _case_id(spec: Spec, rest: str) -> tuple[int, str]:
    if not rest:
        raise CommandError(f"缺少案件编号。{_usage(spec)}")
    m = _ID.match(rest)
    if m is None:
        raise CommandError(f"案件编号应为数字。{_usage(spec)}")
    digits = m.group(1)
    if digits.startswith("-"):
        raise CommandError(f"案件编号应为正整数。{_usage(spec)}")
    if len(digits.lstrip("0")) > MAX_ID_DIGITS:
        raise CommandError(f"没有编号这么大的案件，请核对编号。{_usage(spec)}")
    return int(digits), m.group(2).strip()


def page_number(spec: Spec, rest: str) -> int:
    if not rest:
        return 1
    m = re.fullmatch(r"第?(\d{1,3})页?", rest)
    if m is None or int(m.group(1)) < 1:
        raise CommandError(f"页码应为正整数。{_usage(spec)}")
    return int(m.group(1))


def no_args(spec: Spec, rest: str) -> Command:
    if rest:
        raise CommandError(f"“{spec.name}”后面不用写别的。{_usage(spec)}")
    return Command(spec.name)


def paged(spec: Spec, rest: str) -> Command:
    return Command(spec.name, page=page_number(spec, rest))


def id_only(spec: Spec, rest: str) -> Command:
    case_id, extra = _case_id(spec, rest)
    if extra:
        raise CommandError(f"“{spec.name}”只需要案件编号，多了“{clip(extra, 12)}”。{_usage(spec)}")
    return Command(spec.name, case_id=case_id)


def id_and_page(spec: Spec, rest: str) -> Command:
    case_id, extra = _case_id(spec, rest)
    return Command(spec.name, case_id=case_id, page=page_number(spec, extra))


def with_word(words: dict[str, str], what: str):
    def parse_word(spec: Spec, rest: str) -> Command:
        case_id, extra = _case_id(spec, rest)
        if not extra:
            raise CommandError(f"请写明{what}。{_usage(spec)}")
        # Longest first: 调解不成功 must not be read as 调解不成 + “功”.
        for word in sorted(words, key=len, reverse=True):
            if extra.startswith(word):
                note = extra[len(word):].lstrip(_NOTE_LEAD).strip()
                return Command(spec.name, case_id=case_id, outcome=words[word], note=note[:MAX_NOTE])
        raise CommandError(f"{what}只能是{'／'.join(dict.fromkeys(words.values()))}。{_usage(spec)}")

    return parse_word


def case_and_officer(spec: Spec, rest: str) -> Command:
    case_id, extra = _case_id(spec, rest)
    target = extra.removeprefix("给").strip().lstrip("@").strip()
    if not target:
        raise CommandError(f"请写明转给哪位民警。{_usage(spec)}")
    if " " in target:
        raise CommandError(f"只能转给一位民警，请只写姓名。{_usage(spec)}")
    return Command(spec.name, case_id=case_id, officer=target)


def month_arg(spec: Spec, rest: str) -> Command:
    if not rest:
        return Command(spec.name)
    month = parse_month(rest)
    if month is None:
        raise CommandError(f"月份应写成 2026-03 这样。{_usage(spec)}")
    return Command(spec.name, month=month)


def case_and_category(spec: Spec, rest: str) -> Command:
    case_id, extra = _case_id(spec, rest)
    word = extra.removeprefix("为").removeprefix("成").strip()
    if not word:
        raise CommandError(f"请写明改为哪一类。{_usage(spec)}")
    category = CATEGORY_WORDS.get(word) or CATEGORY_WORDS.get(word.lower())
    if category is None:
        raise CommandError(f"没有“{clip(word, 12)}”这一类，类别只能是{'、'.join(CATEGORIES.values())}。{_usage(spec)}")
    return Command(spec.name, case_id=case_id, category=category)


def place_and_text(spec: Spec, rest: str) -> Command:
    place, _, text = rest.partition(" ")
    text = text.strip()
    if not place or not text:
        raise CommandError(f"请写明群名（或社区）和情况内容，中间用空格隔开。{_usage(spec)}")
    if len(text) > MAX_BACKFILL:
        raise CommandError(f"内容太长（{len(text)}字），请只写情况本身（{MAX_BACKFILL}字以内）。")
    return Command(spec.name, place=place, text=text)


Parser = Callable[[Spec, str], Command]
