"""Who is who: the configured people and the WeChat ids they are bound to (SPEC.md
"Identity").

A display name is not an identity: anyone can rename themselves 陈警官. An officer
is whoever sends from the id bound to an officer's name — by `wechat_id` in the
config or by `绑定 CODE` — whatever name they show. Private messages to a
configured person go only to their bound id; until they are bound, a notice goes
to their station's officers' room without what only they may read.

The simulator's ids are the names, so there every configured person is bound to
their own name unless a binding says otherwise (`names_are_ids`).
"""
from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass
from typing import Iterable

from bot.config import Config, Officer
from bot.events import Incoming, Outgoing

log = logging.getLogger(__name__)

UNBOUND_NOTICE = "【待绑定】{name}尚未绑定微信，有一条私信通知没有发出。请{name}私聊本助手发送“绑定 验证码”（验证码由管理员运行 pingan invite 生成）。"


@dataclass(frozen=True)
class Person:
    """Someone the config names: an officer (of any role) or guard-post staff."""

    name: str
    station: str
    officer: Officer | None  # None: guard-post staff


def configured_people(config: Config) -> dict[str, Person]:
    # Officers first (an officer who also stands guard is an officer), then staff.
    people = {o.name: Person(o.name, o.station, o) for o in config.officers}
    for school in config.schools:
        for shift in school.shifts:
            for names in shift.roster.values():
                for name in names:
                    people.setdefault(name, Person(name, school.station, None))
    return people


class People:
    def __init__(self, config: Config, *, names_are_ids: bool = False):
        self.config = config
        self.names_are_ids = names_are_ids
        self.persons = configured_people(config)
        self._id_of: dict[str, str] = {}
        self._name_of: dict[str, str] = {}
        self.load([])

    def load(self, bindings: Iterable[tuple[str, str]]) -> None:
        """Start from the config (and, in the simulator, the names), then the
        stored bindings (name, wechat id), which win."""
        self._id_of, self._name_of = {}, {}
        if self.names_are_ids:
            for name in self.persons:
                self._set(name, name)
        for officer in self.config.officers:
            if officer.wechat_id:
                self._set(officer.name, officer.wechat_id)
        for name, wechat_id in bindings:
            if name in self.persons:
                self._set(name, wechat_id)

    def bind(self, name: str, wechat_id: str) -> None:
        self._set(name, wechat_id)

    def _set(self, name: str, wechat_id: str) -> None:
        old_id = self._id_of.pop(name, None)
        if old_id is not None:
            self._name_of.pop(old_id, None)
        old_name = self._name_of.pop(wechat_id, None)
        if old_name is not None:
            self._id_of.pop(old_name, None)
        self._id_of[name] = wechat_id
        self._name_of[wechat_id] = name

    # -- who sent this ------------------------------------------------------------

    def name_of(self, msg: Incoming) -> str | None:
        """The configured person who sent `msg` (by id), or None."""
        return self._name_of.get(msg.sender_id)

    def officer(self, msg: Incoming) -> Officer | None:
        """The officer who sent `msg`: by the sender's id, never by the name shown."""
        name = self.name_of(msg)
        return self.config.officer(name) if name is not None else None

    def shown_as_officer(self, msg: Incoming) -> Officer | None:
        """The officer whose name `msg`'s sender shows without being them: an
        impostor, or the officer before binding (`is_bound` tells which)."""
        if self.officer(msg) is not None:
            return None
        return self.config.officer(msg.sender)

    def staff_name(self, msg: Incoming) -> str | None:
        """Whose 到岗 a guard-room message is: the person bound to the sender's id;
        else the name shown, while nobody is bound to that name (until staff bind,
        check-ins count by name); None when the name shown is bound to another id."""
        name = self.name_of(msg)
        if name is not None:
            return name
        return None if self.is_bound(msg.sender) else msg.sender

    # -- bindings -------------------------------------------------------------------

    def id_of(self, name: str) -> str | None:
        return self._id_of.get(name)

    def is_bound(self, name: str) -> bool:
        return name in self._id_of

    def unbound(self) -> list[Person]:
        return [p for name, p in self.persons.items() if name not in self._id_of]

    # -- where a message goes ---------------------------------------------------------

    def address(self, out: Outgoing) -> Outgoing:
        """A private message to a configured person goes to their bound id; unbound,
        its `redacted` text (or a bare notice) goes to their station's officers'
        room instead. Everything else is left as it is."""
        if out.contact is None or out.contact_id is not None or out.contact not in self.persons:
            return out
        wechat_id = self._id_of.get(out.contact)
        if wechat_id is not None:
            return dataclasses.replace(out, contact_id=wechat_id)
        person = self.persons[out.contact]
        room = self.config.station(person.station).officers_room
        log.warning("%s 尚未绑定微信：私信通知改发到 %s（不含报告人和原文）", out.contact, room)
        text = out.redacted or UNBOUND_NOTICE.format(name=out.contact)
        key = f"{out.key}:unbound" if out.key else None
        return Outgoing(text=text, room=room, urgent=out.urgent, key=key)
