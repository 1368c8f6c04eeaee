"""Transport-neutral message types: the only message shapes handlers ever see.

Transports (Wechaty, the simulator) translate their protocol into `Incoming` and
turn `Outgoing` back into protocol calls, so handlers stay testable without a chat
network.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Incoming:
    """One message received by the bot.

    `room` is the room topic (None for a private chat with the bot); `sender` is the
    sender's display name; `mentions` are display names @-mentioned by the message.
    """

    id: str
    at: datetime
    sender: str
    text: str
    room: str | None = None
    mentions: tuple[str, ...] = ()
    mentions_bot: bool = False
    is_self: bool = False

    @property
    def is_private(self) -> bool:
        return self.room is None


@dataclass(frozen=True)
class Outgoing:
    """One message the bot wants to send: to a room (`room`) or privately (`contact`).

    `file` is a local path of an image or document to send beside or instead of text.
    `urgent` messages jump the outbox queue (110/119/120 replies).
    `key` makes a send idempotent across restarts: the outbox sends each key once.
    """

    text: str = ""
    room: str | None = None
    contact: str | None = None
    mentions: tuple[str, ...] = ()
    file: str | None = None
    urgent: bool = False
    key: str | None = None

    def __post_init__(self) -> None:
        if (self.room is None) == (self.contact is None):
            raise ValueError("Outgoing needs exactly one of room or contact")
