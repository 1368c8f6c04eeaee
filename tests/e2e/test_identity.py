"""Identity end to end (SPEC.md "Identity", issue 12): `pingan run` as a real process
against the real puppet-service gateway, with a second contact named 李警官 (an
impostor: another id) and a second room with a copied topic.

One world for the module: the gateway and a bot whose config leaves 陈警官 unbound
(李警官 and 王所长 are bound by `wechat_id`). Each test speaks in rooms and with texts
of its own and picks its records out by id and text, so the tests do not see each
other's messages. Two tests kill the bot and start it again on the same database and
gateway (`World.restart_bot`); the others just use whichever bot is running. The
`pingan invite` and `pingan people` commands run beside the running bot, on its
database, as an operator runs them. Every wait polls with a timeout.
"""
from __future__ import annotations

import asyncio
import re
import sqlite3
from pathlib import Path
from typing import Any, Iterator

import pytest

from bot.config import load_config
from bot.run.storage_watch import admins
from tests.e2e.bot_process import (GUARD_ROOM, OFFICERS_ROOM, ROOM, SEND, URGENT_ROOM, World,
                                   case_id, quiet, start_world)
from tests.e2e.gateway import contact_id
from tests.support.processes import Result, cli_env, run_cli

TOKEN = "pingan-identity-token"
LI, CHEN, LEADER = "李警官", "陈警官", "王所长"
# The module sends about thirty messages in well under a minute: more than the default
# 20 a minute would let through in time. Send limits are tested elsewhere.
OUTBOX = "[outbox]\nper_minute = 100\n"

UNBOUND_REPORT = "举报 小区门口天天有人占道摆摊"           # URGENT_ROOM, 陈警官 not yet bound
BOUND_REPORT = "楼上邻居天天半夜装修，吵得没法睡，跟他说了还骂人"  # URGENT_ROOM, after binding
RESTARTED_REPORT = "小区里的电动车在楼道里充电，很危险"   # URGENT_ROOM, after a restart
DISPUTE = "楼下两个人吵起来了，快打架了"                    # ROOM: the case the impostor claims
HOME_FIRE = "救命！我家着火了"                              # private, from residents
SCHOOL_FIGHT = "校门口有人拿刀打架"                        # the guard-post room
FIRE = "三楼楼道里着火了，冒了好多烟"                      # ROOM
COPY_FIRE = "二单元楼道着火了，好多烟"                      # the copy of ROOM: fire too
FRAUD = "刚才有人冒充公安打电话，让我把钱转到安全账户"      # ROOM, after the restart
REPORTS = (UNBOUND_REPORT, BOUND_REPORT, RESTARTED_REPORT, DISPUTE, SCHOOL_FIGHT, FIRE, COPY_FIRE, FRAUD)


class Identities:
    """The module's world and the ids the tests tell apart."""

    def __init__(self, world: World, impostor: str, room: str) -> None:
        self.world = world
        self.gateway = world.gateway
        self.li = contact_id(LI)
        self.chen = contact_id(CHEN)
        self.leader = contact_id(LEADER)
        self.impostor = impostor  # another contact named 李警官, a member of ROOM
        self.room = room  # ROOM's id (the topic alone is ambiguous once it is copied)

    @property
    def database(self) -> Path:
        return self.world.config.parent / "pingan.db"

    def case(self, number: int) -> dict[str, Any]:
        """The case's row, read as any other program would while the bot runs."""
        with sqlite3.connect(f"file:{self.database}?mode=ro", uri=True) as db:
            db.row_factory = sqlite3.Row
            row = db.execute("select * from cases where id = ?", (number,)).fetchone()
        assert row is not None, f"no case #{number}"
        return dict(row)

    async def cli(self, *args: str) -> Result:
        """`pingan ARGS -c CONFIG` beside the running bot."""
        config = self.world.config
        result = await asyncio.to_thread(run_cli, *args, "-c", str(config), cwd=config.parent, env=cli_env())
        assert result.code == 0 and "Traceback" not in result.stderr, result
        return result

    async def to(self, contact: str, *texts: str, since: dict[str, Any] | None = None) -> dict[str, Any]:
        """The first private message to the contact id `contact` containing every text."""
        return await self.gateway.wait_sent(
            lambda r: r["contactId"] == contact and all(t in r["text"] for t in texts)
            and (since is None or r["seq"] > since["seq"]), SEND)

    async def leaked_to_impostor(self) -> list[dict[str, Any]]:
        """What reached the impostor's id that only an officer may read: a report's
        text, a reporter, a notice or alert (all of which start with 【...】)."""
        return [r for r in await self.gateway.sent() if r["contactId"] == self.impostor
                and (any(text in r["text"] for text in REPORTS) or "报告人" in r["text"] or "【" in r["text"])]

    async def in_room(self, room_id: str, *texts: str, since: dict[str, Any] | None = None) -> dict[str, Any]:
        return await self.gateway.wait_sent(
            lambda r: r["roomId"] == room_id and all(t in r["text"] for t in texts)
            and (since is None or r["seq"] > since["seq"]), SEND)


