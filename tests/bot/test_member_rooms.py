"""Which configured rooms a private sender is in (bot/transports/wechaty/directory.py):
read from the member lists the directory holds, the watched rooms looked at again
when the sender is in none, at most once a minute per sender (a stranger who writes
ten times costs one refresh, of the configured rooms only)."""
from __future__ import annotations

import asyncio
from types import SimpleNamespace

from bot.transports.wechaty.directory import Directory, DirectoryLoader
from bot.transports.wechaty.topics import TopicWatch

GROUP, OTHER = "官园社区警民联系群1", "业主闲聊群"


class Puppet:
    """Rooms by id: (topic, members); counts the room lookups."""

    def __init__(self, rooms: dict[str, tuple[str, list[str]]]) -> None:
        self.rooms = rooms
        self.payloads = 0

    async def room_search(self) -> list[str]:
        return list(self.rooms)

    async def room_payload(self, room_id: str) -> SimpleNamespace:
        self.payloads += 1
        topic, members = self.rooms[room_id]
        return SimpleNamespace(topic=topic, member_ids=list(members))


def test_a_sender_is_found_in_configured_rooms_and_a_copy_is_marked_shared() -> None:
    async def run() -> None:
        puppet = Puppet({"r1": (GROUP, ["a"]), "r2": (OTHER, ["a"]), "r3": (GROUP, ["b"])})
        loader = DirectoryLoader(Directory(), TopicWatch([GROUP]))
        assert await loader.watched_rooms_of(puppet, "a") == {"r1": GROUP}  # OTHER is not configured
        assert loader.shared(GROUP)  # r3 copies the topic: which is real cannot be told

    asyncio.run(run())


def test_a_sender_in_no_room_costs_one_refresh_a_minute_and_a_newcomer_is_found() -> None:
    async def run() -> None:
        puppet = Puppet({"r1": (GROUP, ["a"]), "r2": (OTHER, [])})
        loader = DirectoryLoader(Directory(), TopicWatch([GROUP]))
        assert await loader.watched_rooms_of(puppet, "x") == {}
        listed = puppet.payloads
        assert await loader.watched_rooms_of(puppet, "x") == {}
        assert puppet.payloads == listed  # not again within the minute
        puppet.rooms["r1"] = (GROUP, ["a", "new"])  # joined after the rooms were listed
        assert await loader.watched_rooms_of(puppet, "new") == {"r1": GROUP}
        assert puppet.payloads == listed + 1  # only the configured room was looked at again

    asyncio.run(run())
