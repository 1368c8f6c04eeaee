"""Residents who write to the bot privately (SPEC.md "Private messages from residents").

They are answered, never ignored: an urgent message gets the emergency reply at
once; a report that names its community (举报 官园社区 …) opens a case for that
community's officer, acknowledged privately; a report without one is asked for
its community (the bot cannot see which groups a resident is in); anything else
gets the short help.
"""
from __future__ import annotations

import re
from dataclasses import replace
from typing import Awaitable, Callable

from bot.config import ContactGroup
from bot.events import Incoming, Outgoing
from handlers.base import Services
from handlers.commands_parse import command_word
from handlers.reports import BARE_REPORT_QUESTION, BARE_REPORT_STRIP, EXPLICIT_PREFIXES, urgent_reply
from handlers.text import clip

ReportHandler = Callable[[Incoming, ContactGroup], Awaitable[bool]]

HELP = (
    "您好，这里是平安群助手。反映矛盾纠纷或安全隐患，请私信发送“举报 社区名 情况”，"
    "如：举报 官园社区 小区门口有人占道摆摊；也可以在本社区警民联系群发送“举报＋情况”。\n"
    "遇到紧急情况请立即拨打110（火警119，急救120），本助手不能代替报警电话。"
)
ASK_COMMUNITY = "收到。请告诉我们您在哪个社区，好转给社区民警：请发送“举报 社区名 情况”，如：举报 官园社区 {text}"
# 举报 官园社区 情况 (the community may be written with or without a space after the word)
_EXPLICIT_PLACE = re.compile(rf"^({'|'.join(EXPLICIT_PREFIXES)})\s*(\S+?)\s+(.+)$", re.S)


class PrivateReports:
    def __init__(self, services: Services, report: ReportHandler):
        self.s = services
        self.report = report

    def handlers(self) -> list["PrivateReports"]:
        return [self]

    async def start(self) -> None:
        """Nothing to rebuild."""

    def matches(self, msg: Incoming) -> bool:
        # Officers' private messages and anyone's commands belong to the officer commands.
        return msg.room is None and self.s.config.officer(msg.sender) is None and command_word(msg.text) is None

    async def handle(self, msg: Incoming) -> None:
        text = msg.text.strip()
        if text.strip(BARE_REPORT_STRIP) in EXPLICIT_PREFIXES:
            await self.s.send(Outgoing(text=BARE_REPORT_QUESTION, contact=msg.sender))
            return
        m = _EXPLICIT_PLACE.match(text)
        group = self._group(m.group(2)) if m else None
        if m and group is not None:
            await self.report(replace(msg, text=f"{m.group(1)} {m.group(3)}"), group)
            return
        detection = self.s.detector.detect(text)
        if detection.urgent:
            await self.s.send(Outgoing(text=urgent_reply(detection.reply_numbers), contact=msg.sender, urgent=True))
        if detection.flagged or text.startswith(EXPLICIT_PREFIXES):
            await self.s.send(Outgoing(text=ASK_COMMUNITY.format(text=clip(text, 20)), contact=msg.sender))
        elif not detection.urgent:
            await self.s.send(Outgoing(text=HELP, contact=msg.sender))

    def _group(self, place: str) -> ContactGroup | None:
        return next((g for g in self.s.config.groups if place in (g.room, g.community)), None)
