"""The interface every chat transport implements (simulator, Wechaty)."""
from __future__ import annotations

from typing import Awaitable, Callable, Protocol

from bot.events import Incoming, Outgoing

IncomingHandler = Callable[[Incoming], Awaitable[None]]
# Told about something in the chat network an operator should fix (one line, in
# Chinese, e.g. two rooms with one configured topic). A transport that can notice
# such things has an `on_problem` attribute of this type; the App sets it.
ProblemHandler = Callable[[str], Awaitable[None] | None]


class TransportError(Exception):
    """A send failed in a way worth retrying later (connection down, throttled)."""


class UndeliverableError(TransportError):
    """A send that can never succeed (no such room or person): retrying is pointless."""


class Transport(Protocol):
    """A connection to a chat network.

    `start` connects and begins delivering messages to `on_message`; `send` delivers
    one message or raises TransportError; `state` is a short word for /healthz
    ("connecting", "online", "offline", "stopped").
    """

    @property
    def state(self) -> str: ...

    async def start(self, on_message: IncomingHandler) -> None: ...

    async def send(self, message: Outgoing) -> None: ...

    async def stop(self) -> None: ...