@pytest.fixture(scope="module")
def ids(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Identities]:
    world = start_world(tmp_path_factory.mktemp("identity"), TOKEN, outbox=OUTBOX, bound=(LI, LEADER))
    try:
        impostor = asyncio.run(world.gateway.add_contact(LI, friend=True, rooms=[ROOM]))
        room, = asyncio.run(world.gateway.room_ids(ROOM))
        yield Identities(world, impostor, room)
    finally:
        world.end()


def people_line(listing: str, name: str) -> str:
    line, = [line for line in listing.splitlines() if line.startswith(f"{name}\t")]
    return line


async def test_an_officer_binds_by_code_and_then_gets_notices_at_that_id(ids: Identities) -> None:
    gw = ids.gateway
    # Unbound: the leader heard so at start, and `pingan people` says so.
    told = await ids.to(ids.leader, "【待绑定】")
    assert CHEN in told["text"] and LI not in told["text"]
    assert "未绑定" in people_line((await ids.cli("people")).stdout, CHEN)

    # Meanwhile 陈警官's notice goes to the officers' room, without reporter or text.
    await gw.say("赵阿姨", UNBOUND_REPORT, room=URGENT_ROOM)
    redacted = await gw.wait_sent(lambda r: r["room"] == OFFICERS_ROOM and f"{CHEN}尚未绑定微信" in r["text"], SEND)
    assert "赵阿姨" not in redacted["text"] and "占道摆摊" not in redacted["text"]
    first_case = case_id(redacted["text"])

    invited = await ids.cli("invite", CHEN)
    code = re.search(r"验证码：(\d{6})", invited.stdout)
    assert code, invited.stdout
    await gw.say(ids.chen, f"绑定 {code.group(1)}")
    confirmed = await ids.to(ids.chen, "绑定成功")
    assert CHEN in confirmed["text"]
    assert re.search(rf"已绑定 {ids.chen}", people_line((await ids.cli("people")).stdout, CHEN))

    # From now on the notice goes privately, to the id that sent the code.
    await gw.say("赵阿姨", BOUND_REPORT, room=URGENT_ROOM)
    notice = await ids.to(ids.chen, BOUND_REPORT)
    assert "赵阿姨" in notice["text"] and case_id(notice["text"]) != first_case
    assert notice["contact"] == CHEN and notice["seq"] > confirmed["seq"]
    # Nothing before the binding went to 陈警官 privately.
    assert [r for r in await gw.sent() if r["contactId"] == ids.chen and r["seq"] < confirmed["seq"]] == []

    # The binding is stored: a restarted bot still sends to that id.
    await ids.world.restart_bot()
    await gw.say("赵阿姨", RESTARTED_REPORT, room=URGENT_ROOM)
    notice = await ids.to(ids.chen, RESTARTED_REPORT)
    assert "赵阿姨" in notice["text"]
    assert not [r for r in await gw.sent() if r["room"] == OFFICERS_ROOM and r["seq"] > redacted["seq"]
                and CHEN in r["text"]]


async def test_an_impostors_claim_is_refused_and_the_leader_told(ids: Identities) -> None:
    gw = ids.gateway
    await gw.say("张大妈", DISPUTE, room=ids.room)
    notice = await ids.to(ids.li, DISPUTE)
    number = case_id(notice["text"])

    await gw.say(ids.impostor, f"认领 {number}")
    refused = await ids.to(ids.impostor, "仅供社区民警使用", since=notice)
    alert = await ids.to(ids.leader, "【身份提醒】", since=notice)
    assert ids.impostor in alert["text"] and f"认领 {number}" in alert["text"] and LI in alert["text"]
    assert ids.case(number)["status"] == "待认领"
    assert refused["contact"] == LI  # the same name as the officer, another id

    # The officer, by id, still can.
    await gw.say(ids.li, f"认领 {number}")
    claimed = await ids.to(ids.li, "认领", f"#{number}", since=refused)
    assert ids.case(number)["claimed_by"] == LI
    await quiet(ids.world.bot)
    assert await ids.leaked_to_impostor() == []  # no notice, no details
    assert claimed["seq"] > alert["seq"]


