"""Names and ids: the cached directory of what the account can see, and how it is
filled from the gateway (one entry when a message needs it, every room after login,
everything when a send cannot find its recipient or finds more than one).

Names and topics are stored through `safe_name` (the inbound boundary): what the bot
matches, shows and logs never carries a line break or an invisible control."""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable

from bot.text_safety import safe_name
from bot.transports.wechaty.topics import TopicWatch

log = logging.getLogger(__package__)  # the package's logger (see sdk.py)


@dataclass
class Directory:
    """What the account can see: rooms (id -> topic, members) and people (id -> name).

    Names and topics are what operators write in the config; ids are what the wire
    needs. Filled lazily, refreshed wholesale when a lookup misses (rate-limited, so
    a typo in the config does not cost a full refresh on every send).
    `rooms_complete` / `people_complete`: every room / person was listed in this
    session, so a name that matches one entry matches no other one the bot can see.
    """

    min_refresh_interval: float = 60.0
    topics: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    friends: set[str] = field(default_factory=set)
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)
    last_refresh: float | None = None
    rooms_complete: bool = False
    people_complete: bool = False

    def clear(self) -> None:
        self.topics.clear()
        self.names.clear()
        self.friends.clear()
        self.members.clear()
        self.last_refresh = None
        self.rooms_complete = self.people_complete = False

    def can_refresh(self, now: float) -> bool:
        return self.last_refresh is None or now - self.last_refresh >= self.min_refresh_interval

    def room_ids(self, topic: str) -> list[str]:
        """Every room with the topic `topic` (a room without a topic is known by its id)."""
        matches = [rid for rid, t in self.topics.items() if t == topic]
        if not matches and topic in self.topics:
            return [topic]
        return matches

    def contact_ids(self, name: str, among: Iterable[str] | None = None) -> list[str]:
        """Every person called `name` (among `among` if given), friends first."""
        pool = list(among) if among is not None else list(self.names)
        matches = [cid for cid in pool if self.names.get(cid) == name]
        if not matches and name in pool:
            return [name]  # a person without a name is known by their id
        matches.sort(key=lambda cid: cid not in self.friends)
        return matches

    def contact_id(self, name: str, among: Iterable[str]) -> str | None:
        """The room member to @-mention as `name`. Mentions only notify: with two
        members of that name the first (a friend if any) is good enough."""
        matches = self.contact_ids(name, among)
        if len(matches) > 1:
            log.warning("several people are called %r; mentioning %s", name, matches[0])
        return matches[0] if matches else None


