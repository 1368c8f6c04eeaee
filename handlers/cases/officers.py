"""Officer commands in a private chat with the bot or in a station's officers' room
(SPEC.md "Officer commands"): who may speak here, then the table in commands.py.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

from bot.config import Officer
from bot.events import Incoming, Outgoing
from bot.feature import Services, Work
from handlers.cases.actions import Context
from handlers.cases.commands import command_word, parse
from handlers.cases.notices import reply_to
from handlers.cases.parsing import CommandError
from handlers.text import clip, strip_leading_mentions

log = logging.getLogger(__name__)

REFUSAL = "您好，这些命令仅供社区民警使用。反映情况请在本社区警民联系群发送“举报＋情况”，紧急情况请拨打110。"
NOT_ALLOWED = "“{name}”命令您无权使用。"
UNBOUND = "您的微信号尚未绑定，民警命令暂不能使用。请管理员运行 pingan invite 生成验证码，再私聊本助手发送“绑定 验证码”。"
IMPOSTOR = "【身份提醒】一个未绑定的微信号（{wechat_id}）以“{name}”的名字发送了“{command}”，已拒绝。{name}本人的微信号已绑定，此人不是{name}。"


@dataclass(frozen=True)
class ForOfficers:
    """A message for the officer commands: from `officer` (None: not an officer, by
    the sender's id), or from someone showing `shown_as`'s name without their id."""

    officer: Officer | None
    shown_as: Officer | None = None


class OfficerCommands:
    def __init__(self, services: Services):
        self.services = services

    def match(self, msg: Incoming) -> ForOfficers | None:
        config, people = self.services.config, self.services.people
        officer = people.officer(msg)
        found = ForOfficers(officer, people.shown_as_officer(msg))
        if msg.room is None:
            # Officers' private messages are all for us; others only when they try a command.
            return found if officer is not None or command_word(msg.text) is not None else None
        if config.station_by_officers_room(msg.room) is not None:
            # The officers' room is also where officers talk: only commands and @-mentions.
            return found if command_word(msg.text) is not None or msg.mentions_bot else None
        return None

    def handle(self, msg: Incoming, match: ForOfficers) -> Work:
        officer = match.officer
        if officer is None:
            return self._refuse(msg, match.shown_as)
        try:
            spec, command = parse(msg.text)
        except CommandError as exc:
            return Work.send(reply_to(msg, str(exc)))
        if officer.role not in spec.who:
            return Work.send(reply_to(msg, NOT_ALLOWED.format(name=spec.name)))
        log.info("%s 执行命令 %s %s", officer.name, command.name, command.case_id or "")
        return spec.action(Context(self.services, msg, officer), command)

    def _refuse(self, msg: Incoming, shown_as: Officer | None) -> Work:
        """Not an officer by id. Showing a bound officer's name: an impostor, refused,
        and the station's leader and admins are told. Showing an unbound officer's
        name: maybe the officer before binding, told how to bind."""
        people, config = self.services.people, self.services.config
        if shown_as is None:
            return Work.send(reply_to(msg, REFUSAL))
        if not people.is_bound(shown_as.name):
            return Work.send(reply_to(msg, UNBOUND))
        log.warning("未绑定的微信号以 %s 的名字发送民警命令，已拒绝", shown_as.name)
        command = clip(" ".join(strip_leading_mentions(msg.text).split()), 20)
        text = IMPOSTOR.format(wechat_id=clip(msg.sender_id, 40), name=shown_as.name, command=command)
        told = [config.station(shown_as.station).leader, *(o.name for o in config.officers if o.role == "admin")]
        alerts = [Outgoing(text=text, contact=name) for name in dict.fromkeys(told)]
        return Work.send(reply_to(msg, REFUSAL), *alerts)