async def test_a_residents_private_cry_for_help_gets_the_119_reply_at_their_id(ids: Identities) -> None:
    gw = ids.gateway
    resident = await gw.add_contact("孙阿姨", friend=True, rooms=[ids.room])
    await gw.say(resident, HOME_FIRE)
    first = await ids.to(resident, "119")
    assert first["contact"] == "孙阿姨"

    # A resident who shows an officer's name is a resident: answered at their own id,
    # not at the officer's (who would read a stranger's fire as meant for them).
    await gw.say(ids.impostor, HOME_FIRE)
    reply = await ids.to(ids.impostor, "119", since=first)
    assert reply["contact"] == LI
    await quiet(ids.world.bot)
    # (Officers' own messages all start with 【...】: a notice, a reminder.)
    assert not [r for r in await gw.sent() if r["contactId"] == ids.li and r["seq"] > first["seq"]
                and not r["text"].startswith("【")]


async def test_a_teachers_report_in_the_guard_room_gets_110_there_and_goes_to_the_schools_officer(
        ids: Identities) -> None:
    gw = ids.gateway
    guard_room, = await gw.room_ids(GUARD_ROOM)
    await gw.say("张老师", SCHOOL_FIGHT, room=GUARD_ROOM)
    urgent = await ids.in_room(guard_room, "110")
    assert urgent["mentions"] == ["张老师"]
    notice = await ids.to(ids.li, SCHOOL_FIGHT)  # the school's supervising officer (write_config)
    assert "宜春一中" in notice["text"] and "张老师" in notice["text"]
    assert urgent["seq"] < notice["seq"]  # the emergency reply first


async def test_a_room_with_a_copied_topic_gets_its_own_reply_and_case_and_the_admins_hear(
        ids: Identities) -> None:
    gw = ids.gateway
    original = ids.room
    await gw.say("王大爷", FIRE, room=original)
    first = await ids.to(ids.li, FIRE)
    await ids.in_room(original, "119")
    await ids.in_room(original, "收到", f"#{case_id(first['text'])}")
    await quiet(ids.world.bot)
    mark = (await gw.sent())[-1]

    copy = await gw.add_room(ROOM, members=["张大妈", "王大爷"])
    await gw.say("张大妈", COPY_FIRE, room=copy)
    urgent = await ids.in_room(copy, "119", since=first)
    assert urgent["room"] == ROOM and urgent["mentions"] == ["张大妈"]
    second = await ids.to(ids.li, COPY_FIRE)
    ack = await ids.in_room(copy, "收到", f"#{case_id(second['text'])}")

    # Its own case: not merged into the original room's fire of a minute ago.
    assert case_id(second["text"]) != case_id(first["text"])
    assert ids.case(case_id(first["text"]))["room_id"] == original
    assert ids.case(case_id(second["text"]))["room_id"] == copy
    assert ids.case(case_id(first["text"]))["message_count"] == 1

    # The admins (here: no admin is configured, so the station leader) are told.
    told = admins(load_config(ids.world.config))
    assert told == (LEADER,)
    for name in told:
        alert = await ids.to(contact_id(name), "【系统告警】发现两个同名群", ROOM)
        assert original in alert["text"] and copy in alert["text"]

    # Nothing of the copy's went to the original room, nor the other way round.
    await quiet(ids.world.bot)
    sent = await gw.sent()
    assert [r for r in sent if r["roomId"] == original and r["seq"] > mark["seq"]] == []
    assert [r for r in sent if r["roomId"] == copy] == [urgent, ack]


async def test_notices_reach_only_the_bound_id_across_a_restart_where_the_impostor_speaks_first(
        ids: Identities) -> None:
    gw = ids.gateway
    await ids.world.restart_bot()
    before = (await gw.sent())[-1]
    await gw.say(ids.impostor, "在吗？我是李警官")
    await ids.to(ids.impostor, "平安群助手", since=before)  # the resident's help: it was read

    await gw.say("王大爷", FRAUD, room=ids.room)
    notice = await ids.to(ids.li, FRAUD, since=before)
    assert "王大爷" in notice["text"]
    await quiet(ids.world.bot)

    assert await ids.leaked_to_impostor() == []
