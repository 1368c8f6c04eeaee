"""Messages out: an `Outgoing` sent through one session, text (with @-mentions in
rooms) first, then the file if any. A recipient given by id (`room_id`,
`contact_id`) is sent to as is; one given only by topic or name is looked up, and
refused when the account sees more than one of that topic or name."""
from __future__ import annotations

import logging
import warnings

from bot.events import Outgoing
from bot.transports.base import TransportError, UndeliverableError
from bot.transports.wechaty.directory import DirectoryLoader
from bot.transports.wechaty.inbound import AT_SEPARATOR
from bot.transports.wechaty.sdk import import_wechaty
from bot.transports.wechaty.session import Session

log = logging.getLogger(__package__)  # the package's logger (see sdk.py)


class RecipientNotFound(TransportError):
    """No room with that topic, or no person with that name, is visible to the account.

    A TransportError because it can heal (the bot is added to the room later, a
    rename is undone); an outbox may still choose to give up on it sooner.
    """


class AmbiguousRecipient(UndeliverableError):
    """Several rooms have that topic, or several people that name: the send is refused
    rather than guessed, since the other one may be an impostor's copy. Undeliverable:
    retrying cannot tell them apart; the sender must give an id."""


def _file_box_json(path: str) -> str:
    """A FileBox of the file's bytes, serialised for the wire (bytes inline: the
    gateway may run on another host).

    Serialised here rather than inside `room.say()`: FileBox logs through the
    deprecated `Logger.warn` on every access to its mimeType, and that warning must
    be silenced around the calls without touching global state across an await.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return str(import_wechaty().FileBox.from_file(path).to_json_str())


class Outbound:
    """Sends through the session's Wechaty helpers (`Room.say`, `Contact.say`) and,
    for files, straight through the puppet stub."""

    def __init__(self, loader: DirectoryLoader) -> None:
        self._loader = loader

    async def send(self, session: Session, message: Outgoing) -> None:
        if message.room is not None:
            await self._send_to_room(session, message)
        else:
            await self._send_to_contact(session, message)

    async def _send_to_room(self, session: Session, message: Outgoing) -> None:
        assert message.room is not None
        room_id = message.room_id or await self._room_by_topic(session, message.room)
        room = session.bot.Room.load(room_id)
        if message.text or message.mentions:
            mention_ids, text = await self._mention_ids(session, room_id, message)
            # room.say() silently drops an empty text, even one that only mentions people.
            await room.say(text or " ", mention_ids=mention_ids or None)
        if message.file:
            await self._send_file(session, room_id, message.file)

    async def _send_to_contact(self, session: Session, message: Outgoing) -> None:
        assert message.contact is not None
        contact_id = message.contact_id or await self._contact_by_name(session, message.contact)
        contact = session.bot.Contact.load(contact_id)
        if message.text:
            await contact.say(message.text)
        if message.file:
            await self._send_file(session, contact_id, message.file)

    async def _room_by_topic(self, session: Session, topic: str) -> str:
        directory = self._loader.directory
        await self._loader.complete_rooms(session.puppet)
        found = await self._loader.resolve(session.puppet, lambda: directory.room_ids(topic))
        return _only(found, f"找不到群 / no room with topic {topic!r}",
                     f"有{len(found)}个群名为“{topic}”，不按群名发送 / {len(found)} rooms have the topic {topic!r}: not sent by topic")

    async def _contact_by_name(self, session: Session, name: str) -> str:
        directory = self._loader.directory
        await self._loader.complete_people(session.puppet)
        found = await self._loader.resolve(session.puppet, lambda: directory.contact_ids(name))
        return _only(found, f"找不到联系人 / no contact named {name!r}",
                     f"有{len(found)}个联系人名为“{name}”，不按名字发送 / {len(found)} contacts are named {name!r}: not sent by name")

    async def _send_file(self, session: Session, conversation_id: str, path: str) -> None:
        await session.puppet.puppet_stub.message_send_file(
            conversation_id=conversation_id, filebox=_file_box_json(path))

    async def _mention_ids(
        self, session: Session, room_id: str, message: Outgoing
    ) -> tuple[list[str], str]:
        """Ids of the mentioned room members. A name not found in the room is still
        written as "@name" so people see it; it just does not notify anyone."""
        directory = self._loader.directory

        def lookup(members: tuple[str, ...]) -> list[str | None]:
            return [directory.contact_id(name, among=members) for name in message.mentions]

        found = lookup(await self._loader.room_members(session.puppet, room_id, fresh=False))
        if None in found:  # someone may have joined since we looked: look again, once
            found = lookup(await self._loader.room_members(session.puppet, room_id, fresh=True))
        ids = [contact_id for contact_id in found if contact_id is not None]
        unresolved = [name for name, cid in zip(message.mentions, found) if cid is None]
        for name in unresolved:
            log.warning("cannot @%s in %r: not a member of that room", name, message.room)
        prefix = "".join(f"@{name}{AT_SEPARATOR}" for name in unresolved)
        return ids, prefix + message.text


def _refused(reason: str) -> AmbiguousRecipient:
    log.warning("send refused: %s", reason)
    return AmbiguousRecipient(reason)


def _only(found: list[str], none: str, several: str) -> str:
    """The one id a name or topic resolved to; by name, none is not found and several
    is never guessed (one may be an impostor or a copied room)."""
    if not found:
        raise RecipientNotFound(none)
    if len(found) > 1:
        raise _refused(several)
    return found[0]
