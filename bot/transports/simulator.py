"""The in-process transport: messages come from a scenario or the demo chat page and
what the bot sends is recorded with the (virtual or real) time it was sent."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from bot.clock import Clock
from bot.events import Incoming, Outgoing
from bot.transports.base import IncomingHandler, TransportError, UndeliverableError


@dataclass(frozen=True)
class SentMessage:
    at: datetime
    message: Outgoing

    def as_json(self) -> dict:
        m = self.message
        out: dict = {"at": self.at.isoformat()}
        if m.room is not None:
            out["room"] = m.room
        else:
            out["contact"] = m.contact
        # Ids are names here; one that differs (a bound WeChat id) is shown.
        if m.room_id is not None and m.room_id != m.room:
            out["room_id"] = m.room_id
        if m.contact_id is not None and m.contact_id != m.contact:
            out["contact_id"] = m.contact_id
        if m.text or not m.file:
            out["text"] = m.text
        if m.file:
            out["file"] = m.file.rsplit("/", 1)[-1]
        out["mentions"] = list(m.mentions)
        return out


class SimulatorTransport:
    # The simulator has no ids of its own: a person's id is their name (SPEC.md
    # "Identity"), so configured people are bound by name.
    ids_are_names = True

    def __init__(self, clock: Clock, rooms: frozenset[str]):
        self.clock = clock
        self.rooms = rooms
        self.sent: list[SentMessage] = []
        # Told of each message as it is sent: the demo page shows replies live.
        self.listeners: list[Callable[[SentMessage], None]] = []
        self._on_message: IncomingHandler | None = None
        self._state = "stopped"

    @property
    def state(self) -> str:
        return self._state

    async def start(self, on_message: IncomingHandler) -> None:
        self._on_message = on_message
        self._state = "online"

    async def deliver(self, msg: Incoming) -> None:
        if self._on_message is None:
            raise RuntimeError("simulator transport not started")
        await self._on_message(msg)

    async def send(self, message: Outgoing) -> None:
        if self._state != "online":
            raise TransportError("模拟器未连接")
        if message.room is not None and message.room not in self.rooms:
            raise UndeliverableError(f"找不到群：{message.room}")
        item = SentMessage(self.clock.now(), message)
        self.sent.append(item)
        for listener in list(self.listeners):
            listener(item)

    async def stop(self) -> None:
        self._state = "stopped"