class DirectoryLoader:
    """Fills a `Directory` through the puppet of the current session.

    Shared by the connection (login, room renames), the inbound side (sender and
    room names) and the outbound side (recipients, mentions), so that all three
    see one cache and one refresh at a time. Every time it learns rooms it asks
    `watch` whether configured topics are now shared.
    """

    def __init__(self, directory: Directory, watch: TopicWatch | None = None) -> None:
        self.directory = directory
        self.watch = watch or TopicWatch()
        self._refresh_lock = asyncio.Lock()
        # When each private sender last cost a refresh of the watched rooms' members.
        self._member_refreshed: dict[str, float] = {}

    async def contact_name(self, puppet: Any, contact_id: str) -> str:
        """A person's display name; a person without one is known by their id."""
        if contact_id not in self.directory.names:
            payload = await puppet.contact_payload(contact_id)
            self.directory.names[contact_id] = safe_name(payload.name or "")
        return self.directory.names[contact_id] or contact_id

    async def room_topic(self, puppet: Any, room_id: str) -> str:
        """A room's topic; a room without one is known by its id (never a config topic)."""
        if room_id not in self.directory.topics:
            self._store_room(room_id, await puppet.room_payload(room_id))
            await self.watch.check(self.directory.topics)
        return self.directory.topics[room_id] or room_id

    async def room_members(self, puppet: Any, room_id: str, fresh: bool) -> tuple[str, ...]:
        """A room's member ids, with every member's name loaded into the directory."""
        if fresh or room_id not in self.directory.members:
            self._store_room(room_id, await puppet.room_payload(room_id))
            await self.watch.check(self.directory.topics)
        members = self.directory.members[room_id]
        unknown = [m for m in members if m not in self.directory.names]
        for start in range(0, len(unknown), 32):  # bounded concurrency for big rooms
            await asyncio.gather(*(self.contact_name(puppet, m) for m in unknown[start:start + 32]))
        return members

    async def watched_rooms_of(self, puppet: Any, contact_id: str) -> dict[str, str]:
        """The rooms with a watched (configured) topic that `contact_id` is a member
        of, room id -> topic, from the member lists the directory holds.

        A resident who joined a group since its list was loaded is in none: then
        every watched room is loaded again, once (at most once a minute per
        sender: a stranger who writes ten times costs one refresh, of the few
        configured rooms only, not of every room the account is in)."""
        await self.complete_rooms(puppet)

        def member_of() -> dict[str, str]:
            return {rid: topic for rid, topic in self.directory.topics.items()
                    if topic in self.watch.topics and contact_id in self.directory.members.get(rid, ())}

        found = member_of()
        now = asyncio.get_running_loop().time()
        last = self._member_refreshed.get(contact_id)
        if found or (last is not None and now - last < self.directory.min_refresh_interval):
            return found
        self._member_refreshed[contact_id] = now
        watched = [rid for rid, topic in self.directory.topics.items() if topic in self.watch.topics]
        limit = asyncio.Semaphore(16)

        async def reload(room_id: str) -> None:
            async with limit:
                self._store_room(room_id, await puppet.room_payload(room_id))

        await asyncio.gather(*map(reload, watched))
        await self.watch.check(self.directory.topics)  # a reloaded room may have been renamed
        return member_of()

    def shared(self, topic: str) -> bool:
        """Several rooms have this topic: which one is the configured group cannot be told."""
        return len(self.directory.room_ids(topic)) > 1

    async def renamed(self, room_id: str, topic: str) -> None:
        """A room was renamed (a puppet event): it may now share a configured topic."""
        self.directory.topics[room_id] = safe_name(topic or "")
        await self.watch.check(self.directory.topics)

    def _store_room(self, room_id: str, payload: Any) -> None:
        self.directory.topics[room_id] = safe_name(payload.topic or "")
        self.directory.members[room_id] = tuple(payload.member_ids or ())

    async def resolve(self, puppet: Any, lookup: Callable[[], list[str]]) -> list[str]:
        """Look up in the directory; when that finds no one, or more than one, refresh
        it (at most once a minute: see `Directory.can_refresh`) and look again."""
        found = lookup()
        if len(found) == 1:
            return found
        async with self._refresh_lock:
            found = lookup()  # another send may have refreshed meanwhile
            if len(found) != 1 and self.directory.can_refresh(asyncio.get_running_loop().time()):
                await self.refresh(puppet)
                found = lookup()
        return found

    async def complete_rooms(self, puppet: Any) -> None:
        """List every room once per session (after login, or before a send by topic)."""
        if self.directory.rooms_complete:
            return
        async with self._refresh_lock:
            if not self.directory.rooms_complete:
                await self._load_rooms(puppet, asyncio.Semaphore(16))
                self.directory.rooms_complete = True
                await self.watch.check(self.directory.topics)

    async def complete_people(self, puppet: Any) -> None:
        """List everyone once per session, before a send by name: a name must be
        checked against every person the account can see, not just those who spoke."""
        if self.directory.people_complete:
            return
        async with self._refresh_lock:
            if not self.directory.people_complete:
                await self.refresh(puppet)

    async def refresh(self, puppet: Any) -> None:
        """Load every room and every person; call with the refresh lock held."""
        limit = asyncio.Semaphore(16)  # bounded concurrency: accounts can have thousands
        await self._load_rooms(puppet, limit)
        contact_ids = await puppet.contact_list()

        async def load_contact(contact_id: str) -> None:
            async with limit:
                payload = await puppet.contact_payload(contact_id)
            self.directory.names[contact_id] = safe_name(payload.name or "")
            if payload.friend:
                self.directory.friends.add(contact_id)

        await asyncio.gather(*map(load_contact, contact_ids))
        # Room members who are not contacts (strangers in a group) need names too.
        strangers = {m for ms in self.directory.members.values() for m in ms} - set(contact_ids)
        await asyncio.gather(*map(load_contact, strangers))
        self.directory.last_refresh = asyncio.get_running_loop().time()
        self.directory.rooms_complete = self.directory.people_complete = True
        log.info("wechaty directory refreshed: %d rooms, %d people",
                 len(self.directory.topics), len(self.directory.names))
        await self.watch.check(self.directory.topics)

    async def _load_rooms(self, puppet: Any, limit: asyncio.Semaphore) -> None:
        """Load every room the gateway lists. Merged into what is known, not replacing
        it: some gateways list only rooms saved to the address book, while a room
        learned from its messages is still there to reply to."""
        room_ids = await puppet.room_search()
        payloads: dict[str, Any] = {}

        async def load_room(room_id: str) -> None:
            async with limit:
                payloads[room_id] = await puppet.room_payload(room_id)

        await asyncio.gather(*map(load_room, room_ids))
        for room_id, payload in payloads.items():
            self._store_room(room_id, payload)
