"""The officer commands, each declared once (as NoneBot keeps `on_command` beside its
usage): the word and its aliases, the usage line (the second half of every parse
error), the line in 帮助, who may run it, the argument parser and the action.
`command_word`, `parse`, the help text and the dispatch in officers.py all read
this one table.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from bot.feature import Work
from handlers.cases import actions
from handlers.cases import parsing as p
from handlers.cases.actions import Action, Context
from handlers.cases.parsing import Command, CommandError, clean

# Everyone with an [[officers]] entry; the permission matrix of SPEC.md "Identity"
# narrows single commands to leaders or admins.
OFFICERS = frozenset({"officer", "leader", "admin"})


@dataclass(frozen=True)
class Spec:
    name: str
    usage: str
    help: str | None  # the line in 帮助; None: not listed
    parser: p.Parser
    action: Action
    aliases: tuple[str, ...] = ()
    who: frozenset[str] = OFFICERS


def show_help(ctx: Context, cmd: Command) -> Work:
    return Work.send(ctx.reply(help_text()))


# In the order 帮助 lists them.
COMMANDS: tuple[Spec, ...] = (
    Spec("待办", "待办（翻页：待办 2）", "待办 — 我的未结案件", p.paged, actions.todo),
    Spec("详情", "详情 12（翻页：详情 12 2）", "详情 12 — 案件档案", p.id_and_page, actions.detail),
    Spec("认领", "认领 12", "认领 12", p.id_only, actions.claim),
    Spec("办结", "办结 12 调解成功／调解不成／已处置 [备注]", "办结 12 调解成功／调解不成／已处置 [备注]", p.with_word(p.OUTCOME_WORDS, "办结结果"), actions.resolve),
    Spec("误报", "误报 12", "误报 12", p.id_only, actions.false_positive),
    Spec("核实", "核实 12", "核实 12 — 疑似警情属实，转为待认领", p.id_only, actions.verify),
    Spec("补录", "补录 群名或社区 情况内容", "补录 群名或社区 内容 — 登记机器人漏掉的警情", p.place_and_text, actions.backfill),
    Spec("转办", "转办 12 陈警官", "转办 12 陈警官", p.case_and_officer, actions.transfer),
    Spec("回访", "回访 12 无反弹／反弹 [备注]", "回访 12 无反弹／反弹 [备注]", p.with_word(p.FOLLOWUP_WORDS, "回访结果"), actions.followup),
    Spec("进度", "进度 12", "进度 12 — 案件状态", p.id_only, actions.progress),
    Spec("统计", "统计 或 统计 2026-03", "统计 [2026-03] — 本月（或某月）统计", p.month_arg, actions.stats),
    Spec("改类", "改类 12 交通安全", "改类 12 交通安全 — 更正案件类别", p.case_and_category, actions.reclassify),
    Spec("帮助", "帮助", None, p.no_args, show_help, aliases=("菜单", "命令")),
)
_BY_WORD = {word: spec for spec in COMMANDS for word in (spec.name, *spec.aliases)}
# A command word counts only when followed by nothing, a space, # or a digit, so chat
# in the officers' room ("办结了吗？") is not mistaken for a command.
_HEAD = re.compile(rf"^({'|'.join(map(re.escape, _BY_WORD))})(?=$|[\s#\d])\s*(.*)$", re.S)


def help_text() -> str:
    lines = ["民警命令（私聊或在工作群发送）：", *(s.help for s in COMMANDS if s.help), "编号写 12 或 #12 均可。"]
    return "\n".join(lines)


def command_word(text: str) -> str | None:
    """The command this text starts with (aliases resolved), or None for ordinary chat."""
    m = _HEAD.match(clean(text))
    return _BY_WORD[m.group(1)].name if m else None


def parse(text: str) -> tuple[Spec, Command]:
    """The command's declaration and its parsed arguments; CommandError (a one-line
    reply) when the text is a command but unusable."""
    m = _HEAD.match(clean(text))
    if m is None:
        raise CommandError("没看懂这条命令，发送“帮助”查看可用命令。")
    spec = _BY_WORD[m.group(1)]
    return spec, spec.parser(spec, m.group(2).strip())
