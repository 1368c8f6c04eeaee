"""WechatyTransport against the real puppet-service gateway (a Node process).

Real processes and real sockets: waits poll with timeouts instead of sleeping.
"""
from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import AsyncIterator, Callable, Iterator

import pytest

from bot.dedup import Deduplicator
from bot.events import Incoming, Outgoing
from bot.transports.base import TransportError
from bot.transports.wechaty import RecipientNotFound, TransportStartError, WechatyTransport
from tests.e2e.gateway import PuppetGateway, free_port

TOKEN = "pingan-test-token"
BOT = "平安助手"
ROOM = "官园社区警民联系群1"
GUARD_ROOM = "宜春一中护学岗工作群"
CST = timezone(timedelta(hours=8))

FIXTURE = {
    "self": BOT,
    "contacts": ["李警官", "王所长", "张大妈", {"name": "", "id": "wxid_noname"}],
    "rooms": [
        {"topic": ROOM, "members": ["张大妈", "王大爷", "李警官", {"name": "", "id": "wxid_noname"}]},
        {"topic": GUARD_ROOM, "members": ["张老师", "刘师傅", "李警官"]},
        {"topic": "", "id": "notopic@chatroom", "members": ["张大妈"]},
    ],
}


def now() -> datetime:
    return datetime.now(CST)


class Inbox:
    """Collects what the transport delivers; tests wait on it with a timeout."""

    def __init__(self) -> None:
        self.messages: list[Incoming] = []
        self.arrival: dict[str, float] = {}
        self._changed = asyncio.Condition()

    async def __call__(self, message: Incoming) -> None:
        self.arrival[message.id] = time.perf_counter()
        async with self._changed:
            self.messages.append(message)
            self._changed.notify_all()

    async def wait_for(self, predicate: Callable[[Incoming], bool], timeout: float = 10.0) -> Incoming:
        async def first_match() -> Incoming:
            async with self._changed:
                while True:
                    for message in self.messages:
                        if predicate(message):
                            return message
                    await self._changed.wait()

        return await asyncio.wait_for(first_match(), timeout)


# Real processes talk over real sockets: tests poll for what they wait for, at these
# intervals, never sleep a fixed time.
POLL_INTERVAL = 0.01
STATE_SAMPLE_INTERVAL = 0.005

