"""Transport-neutral message types: the only message shapes handlers ever see.

Transports (Wechaty, the simulator) translate their protocol into `Incoming` and
turn `Outgoing` back into protocol calls, so handlers stay testable without a chat
network.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

# The longest text a message may carry into the bot. A resident's report is a few
# hundred characters; a 5 MB paste used to stay in memory (the dedup window held
# it) and cost the detector and the database for nothing. Transports cut here.
MAX_TEXT_CHARS = 20_000
TRUNCATION_MARK = "…（消息过长，以下已截断）"


def bounded_text(text: str) -> str:
    """`text` cut to MAX_TEXT_CHARS, marked as cut so an officer reading it knows."""
    if len(text) <= MAX_TEXT_CHARS:
        return text
    return text[:MAX_TEXT_CHARS] + TRUNCATION_MARK


@dataclass(frozen=True)
class MemberRoom:
    """A room with a configured topic that a private sender is a member of.

    `shared`: the transport sees several rooms with this topic, so it cannot say
    which one is the configured group (anyone can copy a topic): a handler must
    not route by it.
    """

    id: str
    topic: str
    shared: bool = False


@dataclass(frozen=True)
class Incoming:
    """One message received by the bot.

    `room` is the room topic (None for a private chat with the bot); `sender` is the
    sender's display name; `mentions` are display names @-mentioned by the message.
    Names and topics are what people see and anyone can copy; `sender_id` and
    `room_id` are the transport's ids, what identity and replies rely on (SPEC.md
    "Identity"). Left out, they are the names: the simulator's ids are the names.
    `sender_rooms`: for a private message, the rooms with a configured topic the
    sender is a member of, as the transport knows them (handlers cannot look: they
    do no I/O); it routes a resident's private report to their group's officer.
    """

    id: str
    at: datetime
    sender: str
    text: str
    room: str | None = None
    mentions: tuple[str, ...] = ()
    mentions_bot: bool = False
    is_self: bool = False
    sender_id: str = ""
    room_id: str | None = None
    sender_rooms: tuple[MemberRoom, ...] = ()

    def __post_init__(self) -> None:
        if not self.sender_id:
            object.__setattr__(self, "sender_id", self.sender)
        if self.room_id is None and self.room is not None:
            object.__setattr__(self, "room_id", self.room)


@dataclass(frozen=True)
class Outgoing:
    """One message the bot wants to send: to a room (`room`) or privately (`contact`).

    `file` is a local path of an image or document to send beside or instead of text.
    `urgent` messages jump the outbox queue (110/119/120 replies).
    `key` makes a send idempotent across restarts: the outbox sends each key once.
    `room_id` / `contact_id`: send to exactly this transport id (a reply goes to the
    room or contact it came from; a private notice to a person's bound id), never to
    whoever has the name now. `redacted`: for a private message to a configured
    person who has not bound their WeChat id yet, the text that goes to their
    station's officers' room instead (without what only they may read).
    """

    text: str = ""
    room: str | None = None
    contact: str | None = None
    mentions: tuple[str, ...] = ()
    file: str | None = None
    urgent: bool = False
    key: str | None = None
    room_id: str | None = None
    contact_id: str | None = None
    redacted: str | None = None

    def __post_init__(self) -> None:
        if (self.room is None) == (self.contact is None):
            raise ValueError("Outgoing needs exactly one of room or contact")
