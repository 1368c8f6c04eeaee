"""Names and ids: the cached directory of what the account can see, and how it is
filled from the gateway (one entry when a message needs it, everything when a
send cannot find its recipient)."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

log = logging.getLogger(__package__)  # the package's logger (see sdk.py)


@dataclass
class Directory:
    """What the account can see: rooms (id -> topic, members) and people (id -> name).

    Names and topics are what operators write in the config; ids are what the wire
    needs. Filled lazily, refreshed wholesale when a lookup misses (rate-limited, so
    a typo in the config does not cost a full refresh on every send).
    """

    min_refresh_interval: float = 60.0
    topics: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    friends: set[str] = field(default_factory=set)
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)
    last_refresh: float | None = None

    def clear(self) -> None:
        self.topics.clear()
        self.names.clear()
        self.friends.clear()
        self.members.clear()
        self.last_refresh = None

    def can_refresh(self, now: float) -> bool:
        return self.last_refresh is None or now - self.last_refresh >= self.min_refresh_interval

    def room_id(self, topic: str) -> str | None:
        matches = [rid for rid, t in self.topics.items() if t == topic]
        if not matches and topic in self.topics:
            return topic  # a room without a topic is known by its id
        if len(matches) > 1:
            log.warning("several rooms have the topic %r; using %s", topic, matches[0])
        return matches[0] if matches else None

    def contact_id(self, name: str, among: Iterable[str] | None = None) -> str | None:
        """The id of the person called `name`: among `among` if given, friends first."""
        pool = list(among) if among is not None else list(self.names)
        matches = [cid for cid in pool if self.names.get(cid) == name]
        if not matches and name in pool:
            return name  # a person without a name is known by their id
        matches.sort(key=lambda cid: cid not in self.friends)
        if len(matches) > 1:
            log.warning("several people are called %r; using %s", name, matches[0])
        return matches[0] if matches else None


class DirectoryLoader:
    """Fills a `Directory` through the puppet of the current session.

    Shared by the connection (login, room renames), the inbound side (sender and
    room names) and the outbound side (recipients, mentions), so that all three
    see one cache and one refresh at a time.
    """

    def __init__(self, directory: Directory) -> None:
        self.directory = directory
        self._refresh_lock = asyncio.Lock()

    async def contact_name(self, puppet: Any, contact_id: str) -> str:
        """A person's display name; a person without one is known by their id."""
        if contact_id not in self.directory.names:
            payload = await puppet.contact_payload(contact_id)
            self.directory.names[contact_id] = payload.name or ""
        return self.directory.names[contact_id] or contact_id

    async def room_topic(self, puppet: Any, room_id: str) -> str:
        """A room's topic; a room without one is known by its id (never a config topic)."""
        if room_id not in self.directory.topics:
            payload = await puppet.room_payload(room_id)
            self.directory.topics[room_id] = payload.topic or ""
            self.directory.members[room_id] = tuple(payload.member_ids or ())
        return self.directory.topics[room_id] or room_id

    async def room_members(self, puppet: Any, room_id: str, fresh: bool) -> tuple[str, ...]:
        """A room's member ids, with every member's name loaded into the directory."""
        if fresh or room_id not in self.directory.members:
            payload = await puppet.room_payload(room_id)
            self.directory.topics[room_id] = payload.topic or ""
            self.directory.members[room_id] = tuple(payload.member_ids or ())
        members = self.directory.members[room_id]
        unknown = [m for m in members if m not in self.directory.names]
        for start in range(0, len(unknown), 32):  # bounded concurrency for big rooms
            await asyncio.gather(*(self.contact_name(puppet, m) for m in unknown[start:start + 32]))
        return members

    async def resolve(self, puppet: Any, lookup: Callable[[], str | None]) -> str | None:
        """Look up in the directory; on a miss refresh it (at most once a minute) and retry."""
        found = lookup()
        if found is not None:
            return found
        async with self._refresh_lock:
            found = lookup()  # another send may have refreshed meanwhile
            loop_now = asyncio.get_running_loop().time()
            if found is None and self.directory.can_refresh(loop_now):
                await self.refresh(puppet)
                self.directory.last_refresh = loop_now
                found = lookup()
        return found

    async def refresh(self, puppet: Any) -> None:
        room_ids = await puppet.room_search()
        contact_ids = await puppet.contact_list()
        limit = asyncio.Semaphore(16)  # bounded concurrency: accounts can have thousands

        async def load_room(room_id: str) -> None:
            async with limit:
                payload = await puppet.room_payload(room_id)
            self.directory.topics[room_id] = payload.topic or ""
            self.directory.members[room_id] = tuple(payload.member_ids or ())

        async def load_contact(contact_id: str) -> None:
            async with limit:
                payload = await puppet.contact_payload(contact_id)
            self.directory.names[contact_id] = payload.name or ""
            if payload.friend:
                self.directory.friends.add(contact_id)

        await asyncio.gather(*map(load_room, room_ids), *map(load_contact, contact_ids))
        # Room members who are not contacts (strangers in a group) need names too.
        strangers = {m for ms in self.directory.members.values() for m in ms} - set(contact_ids)
        await asyncio.gather(*map(load_contact, strangers))
        log.info("wechaty directory refreshed: %d rooms, %d people",
                 len(room_ids), len(self.directory.names))