async def wait_until(condition: Callable[[], bool], timeout: float, what: str) -> float:
    """Poll `condition`; return how long it took."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(POLL_INTERVAL)
    return time.perf_counter() - started


def make_transport(endpoint: str, token: str = TOKEN, login_timeout: float = 15.0,
                   heartbeat_interval: float | None = 30.0) -> WechatyTransport:
    return WechatyTransport(endpoint, token, BOT, clock_now=now, login_timeout=login_timeout,
                            reconnect_initial=0.1, reconnect_max=0.5,
                            heartbeat_interval=heartbeat_interval)


@pytest.fixture(scope="module")
def gateway() -> Iterator[PuppetGateway]:
    gw = PuppetGateway(FIXTURE, TOKEN)
    gw.start()
    yield gw
    gw.close()


@pytest.fixture
async def connected(gateway: PuppetGateway) -> AsyncIterator[tuple[WechatyTransport, Inbox]]:
    transport = make_transport(gateway.endpoint)
    inbox = Inbox()
    await transport.start(inbox)
    assert transport.state == "online"
    yield transport, inbox
    await transport.stop()
    assert transport.state == "stopped"


# ---- incoming -------------------------------------------------------------------------

async def test_room_message_with_mentions(connected, gateway: PuppetGateway) -> None:
    transport, inbox = connected
    said = time.perf_counter()
    message_id = await gateway.say("张大妈", f"@{BOT}\u2005@李警官\u2005楼下两个人打起来了", room=ROOM,
                                   mentions=[BOT, "李警官"])
    incoming = await inbox.wait_for(lambda m: m.id == message_id)
    print(f"\nsay -> on_message latency: {(inbox.arrival[message_id] - said) * 1000:.1f} ms"
          " (including the control HTTP call)")
    assert incoming.room == ROOM
    assert incoming.sender == "张大妈"
    assert incoming.text.endswith("楼下两个人打起来了")
    assert incoming.mentions == (BOT, "李警官")
    assert incoming.mentions_bot and not incoming.is_self and incoming.room is not None
    assert incoming.at.tzinfo is not None


async def test_room_message_without_mention(connected, gateway: PuppetGateway) -> None:
    _, inbox = connected
    message_id = await gateway.say("王大爷", "今天天气不错", room=ROOM)
    incoming = await inbox.wait_for(lambda m: m.id == message_id)
    assert (incoming.sender, incoming.mentions, incoming.mentions_bot) == ("王大爷", (), False)


async def test_at_name_in_text_counts_when_the_gateway_gives_no_mention_list(
        connected, gateway: PuppetGateway) -> None:
    _, inbox = connected
    message_id = await gateway.say("张大妈", f"@{BOT}\u2005求助 有人打架", room=ROOM)
    assert (await inbox.wait_for(lambda m: m.id == message_id)).mentions_bot


async def test_private_message(connected, gateway: PuppetGateway) -> None:
    _, inbox = connected
    message_id = await gateway.say("李警官", "认领 12")
    incoming = await inbox.wait_for(lambda m: m.id == message_id)
    assert incoming.room is None and incoming.room_id is None
    assert (incoming.sender, incoming.text, incoming.mentions_bot) == ("李警官", "认领 12", False)


async def test_messages_arrive_in_order(connected, gateway: PuppetGateway) -> None:
    _, inbox = connected
    ids = [await gateway.say("张大妈", f"第{i}条", room=ROOM) for i in range(15)]
    await inbox.wait_for(lambda m: m.id == ids[-1])
    delivered = [m.id for m in inbox.messages if m.id in ids]
    assert delivered == ids


async def test_bad_input_from_the_wire_is_survived(connected, gateway: PuppetGateway) -> None:
    _, inbox = connected
    ignored = [await gateway.say("张大妈", room=ROOM, type=kind)
               for kind in ("voice", "location", "mini-program", "recalled", "image", "unknown")]
    no_topic = await gateway.say("张大妈", "这个群没有名字", room="notopic@chatroom")
    no_name = await gateway.say("wxid_noname", "我没有昵称", room=ROOM)
    empty = await gateway.say("张大妈", "", room=ROOM)
    last = await gateway.say("张大妈", "最后一条", room=ROOM)
    await inbox.wait_for(lambda m: m.id == last)
    delivered = {m.id: m for m in inbox.messages}
    assert not set(ignored) & set(delivered)
    assert delivered[no_topic].room == "notopic@chatroom"  # never a configured topic
    assert delivered[no_name].sender == "wxid_noname"
    assert delivered[empty].text == ""


NEWER_TYPES = ("chat-history", "group-note", "transfer", "red-envelope", "url", "video", "post")


async def test_message_types_the_client_does_not_know_cost_one_line_each(
        connected, gateway: PuppetGateway, caplog: pytest.LogCaptureFixture) -> None:
    """`post` (16) is newer than python-wechaty's type table, which raised IndexError
    on it: a traceback per message. Now each is ignored with at most one plain line."""
    _, inbox = connected
    caplog.set_level(logging.DEBUG, logger="bot.transports.wechaty")
    ignored = [await gateway.say("张大妈", room=ROOM, type=kind) for kind in NEWER_TYPES]
    last = await gateway.say("张大妈", "类型之后", room=ROOM)
    await inbox.wait_for(lambda m: m.id == last)
    assert not set(ignored) & {m.id for m in inbox.messages}
    ours = [r for r in caplog.records if r.name == "bot.transports.wechaty"]
    assert not [r for r in ours if r.exc_info or r.levelno >= logging.WARNING]
    for message_id in ignored:
        lines = [r for r in ours if message_id in r.getMessage()]
        assert len(lines) == 1 and "\n" not in lines[0].getMessage(), lines
    assert "ignoring post message" in "".join(r.getMessage() for r in ours)


async def test_a_mention_the_gateway_cannot_resolve_keeps_the_message(
        connected, gateway: PuppetGateway) -> None:
    _, inbox = connected
    text = f"@{BOT}\u2005@某人\u2005举报 楼下有人打架"
    message_id = await gateway.say("张大妈", text, room=ROOM,
                                   mentions=[BOT, {"id": "wxid_left_wechat"}, "李警官"])
    incoming = await inbox.wait_for(lambda m: m.id == message_id)
    assert (incoming.sender, incoming.text) == ("张大妈", text)
    assert incoming.mentions == (BOT, "wxid_left_wechat", "李警官")
    assert incoming.mentions_bot


async def test_handler_errors_do_not_stop_delivery(gateway: PuppetGateway) -> None:
    inbox = Inbox()

    async def flaky(message: Incoming) -> None:
        if "炸" in message.text:
            raise RuntimeError("handler bug")
        await inbox(message)

    transport = make_transport(gateway.endpoint)
    await transport.start(flaky)
    try:
        await gateway.say("张大妈", "炸", room=ROOM)
        after = await gateway.say("张大妈", "之后", room=ROOM)
        await inbox.wait_for(lambda m: m.id == after)
        assert transport.state == "online"
    finally:
        await transport.stop()


async def test_repeats_reach_the_bot_and_the_deduplicator_drops_them(
        connected, gateway: PuppetGateway) -> None:
    _, inbox = connected
    first = await gateway.say("张大妈", "楼道里有人吵架", room=ROOM)
    await gateway.say("张大妈", id=first)  # the gateway redelivers the same id
    resend = await gateway.say("张大妈", "楼道里有人吵架", room=ROOM)  # WeChat resends, new id
    await inbox.wait_for(lambda m: m.id == resend)
    copies = [m for m in inbox.messages if m.text == "楼道里有人吵架"]
    assert [m.id for m in copies] == [first, first, resend]
    dedup = Deduplicator()
    assert [dedup.is_duplicate(m) for m in copies] == [False, True, True]


# ---- outgoing -------------------------------------------------------------------------

async def test_send_room_text_with_mentions(connected, gateway: PuppetGateway) -> None:
    transport, inbox = connected
    await transport.send(Outgoing(room=GUARD_ROOM, text="晚间护学岗 21:30 开始，请回复到岗",
                                  mentions=("张老师", "刘师傅")))
    record = await gateway.wait_sent(lambda r: "晚间护学岗" in r["text"])
    assert record["room"] == GUARD_ROOM and record["contact"] is None
    assert record["mentions"] == ["张老师", "刘师傅"]
    assert record["text"].startswith("@张老师") and record["text"].endswith("请回复到岗")
    # WeChat echoes the account's own messages back: delivered, marked as self.
    echo = await inbox.wait_for(lambda m: "晚间护学岗" in m.text)
    assert echo.is_self and echo.sender == BOT and echo.room == GUARD_ROOM


async def test_send_private_text(connected, gateway: PuppetGateway) -> None:
    transport, _ = connected
    await transport.send(Outgoing(contact="李警官", text="#3 矛盾纠纷 待认领"))
    record = await gateway.wait_sent(lambda r: r["text"] == "#3 矛盾纠纷 待认领")
    assert (record["contact"], record["room"], record["mentions"]) == ("李警官", None, [])


async def test_send_files(connected, gateway: PuppetGateway, tmp_path: Path) -> None:
    transport, _ = connected
    chart = tmp_path / "briefing-2026-03.png"
    chart.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    ledger = tmp_path / "ledger-2026-03.xlsx"
    ledger.write_bytes(b"PK\x03\x04" + b"\0" * 64)
    await transport.send(Outgoing(room=ROOM, text="三月通报", file=str(chart)))
    await transport.send(Outgoing(contact="王所长", file=str(ledger)))
    await gateway.wait_sent(lambda r: r["room"] == ROOM and r["text"] == "三月通报")
    in_room = await gateway.wait_sent(lambda r: r["file"] == chart.name)
    private = await gateway.wait_sent(lambda r: r["file"] == ledger.name)
    assert in_room["room"] == ROOM
    assert private["contact"] == "王所长"


async def test_missing_file_is_not_a_transport_error(connected, gateway: PuppetGateway) -> None:
    transport, _ = connected
    before = len(await gateway.sent())
    with pytest.raises(FileNotFoundError):
        await transport.send(Outgoing(room=ROOM, text="附件见下", file="/nonexistent/chart.png"))
    assert len(await gateway.sent()) == before  # nothing half-sent


async def test_mention_of_someone_not_in_the_room_is_still_written(
        connected, gateway: PuppetGateway) -> None:
    transport, _ = connected
    await transport.send(Outgoing(room=GUARD_ROOM, text="请代班", mentions=("张老师", "不存在的人")))
    record = await gateway.wait_sent(lambda r: r["text"].endswith("请代班"))
    assert record["mentions"] == ["张老师"]
    assert "@不存在的人" in record["text"]


async def test_unknown_recipients(connected) -> None:
    transport, _ = connected
    with pytest.raises(RecipientNotFound, match="找不到群.*no room"):
        await transport.send(Outgoing(room="不存在的群", text="x"))
    with pytest.raises(RecipientNotFound, match="no contact"):
        await transport.send(Outgoing(contact="不存在的人", text="x"))


async def test_renamed_room_is_found_by_its_new_topic(connected, gateway: PuppetGateway) -> None:
    transport, inbox = connected
    await transport.send(Outgoing(room="官园社区警民联系群1", text="改名前"))
    await gateway.rename_room(ROOM, "官园社区警民联系群(新)")
    try:
        message_id = await gateway.say("张大妈", "改名后", room="官园社区警民联系群(新)")
        assert (await inbox.wait_for(lambda m: m.id == message_id)).room == "官园社区警民联系群(新)"
        await transport.send(Outgoing(room="官园社区警民联系群(新)", text="新群名收到"))
        record = await gateway.wait_sent(lambda r: r["text"] == "新群名收到")
        assert record["room"] == "官园社区警民联系群(新)"
    finally:
        await gateway.rename_room("官园社区警民联系群(新)", ROOM)


async def test_send_before_start_raises_transport_error(gateway: PuppetGateway) -> None:
    transport = make_transport(gateway.endpoint)
    assert transport.state == "stopped"
    with pytest.raises(TransportError, match="not connected"):
        await transport.send(Outgoing(room=ROOM, text="x"))


# ---- start failures -------------------------------------------------------------------

async def test_wrong_token_fails_fast_with_a_clear_reason(gateway: PuppetGateway) -> None:
    transport = make_transport(gateway.endpoint, token="wrong-token", login_timeout=10)
    started = time.perf_counter()
    with pytest.raises(TransportStartError) as caught:
        await transport.start(Inbox())
    assert time.perf_counter() - started < 5  # rejected at once, not after the timeout
    assert caught.value.reason == "bad_token"
    assert "令牌" in str(caught.value) and "token" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert transport.state == "stopped"


async def test_unreachable_endpoint_fails_after_the_login_timeout() -> None:
    transport = make_transport(f"127.0.0.1:{free_port()}", login_timeout=1.0)
    started = time.perf_counter()
    with pytest.raises(TransportStartError) as caught:
        await transport.start(Inbox())
    assert 0.9 < time.perf_counter() - started < 5
    assert caught.value.reason == "unreachable"
    assert "无法连接" in str(caught.value) and "unreachable" in str(caught.value)
    assert transport.state == "stopped"


async def test_account_not_logged_in_fails_after_the_login_timeout() -> None:
    gw = PuppetGateway({**FIXTURE, "login": False}, TOKEN)
    gw.start()
    transport = make_transport(gw.endpoint, login_timeout=1.5)
    try:
        with pytest.raises(TransportStartError) as caught:
            await transport.start(Inbox())
        assert caught.value.reason == "not_logged_in"
        assert "未" in str(caught.value) and "did not log in" in str(caught.value)
    finally:
        await transport.stop()
        gw.close()


def test_bad_endpoint_is_rejected_at_construction() -> None:
    with pytest.raises(ValueError, match="host:port"):
        WechatyTransport("localhost", TOKEN, BOT, clock_now=now)


# ---- reconnect ------------------------------------------------------------------------

async def test_reconnects_after_the_gateway_is_killed_and_restarted() -> None:
    gw = PuppetGateway(FIXTURE, TOKEN)
    gw.start()
    transport = make_transport(gw.endpoint)
    inbox = Inbox()
    try:
        await transport.start(inbox)
        await transport.send(Outgoing(room=ROOM, text="重启前"))
        await gw.wait_sent(lambda r: r["text"] == "重启前")

        gw.kill()
        await wait_until(lambda: transport.state != "online", 10, "the transport to notice")
        with pytest.raises(TransportError):
            await transport.send(Outgoing(room=ROOM, text="断线中"))

        gw.start()  # same port, fresh process
        restarted = time.perf_counter()
        await wait_until(lambda: transport.state == "online", 15, "the transport to reconnect")
        print(f"\nreconnect after gateway restart: {(time.perf_counter() - restarted) * 1000:.0f} ms")

        await transport.send(Outgoing(room=ROOM, text="重启后", mentions=("张大妈",)))
        record = await gw.wait_sent(lambda r: r["text"].endswith("重启后"))
        assert record["mentions"] == ["张大妈"]
        message_id = await gw.say("张大妈", "重启后收到吗", room=ROOM)
        assert (await inbox.wait_for(lambda m: m.id == message_id)).sender == "张大妈"
    finally:
        await transport.stop()
        gw.close()


async def test_logout_then_login_again(gateway: PuppetGateway) -> None:
    transport = make_transport(gateway.endpoint)
    states: list[str] = []
    inbox = Inbox()
    await transport.start(inbox)
    try:
        watcher = asyncio.create_task(_record_states(transport, states))
        await gateway.logout()
        await wait_until(lambda: "offline" in states and transport.state == "online", 10,
                         "a reconnect after the logout")
        watcher.cancel()
        message_id = await gateway.say("李警官", "重新登录了吗")
        await inbox.wait_for(lambda m: m.id == message_id)
    finally:
        await transport.stop()


async def test_a_frozen_gateway_is_noticed_by_the_heartbeat() -> None:
    gw = PuppetGateway(FIXTURE, TOKEN)
    gw.start()
    transport = make_transport(gw.endpoint, heartbeat_interval=0.3)
    try:
        await transport.start(Inbox())
        gw.freeze()  # sockets stay open: only the heartbeat can tell
        noticed = await wait_until(lambda: transport.state != "online", 10, "the heartbeat to fail")
        print(f"\nfrozen gateway noticed after {noticed * 1000:.0f} ms (heartbeat 300 ms)")
        gw.thaw()
        await wait_until(lambda: transport.state == "online", 15, "the transport to reconnect")
        await transport.send(Outgoing(contact="李警官", text="恢复了"))
        await gw.wait_sent(lambda r: r["text"] == "恢复了")
    finally:
        await transport.stop()
        gw.close()


async def _record_states(transport: WechatyTransport, states: list[str]) -> None:
    while True:
        if not states or states[-1] != transport.state:
            states.append(transport.state)
        await asyncio.sleep(STATE_SAMPLE_INTERVAL)


async def test_stop_is_prompt_while_the_gateway_is_down() -> None:
    gw = PuppetGateway(FIXTURE, TOKEN)
    gw.start()
    transport = make_transport(gw.endpoint)
    try:
        await transport.start(Inbox())
        gw.kill()
        await wait_until(lambda: transport.state != "online", 10, "the transport to notice")
        started = time.perf_counter()
        await transport.stop()
        assert time.perf_counter() - started < 2
        assert transport.state == "stopped"
    finally:
        gw.close()


# ---- import shims ---------------------------------------------------------------------

def test_importing_wechaty_writes_nothing_into_the_working_directory(tmp_path: Path) -> None:
    code = ("from bot.transports.wechaty import _import_wechaty; _import_wechaty(); "
            "import os; print(os.environ['WECHATY_LOG'])")
    env = {**os.environ, "WECHATY_LOG": "loud", "PYTHONPATH": str(Path(__file__).parents[2])}
    env.pop("CACHE_DIR", None)
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "error"  # an invalid WECHATY_LOG no longer breaks the import
    assert list(tmp_path.iterdir()) == []
