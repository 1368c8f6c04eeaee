"""Binding people to their WeChat ids (SPEC.md "Identity"): `绑定 CODE` in private
chat, and at start, telling the log and the admins who is still unbound.

A family of its own: both cases and guard posts rely on who is who, and neither
owns it. The codes are made by `pingan invite` (bot/run/people_cli.py).
"""
from __future__ import annotations

import logging
import re
from collections import deque
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlite_utils

from bot.events import Incoming, Outgoing
from bot.feature import Handler, JobFunc, Outcome, Services, Work
from handlers.text import normalize_command, strip_leading_mentions
from storage import people as people_store

log = logging.getLogger(__name__)

ROLE_NAMES = {"officer": "民警", "leader": "所领导", "admin": "管理员"}
USAGE = "请发送：绑定 六位验证码（验证码由管理员运行 pingan invite 生成）"
# Six digits are guessable with patience: a sender gets this many wrong codes per hour.
MAX_FAILURES = 5
FAILURE_WINDOW = timedelta(hours=1)
_BIND = re.compile(r"^绑定(?=$|[\s#\d])\s*(.*)$", re.S)


@dataclass(frozen=True)
class BindRequest:
    code: str | None  # None: not six digits


class Binding:
    """`绑定 CODE` from anyone, privately."""

    def __init__(self, services: Services):
        self.services = services
        # Wrong codes per sender id, for the limit (memory only: a restart forgives).
        self._failures: dict[str, deque[datetime]] = {}

    def match(self, msg: Incoming) -> BindRequest | None:
        if msg.room is not None:
            return None
        m = _BIND.match(normalize_command(strip_leading_mentions(msg.text)))
        if m is None:
            return None
        code = m.group(1).replace(" ", "")
        return BindRequest(code if re.fullmatch(r"\d{6}", code) else None)

    def handle(self, msg: Incoming, match: BindRequest) -> Work:
        reply = _private_reply(msg)
        if match.code is None:
            return Work.send(reply(f"验证码应为六位数字。{USAGE}"))
        failures = self._recent_failures(msg.sender_id, msg.at)
        if len(failures) >= MAX_FAILURES:
            return Work.send(reply("验证码错误次数过多，请一小时后再试，或请管理员重新生成验证码。"))
        people, code, at, wechat_id = self.services.people, match.code, msg.at, msg.sender_id

        def bind(db: sqlite_utils.Database) -> Outcome:
            name = people_store.take_invite(db, code, at, wechat_id)
            if name is None or name not in people.persons:
                return Outcome(sends=[reply(f"验证码无效、已用过或已过期。{USAGE}")], after=[lambda: failures.append(at)])
            people_store.bind(db, name, wechat_id, at)
            person = people.persons[name]
            role = ROLE_NAMES.get(person.officer.role, "民警") if person.officer else "护学岗值班人员"
            log.warning("%s 已绑定微信号（%s）", name, role)
            text = f"绑定成功：此微信号已绑定为{name}（{role}）。此后的通知只发到这个微信号。"
            return Outcome(sends=[reply(text)], after=[lambda: people.bind(name, wechat_id)])

        return Work.transact(bind)

    def _recent_failures(self, sender_id: str, now: datetime) -> deque[datetime]:
        failures = self._failures.setdefault(sender_id, deque())
        while failures and now - failures[0] > FAILURE_WINDOW:
            failures.popleft()
        return failures


def _private_reply(msg: Incoming):
    def reply(text: str) -> Outgoing:
        return Outgoing(text=text, contact=msg.sender, contact_id=msg.sender_id)

    return reply


class Identity:
    def __init__(self, services: Services):
        self.services = services
        self._binding = Binding(services)

    def handlers(self) -> list[Handler[Any]]:
        return [self._binding]

    def jobs(self) -> dict[str, JobFunc]:
        return {}

    def start(self) -> Work:
        """Who is unbound: in the log, and once a day to the admins (their private
        notices cannot reach them, so they learn it before it matters)."""
        config, people = self.services.config, self.services.people
        unbound = people.unbound()
        if not unbound:
            return Work()
        names = "、".join(f"{p.name}（{config.station(p.station).name}）" for p in unbound)
        log.warning("以下人员尚未绑定微信，发给他们的私信通知改发到所里工作群（不含报告人和原文）：%s", names)
        text = (
            f"【待绑定】以下人员尚未绑定微信，发给他们的私信通知暂改发到所里工作群（不含报告人和原文）：{names}。"
            "请为每人运行 pingan invite -c 配置文件 姓名，再请本人私聊本助手发送“绑定 验证码”。"
        )
        day = self.services.clock.now().astimezone(config.bot.tz).date().isoformat()
        told = [o.name for o in config.officers if o.role == "admin" and people.is_bound(o.name)]
        told = told or [s.leader for s in config.stations if people.is_bound(s.leader)]
        return Work.send(*(Outgoing(text=text, contact=name, key=f"identity:unbound:{day}:{name}") for name in dict.fromkeys(told)))
