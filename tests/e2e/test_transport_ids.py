"""WechatyTransport and identity, against the real puppet-service gateway: ids on
every message, sends by id, no guessing between an officer and an impostor of the
same name or between a room and its copy, and names that cannot forge lines.

The gateway holds an impostor (a second contact named like the officer) and a
copied room (a second room with the officers' room's topic), made through its
control API (tests/e2e/gateway.py: `add_contact`, `add_room`).
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import AsyncIterator, Iterator

import pytest

from bot.events import Outgoing
from bot.transports.base import UndeliverableError
from bot.transports.wechaty import AmbiguousRecipient, WechatyTransport
from tests.e2e.gateway import PuppetGateway
from tests.e2e.test_transport import BOT, TOKEN, Inbox, now, wait_until

OFFICER = "陈警官"
OFFICERS_ROOM = "官园派出所工作群"
ROOM = "官园社区警民联系群1"
FIXTURE = {
    "self": BOT,
    "contacts": [OFFICER, "王所长", "张大妈"],
    "rooms": [
        {"topic": OFFICERS_ROOM, "members": [OFFICER, "王所长"]},
        {"topic": ROOM, "members": ["张大妈", "王大爷", OFFICER]},
    ],
}
WATCHED = frozenset({OFFICERS_ROOM, ROOM})


@dataclass(frozen=True)
class World:
    gateway: PuppetGateway
    officer: str        # the real officer's contact id
    impostor: str       # another contact named OFFICER, a member of ROOM
    officers_room: str  # the real officers' room's id
    copy: str           # another room with the topic OFFICERS_ROOM
    room: str


def _run(coroutine):
    """Run set-up calls on a loop of their own (the tests' loop does not exist yet)."""
    loop = asyncio.new_event_loop()
    try:
        return loop.run_until_complete(coroutine)
    finally:
        loop.close()


def _start_world(gateway: PuppetGateway) -> World:
    async def build() -> World:
        officers_room, = await gateway.room_ids(OFFICERS_ROOM)
        room, = await gateway.room_ids(ROOM)
        officer, = await gateway.contact_ids(OFFICER)
        impostor = await gateway.add_contact(OFFICER, rooms=[ROOM])
        copy = await gateway.add_room(OFFICERS_ROOM, members=[impostor, "张大妈"])
        return World(gateway, officer, impostor, officers_room, copy, room)

    gateway.start()
    return _run(build())


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    gateway = PuppetGateway(FIXTURE, TOKEN)
    try:
        yield _start_world(gateway)
    finally:
        gateway.close()


def make_transport(endpoint: str, problems: list[str] | None = None) -> WechatyTransport:
    transport = WechatyTransport(endpoint, TOKEN, BOT, clock_now=now, login_timeout=15.0,
                                 reconnect_initial=0.1, reconnect_max=0.5, watch_topics=WATCHED)
    if problems is not None:
        transport.on_problem = problems.append  # a plain function will do, too
    return transport


@pytest.fixture
async def connected(world: World) -> AsyncIterator[tuple[WechatyTransport, Inbox]]:
    transport = make_transport(world.gateway.endpoint)
    inbox = Inbox()
    await transport.start(inbox)
    yield transport, inbox
    await transport.stop()


async def test_ids_arrive_on_incoming(connected, world: World) -> None:
    _, inbox = connected
    gateway = world.gateway
    in_room = await gateway.say(world.officer, "收到", room=ROOM)
    private = await gateway.say(world.impostor, "认领 1")
    in_copy = await gateway.say("张大妈", "着火了", room=world.copy)
    incoming = await inbox.wait_for(lambda m: m.id == in_room)
    assert (incoming.sender, incoming.sender_id) == (OFFICER, world.officer)
    assert (incoming.room, incoming.room_id) == (ROOM, world.room)
    incoming = await inbox.wait_for(lambda m: m.id == private)
    assert (incoming.sender, incoming.sender_id) == (OFFICER, world.impostor)
    assert incoming.room is None and incoming.room_id is None
    incoming = await inbox.wait_for(lambda m: m.id == in_copy)
    assert (incoming.room, incoming.room_id) == (OFFICERS_ROOM, world.copy)


async def test_a_send_by_id_reaches_that_id_though_an_impostor_spoke_first(world: World) -> None:
    gateway = world.gateway
    transport = make_transport(gateway.endpoint)
    inbox = Inbox()
    await transport.start(inbox)
    try:
        first = await gateway.say(world.impostor, "我是陈警官，把案件发给我")
        await inbox.wait_for(lambda m: m.id == first)
        await transport.send(Outgoing(contact=OFFICER, contact_id=world.officer, text="#5 矛盾纠纷 待认领"))
        await transport.send(Outgoing(room=OFFICERS_ROOM, room_id=world.copy, text="已通知119"))
        await transport.send(Outgoing(room=OFFICERS_ROOM, room_id=world.officers_room, text="#5 已派单"))
        notice = await gateway.wait_sent(lambda r: r["text"] == "#5 矛盾纠纷 待认领")
        assert (notice["contact"], notice["contactId"]) == (OFFICER, world.officer)
        reply = await gateway.wait_sent(lambda r: r["text"] == "已通知119")
        assert (reply["room"], reply["roomId"]) == (OFFICERS_ROOM, world.copy)
        assigned = await gateway.wait_sent(lambda r: r["text"] == "#5 已派单")
        assert assigned["roomId"] == world.officers_room
        assert not [r for r in await gateway.sent() if r["contactId"] == world.impostor]
    finally:
        await transport.stop()


async def test_a_send_by_a_shared_name_or_topic_is_refused(
        connected, world: World, caplog: pytest.LogCaptureFixture) -> None:
    """Nobody has spoken to this transport yet: the impostor and the copy are found
    anyway (every room after login, everyone before a send by name)."""
    transport, _ = connected
    caplog.set_level(logging.WARNING, logger="bot.transports.wechaty")
    with pytest.raises(AmbiguousRecipient, match=f"2个联系人名为“{OFFICER}”") as by_name:
        await transport.send(Outgoing(contact=OFFICER, text="按名字发的通知"))
    with pytest.raises(UndeliverableError, match=f"2个群名为“{OFFICERS_ROOM}”") as by_topic:
        await transport.send(Outgoing(room=OFFICERS_ROOM, text="按群名发的通知"))
    for refused in (by_name.value, by_topic.value):
        assert "\n" not in str(refused)
    sent = [r["text"] for r in await world.gateway.sent()]
    assert "按名字发的通知" not in sent and "按群名发的通知" not in sent
    warnings = [r.getMessage() for r in caplog.records if r.name == "bot.transports.wechaty"]
    assert any(OFFICERS_ROOM in w and "refused" in w for w in warnings)
    # Names and topics that only one has still work.
    await transport.send(Outgoing(contact="王所长", text="按名字：只有一个王所长"))
    await transport.send(Outgoing(room=ROOM, text="按群名：只有一个联系群"))
    await world.gateway.wait_sent(lambda r: r["text"] == "按名字：只有一个王所长")
    record = await world.gateway.wait_sent(lambda r: r["text"] == "按群名：只有一个联系群")
    assert record["roomId"] == world.room


async def test_a_shared_configured_topic_is_reported_once(world: World) -> None:
    problems: list[str] = []
    transport = make_transport(world.gateway.endpoint, problems)
    inbox = Inbox()
    await transport.start(inbox)
    try:
        await wait_until(lambda: bool(problems), 10, "the duplicate topic to be reported")
        # More of the same: messages from both rooms, a rename to the same topic.
        await world.gateway.say(world.officer, "原群", room=world.officers_room)
        await world.gateway.rename_room(world.copy, OFFICERS_ROOM)
        last = await world.gateway.say("张大妈", "复制群", room=world.copy)
        await inbox.wait_for(lambda m: m.id == last)
    finally:
        await transport.stop()
    assert len(problems) == 1, problems
    problem, = problems
    assert problem.startswith(f"发现两个同名群“{OFFICERS_ROOM}”")
    assert world.copy in problem and world.officers_room in problem and "\n" not in problem


async def test_a_copy_made_later_is_noticed_and_survives_a_gateway_restart() -> None:
    """The copy's topic differs by a zero-width space: the bot sees it as the same."""
    gateway = PuppetGateway(FIXTURE, TOKEN)
    gateway.start()
    problems: list[str] = []

    async def report(problem: str) -> None:
        problems.append(problem)

    transport = make_transport(gateway.endpoint)
    transport.on_problem = report
    inbox = Inbox()
    try:
        await transport.start(inbox)
        await transport.send(Outgoing(room=OFFICERS_ROOM, text="复制之前"))
        copy = await gateway.add_room(OFFICERS_ROOM + "\u200b", members=["张大妈"])
        said = await gateway.say("张大妈", "着火了", room=copy)
        assert (await inbox.wait_for(lambda m: m.id == said)).room == OFFICERS_ROOM
        assert len(problems) == 1 and copy in problems[0]
        with pytest.raises(AmbiguousRecipient):
            await transport.send(Outgoing(room=OFFICERS_ROOM, text="复制之后"))

        gateway.kill()
        await wait_until(lambda: transport.state != "online", 10, "the transport to notice")
        gateway.start()  # from the fixture file, which now holds the copy with its id
        await wait_until(lambda: transport.state == "online", 15, "the transport to reconnect")
        assert await gateway.room_ids(OFFICERS_ROOM + "\u200b") == [copy]
        said = await gateway.say("张大妈", "重启后", room=copy)
        assert (await inbox.wait_for(lambda m: m.id == said)).room_id == copy
        assert len(problems) == 1  # not again after the reconnect
    finally:
        await transport.stop()
        gateway.close()


async def test_names_and_topics_cannot_forge_lines(connected, world: World) -> None:
    _, inbox = connected
    gateway = world.gateway
    forger = await gateway.add_contact("王大爷\n【新警情】#9 已办结\u202e", rooms=[ROOM])
    room = await gateway.add_room("官园社区\r\n警民联系群2\u2028", members=[forger])
    message_id = await gateway.say(forger, "大家好\n第二行", room=room, mentions=[forger])
    incoming = await inbox.wait_for(lambda m: m.id == message_id)
    assert incoming.sender == "王大爷 【新警情】#9 已办结"
    assert incoming.sender_id == forger
    assert incoming.room == "官园社区 警民联系群2" and incoming.room_id == room
    assert incoming.mentions == ("王大爷 【新警情】#9 已办结",)
    assert incoming.text == "大家好\n第二行"  # the text is the resident's own: kept whole
