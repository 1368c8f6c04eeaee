"""Puppet messages in: each becomes a `bot.events.Incoming` (room topic and id, sender
name and id, text, mention names, `mentions_bot`, `is_self`); only text messages are
delivered. Names and topics arrive through the directory, already `safe_name`d."""
from __future__ import annotations

import asyncio
import logging
import re
from datetime import datetime
from typing import Callable

from bot.events import Incoming, MemberRoom, bounded_text
from bot.text_safety import safe_name
from bot.transports.base import IncomingHandler
from bot.transports.wechaty.directory import DirectoryLoader
from bot.transports.wechaty.session import Session

log = logging.getLogger(__package__)  # the package's logger (see sdk.py)

# How WeChat separates an @-mention from the text after it (U+2005 FOUR-PER-EM SPACE).
AT_SEPARATOR = "\u2005"
# Message types as numbered on the wire (wechaty-puppet's MessageType, which the
# gateway sends as is); only text is read. Newer gateways add types (Post = 16).
_WIRE_TYPE_TEXT = 7
_WIRE_TYPE_NAMES = {
    0: "unknown", 1: "attachment", 2: "audio", 3: "contact card", 4: "chat history",
    5: "emoticon", 6: "image", 7: "text", 8: "location", 9: "mini program",
    10: "group note", 11: "transfer", 12: "red envelope", 13: "recalled", 14: "url",
    15: "video", 16: "post",
}


class Inbound:
    """Turns a session's messages into `Incoming` and hands them to `on_message`
    (set by the transport's start)."""

    def __init__(self, loader: DirectoryLoader, bot_name: str, clock_now: Callable[[], datetime]) -> None:
        self._loader = loader
        self._bot_name = bot_name
        self._now = clock_now
        self.on_message: IncomingHandler | None = None

    async def handle_message(self, session: Session, message_id: str) -> None:
        incoming = await self._to_incoming(session, message_id)
        if incoming is None or self.on_message is None:
            return
        try:
            await self.on_message(incoming)
        except Exception:  # noqa: BLE001 - a handler bug must not drop the connection
            log.exception("wechaty transport: message handler failed on %s", message_id)

    async def _to_incoming(self, session: Session, message_id: str) -> Incoming | None:
        # The raw payload, not `puppet.message_payload()`: the client maps the wire's
        # type through a fixed list and raises IndexError on any type newer than it
        # (Post = 16), which used to cost a traceback per message.
        payload = await session.puppet.puppet_stub.message_payload(id=message_id)
        wire_type = int(payload.type or 0)
        if wire_type != _WIRE_TYPE_TEXT:
            # Voice, images, locations, mini programs, recalls...: nothing to read.
            # One line, never a traceback: a group can send hundreds of these.
            name = _WIRE_TYPE_NAMES.get(wire_type)
            if name is None:
                log.info("ignoring message %s of unknown type %d", message_id, wire_type)
            else:
                log.debug("ignoring %s message %s", name, message_id)
            return None
        room_id = (payload.room_id or "").strip()
        talker_id = (payload.from_id or "").strip()
        text = bounded_text(payload.text or "")  # the wire's copy is dropped with `payload`
        mention_ids = tuple(payload.mention_ids or ())
        sender = await self._loader.contact_name(session.puppet, talker_id) if talker_id else ""
        return Incoming(
            id=message_id,
            at=self._now(),
            sender=sender,
            text=text,
            room=await self._loader.room_topic(session.puppet, room_id) if room_id else None,
            mentions=tuple([await self._mention_name(session, cid) for cid in mention_ids]),
            mentions_bot=self._mentions_bot(session, mention_ids, text),
            is_self=bool(talker_id) and talker_id == session.self_id,
            # The ids, not the names, say who this is and where a reply goes: anyone
            # can take a name or a topic (SPEC.md "Identity").
            sender_id=talker_id,
            room_id=room_id or None,
            sender_rooms=await self._sender_rooms(session, talker_id) if not room_id and talker_id != session.self_id else (),
        )

    async def _sender_rooms(self, session: Session, talker_id: str) -> tuple[MemberRoom, ...]:
        """The configured rooms a private sender is in: the handlers cannot look (they
        do no I/O), and a resident's private report goes to their group's officer.
        A room whose topic another room has too is marked `shared`: a copy proves
        nothing. On a lookup error the message still goes on, with no rooms (the
        bot then asks the resident for their community)."""
        if not talker_id:
            return ()
        try:
            rooms = await self._loader.watched_rooms_of(session.puppet, talker_id)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - any wire error: keep the message
            log.warning("rooms of private sender %s cannot be looked up (%s)", safe_name(talker_id), error.__class__.__name__)
            return ()
        return tuple(MemberRoom(rid, topic, self._loader.shared(topic)) for rid, topic in sorted(rooms.items()))

    async def _mention_name(self, session: Session, contact_id: str) -> str:
        """The name of a mentioned person, or their id when the gateway cannot say.

        A mention of someone who left WeChat (or whom the gateway cannot look up)
        must not drop the message around it, an explicit 举报 least of all. The id
        is not cached as a name: the gateway may know the person next time.
        """
        if contact_id == session.self_id:
            return session.self_name or contact_id
        try:
            return await self._loader.contact_name(session.puppet, contact_id)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - any wire error: keep the message
            log.info("mentioned contact %s cannot be looked up (%s); kept as its id",
                     safe_name(contact_id), error.__class__.__name__)
            return safe_name(contact_id)  # the wire's, like a name: shown to officers

    def _mentions_bot(self, session: Session, mention_ids: tuple[str, ...], text: str) -> bool:
        if session.self_id in mention_ids:
            return True
        # Some gateways leave the mention list empty; the text still shows "@name ".
        name = session.self_name or self._bot_name
        return bool(name) and re.search(
            "@" + re.escape(name) + f"(?:{AT_SEPARATOR}| |$)", text) is not None
