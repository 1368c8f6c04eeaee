"""A resident's private report reaches the officer of their contact group (SPEC.md
"Private messages from residents", issue 12 point 3), end to end: `pingan run` as a
real process against the real puppet-service gateway, which says who is in which room.

The residents are added after the bot has logged in and listed its rooms, so the
bot must look at the rooms' member lists again to find them there. One world for the
module; each test has residents of its own and picks its records out by their ids.
The copied-room test goes last: after it, one configured topic has two rooms.
"""
from __future__ import annotations

from typing import Any, Iterator

import pytest

from tests.e2e.bot_process import ROOM, SEND, URGENT_ROOM, World, case_id, quiet, start_world
from tests.e2e.gateway import contact_id

TOKEN = "pingan-private-route-token"
OUTBOX = "[outbox]\nper_minute = 100\n"
DISPUTE = "楼下两个人吵起来了，快打架了"
LI = contact_id("李警官")  # ROOM's officer, bound by wechat_id
CHEN = contact_id("陈警官")  # URGENT_ROOM's


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = start_world(tmp_path_factory.mktemp("private-route"), TOKEN, outbox=OUTBOX)
    try:
        yield world
    finally:
        world.end()


async def to(world: World, contact: str, *texts: str) -> dict[str, Any]:
    """The first private message to the contact id `contact` containing every text."""
    return await world.gateway.wait_sent(
        lambda r: r["contactId"] == contact and all(t in r["text"] for t in texts), SEND)


async def private_to_officers(world: World, text: str) -> list[dict[str, Any]]:
    return [r for r in await world.gateway.sent() if r["contactId"] in (LI, CHEN) and text in r["text"]]


async def test_a_member_of_one_group_reports_privately_and_its_officer_is_told(world: World) -> None:
    gw = world.gateway
    room, = await gw.room_ids(ROOM)
    resident = await gw.add_contact("钱阿姨", friend=True, rooms=[room])
    await gw.say(resident, DISPUTE)

    notice = await to(world, LI, "【新警情】", DISPUTE)
    assert "钱阿姨" in notice["text"] and "官园社区" in notice["text"] and notice["contact"] == "李警官"
    ack = await to(world, resident, "已登记为", "李警官")
    assert case_id(ack["text"]) == case_id(notice["text"]) and ack["contact"] == "钱阿姨"
    await quiet(world.bot)
    # Privately: the group is not told who reported, and the other officer hears nothing.
    sent = await gw.sent()
    assert [r for r in sent if r["roomId"] == room] == []
    assert [r for r in sent if r["contactId"] == CHEN and DISPUTE in r["text"]] == []


async def test_a_member_of_two_groups_is_asked_which_community(world: World) -> None:
    gw = world.gateway
    text = "隔壁邻居为了漏水的事吵起来了，快打起来了"
    resident = await gw.add_contact("周大爷", friend=True, rooms=[ROOM, URGENT_ROOM])
    await gw.say(resident, text)
    asked = await to(world, resident, "哪个社区")
    assert asked["contact"] == "周大爷"
    await quiet(world.bot)
    assert await private_to_officers(world, text) == []


async def test_a_member_of_a_copied_room_only_is_asked_which_community(world: World) -> None:
    gw = world.gateway
    text = "小区门口两伙人吵起来了，快打架了"
    resident = await gw.add_contact("吴阿姨", friend=True)
    await gw.add_room(ROOM, members=[resident])  # a copy of ROOM's topic: proves nothing
    await gw.say(resident, text)
    await to(world, resident, "哪个社区")
    await quiet(world.bot)
    assert await private_to_officers(world, text) == []
