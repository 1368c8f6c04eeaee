"""Residents who write to the bot privately (SPEC.md "Private messages from residents").

They are answered, never ignored, and at the id that wrote (a resident may show an
officer's name; the reply must not go to the officer): an urgent message gets the
emergency reply at once; a report (flagged or explicit) opens a case for the
officer of the resident's community, acknowledged privately: the community the
report names (举报 官园社区 …), else the one configured contact group the transport
says the resident is a member of (`Incoming.sender_rooms`). In several groups, in
none, or in a room whose topic several rooms share (a copy may be among them), the
bot cannot tell and asks which community. Anything else gets the short help.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, replace

from bot.config import ContactGroup
from bot.events import Incoming, MemberRoom
from bot.feature import Outcome, Services, Work
from handlers.cases.commands import command_word
from handlers.cases.notices import reply_to, urgent_reply
from handlers.cases.reports import BARE_REPORT_QUESTION, EXPLICIT_PREFIXES, is_bare_report, report_work
from handlers.text import clip

HELP = (
    "您好，这里是平安群助手。反映矛盾纠纷或安全隐患，请私信发送“举报 社区名 情况”，"
    "如：举报 官园社区 小区门口有人占道摆摊；也可以在本社区警民联系群发送“举报＋情况”。\n"
    "遇到紧急情况请立即拨打110（火警119，急救120），本助手不能代替报警电话。"
)
ASK_COMMUNITY = "收到。请告诉我们您在哪个社区，好转给社区民警：请发送“举报 社区名 情况”，如：举报 官园社区 {text}"
# 举报 官园社区 情况 (the community may be written with or without a space after the word)
_EXPLICIT_PLACE = re.compile(rf"^({'|'.join(EXPLICIT_PREFIXES)})\s*(\S+?)\s+(.+)$", re.S)


@dataclass(frozen=True)
class Private:
    """A resident's private message; `group` when it names a configured community,
    `home` when the sender is a member of exactly one configured contact group."""

    text: str
    group: ContactGroup | None
    report: str  # 举报 + the report without the community
    home: ContactGroup | None = None


class PrivateReports:
    def __init__(self, services: Services):
        self.services = services

    def match(self, msg: Incoming) -> Private | None:
        # Officers' private messages and anyone's commands belong to the officer commands.
        if msg.room is not None or self.services.people.officer(msg) is not None or command_word(msg.text) is not None:
            return None
        text = msg.text.strip()
        m = _EXPLICIT_PLACE.match(text)
        group = self._group(m.group(2)) if m else None
        return Private(text, group, f"{m.group(1)} {m.group(3)}" if m and group else "", self._home(msg.sender_rooms))

    def handle(self, msg: Incoming, match: Private) -> Work:
        text = match.text
        if is_bare_report(text):
            return Work.send(reply_to(msg, BARE_REPORT_QUESTION))
        if match.group is not None:
            return report_work(self.services, replace(msg, text=match.report), match.group) or Work()
        detection = self.services.detector.detect(text)
        reported = detection.flagged or text.startswith(EXPLICIT_PREFIXES)
        if reported and match.home is not None:
            # As if it named its community: the case is the group's, with no room id
            # (it was not said in the room), so it merges only with other private
            # reports of that group, and its officer hears of it with its own notice.
            return report_work(self.services, msg, match.home) or Work()
        urgent = (reply_to(msg, urgent_reply(detection.reply_numbers), urgent=True),) if detection.urgent else ()
        if reported:
            reply = reply_to(msg, ASK_COMMUNITY.format(text=clip(text, 20)))
        elif not detection.urgent:
            reply = reply_to(msg, HELP)
        else:
            return Work(urgent=urgent)
        return Work(urgent=urgent, outcome=Outcome(sends=[reply]))

    def _home(self, rooms: tuple[MemberRoom, ...]) -> ContactGroup | None:
        """The one configured contact group among the sender's rooms: exactly one
        such room, whose topic no other room has (a copied topic proves nothing)."""
        homes = [(group, room) for room in rooms if (group := self.services.config.group(room.topic)) is not None]
        if len(homes) != 1 or homes[0][1].shared:
            return None
        return homes[0][0]

    def _group(self, place: str) -> ContactGroup | None:
        return next((g for g in self.services.config.groups if place in (g.room, g.community)), None)
