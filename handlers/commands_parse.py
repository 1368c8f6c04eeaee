"""Officer command parsing: text in, a `Command` or a one-line Chinese `CommandError` out.

Pure and synchronous so every odd input an officer can type on a phone keyboard
(full-width digits, ＃１２, 认领12, extra words) is tested without an event loop.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.months import parse_month
from handlers.text import normalize_command, strip_leading_mentions

COMMAND_WORDS = ("待办", "详情", "认领", "办结", "误报", "转办", "回访", "统计", "帮助", "进度", "核实", "补录")
ALIASES = {"菜单": "帮助", "命令": "帮助"}

USAGE = {
    "待办": "待办（翻页：待办 2）",
    "详情": "详情 12（翻页：详情 12 2）",
    "认领": "认领 12",
    "办结": "办结 12 调解成功／调解不成／已处置 [备注]",
    "误报": "误报 12",
    "转办": "转办 12 陈警官",
    "回访": "回访 12 无反弹／反弹 [备注]",
    "统计": "统计 或 统计 2026-03",
    "帮助": "帮助",
    "进度": "进度 12",
    "核实": "核实 12",
    "补录": "补录 群名或社区 情况内容",
}

OUTCOME_WORDS = {
    "调解成功": "调解成功",
    "调解不成功": "调解不成",
    "调解不成": "调解不成",
    "调解失败": "调解不成",
    "已处置": "已处置",
    "已处理": "已处置",
    "处置完毕": "已处置",
}
FOLLOWUP_WORDS = {"无反弹": "无反弹", "未反弹": "无反弹", "没有反弹": "无反弹", "没反弹": "无反弹", "反弹": "反弹"}

MAX_ID_DIGITS = 9  # larger ids cannot exist and would overflow SQLite integers
MAX_NOTE = 200
MAX_BACKFILL = 2000  # a 补录 keeps the report, not a pasted novel (as a case does)
# A command word counts only when followed by nothing, a space, # or a digit, so chat
# in the officers' room ("办结了吗？") is not mistaken for a command.
_HEAD = re.compile(rf"^({'|'.join(COMMAND_WORDS + tuple(ALIASES))})(?=$|[\s#\d])\s*(.*)$", re.S)
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


def clean(text: str) -> str:
    return normalize_command(strip_leading_mentions(normalize_command(text)))


def command_word(text: str) -> str | None:
    """The command this text starts with, or None when it is ordinary chat."""
    m = _HEAD.match(clean(text))
    return ALIASES.get(m.group(1), m.group(1)) if m else None


def parse(text: str) -> Command:
    m = _HEAD.match(clean(text))
    if m is None:
        raise CommandError("没看懂这条命令，发送“帮助”查看可用命令。")
    name = ALIASES.get(m.group(1), m.group(1))
    rest = m.group(2).strip()
    parser = _PARSERS[name]
    return parser(name, rest)


def _usage(name: str) -> str:
    return f"请发送：{USAGE[name]}"


def _case_id(name: str, rest: str) -> tuple[int, str]:
    if not rest:
        raise CommandError(f"缺少案件编号。{_usage(name)}")
    m = _ID.match(rest)
    if m is None:
        raise CommandError(f"案件编号应为数字。{_usage(name)}")
    digits = m.group(1)
    if digits.startswith("-"):
        raise CommandError(f"案件编号应为正整数。{_usage(name)}")
    if len(digits.lstrip("0")) > MAX_ID_DIGITS:
        raise CommandError(f"没有编号这么大的案件，请核对编号。{_usage(name)}")
    return int(digits), m.group(2).strip()


def _page(name: str, rest: str) -> int:
    if not rest:
        return 1
    m = re.fullmatch(r"第?(\d{1,3})页?", rest)
    if m is None or int(m.group(1)) < 1:
        raise CommandError(f"页码应为正整数。{_usage(name)}")
    return int(m.group(1))


def _no_args(name: str, rest: str) -> Command:
    if rest:
        raise CommandError(f"“{name}”后面不用写别的。{_usage(name)}")
    return Command(name)


def _list(name: str, rest: str) -> Command:
    return Command(name, page=_page(name, rest))


def _id_only(name: str, rest: str) -> Command:
    case_id, extra = _case_id(name, rest)
    if extra:
        raise CommandError(f"“{name}”只需要案件编号，多了“{_clip(extra)}”。{_usage(name)}")
    return Command(name, case_id=case_id)


def _detail(name: str, rest: str) -> Command:
    case_id, extra = _case_id(name, rest)
    return Command(name, case_id=case_id, page=_page(name, extra))


def _with_word(words: dict[str, str], what: str):
    def parse_word(name: str, rest: str) -> Command:
        case_id, extra = _case_id(name, rest)
        if not extra:
            raise CommandError(f"请写明{what}。{_usage(name)}")
        # Longest first: 调解不成功 must not be read as 调解不成 + “功”.
        for word in sorted(words, key=len, reverse=True):
            if extra.startswith(word):
                note = extra[len(word):].lstrip(_NOTE_LEAD).strip()
                return Command(name, case_id=case_id, outcome=words[word], note=note[:MAX_NOTE])
        raise CommandError(f"{what}只能是{'／'.join(dict.fromkeys(words.values()))}。{_usage(name)}")

    return parse_word


def _transfer(name: str, rest: str) -> Command:
    case_id, extra = _case_id(name, rest)
    target = extra.removeprefix("给").strip().lstrip("@").strip()
    if not target:
        raise CommandError(f"请写明转给哪位民警。{_usage(name)}")
    if " " in target:
        raise CommandError(f"只能转给一位民警，请只写姓名。{_usage(name)}")
    return Command(name, case_id=case_id, officer=target)


def _month(name: str, rest: str) -> Command:
    if not rest:
        return Command(name)
    month = parse_month(rest)
    if month is None:
        raise CommandError(f"月份应写成 2026-03 这样。{_usage(name)}")
    return Command(name, month=month)


def _backfill(name: str, rest: str) -> Command:
    place, _, text = rest.partition(" ")
    text = text.strip()
    if not place or not text:
        raise CommandError(f"请写明群名（或社区）和情况内容，中间用空格隔开。{_usage(name)}")
    if len(text) > MAX_BACKFILL:
        raise CommandError(f"内容太长（{len(text)}字），请只写情况本身（{MAX_BACKFILL}字以内）。")
    return Command(name, place=place, text=text)


def _clip(text: str, limit: int = 12) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


_PARSERS = {
    "待办": _list,
    "详情": _detail,
    "认领": _id_only,
    "办结": _with_word(OUTCOME_WORDS, "办结结果"),
    "误报": _id_only,
    "转办": _transfer,
    "回访": _with_word(FOLLOWUP_WORDS, "回访结果"),
    "统计": _month,
    "帮助": _no_args,
    "进度": _id_only,
    "核实": _id_only,
    "补录": _backfill,
}
