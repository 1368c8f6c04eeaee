"""Officer commands in a private chat with the bot or in a station's officers' room
(SPEC.md "Officer commands"): who may speak here, then the table in commands.py.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.config import Officer
from bot.events import Incoming
from bot.feature import Services, Work
from handlers.cases.actions import Context
from handlers.cases.commands import command_word, parse
from handlers.cases.notices import reply_to
from handlers.cases.parsing import CommandError

log = logging.getLogger(__name__)

REFUSAL = "您好，这些命令仅供社区民警使用。反映情况请在本社区警民联系群发送“举报＋情况”，紧急情况请拨打110。"
NOT_ALLOWED = "“{name}”命令您无权使用。"


@dataclass(frozen=True)
class ForOfficers:
    """A message for the officer commands: from `officer` (None: not an officer)."""

    officer: Officer | None


class OfficerCommands:
    def __init__(self, services: Services):
        self.services = services

    def match(self, msg: Incoming) -> ForOfficers | None:
        config = self.services.config
        officer = config.officer(msg.sender)
        if msg.room is None:
            # Officers' private messages are all for us; others only when they try a command.
            return ForOfficers(officer) if officer is not None or command_word(msg.text) is not None else None
        if config.station_by_officers_room(msg.room) is not None:
            # The officers' room is also where officers talk: only commands and @-mentions.
            return ForOfficers(officer) if command_word(msg.text) is not None or msg.mentions_bot else None
        return None

    def handle(self, msg: Incoming, match: ForOfficers) -> Work:
        officer = match.officer
        if officer is None:
            return Work.send(reply_to(msg, REFUSAL))
        try:
            spec, command = parse(msg.text)
        except CommandError as exc:
            return Work.send(reply_to(msg, str(exc)))
        if officer.role not in spec.who:
            return Work.send(reply_to(msg, NOT_ALLOWED.format(name=spec.name)))
        log.info("%s 执行命令 %s %s", officer.name, command.name, command.case_id or "")
        return spec.action(Context(self.services, msg, officer), command)
