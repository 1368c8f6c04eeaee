"""`pingan run` end to end: a real bot process against the real puppet-service gateway.

Two real processes per world: the Node gateway (tests/e2e/puppet-server.js, whose
contacts the tests make speak and which records everything the bot sends) and
`python -m bot run -c pingan.toml` with the endpoint and token in its environment,
a fresh database and its own /healthz port. Nothing is faked in between.

Most tests share one world (`live`), started once: its guard-post reminder is set
for the first whole minute at least REMINDER_LEAD away, and the other tests run while
it comes due, so the suite takes about as long as that wait. Worlds that are killed,
restarted or refused start their own processes. Every wait polls with a timeout.
"""
from __future__ import annotations

import re
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

import pytest

from tests.e2e.bot_process import (BOT, GUARD_ROOM, ON_DUTY, ROOM, SEND, SHIFT, STARTUP, TZ, URGENT_ROOM,
                                   BotProcess, GuardShift, World, after, case_id, gateway_fixture, poll,
                                   quiet, start_world, write_config)
from tests.e2e.gateway import PuppetGateway, free_port

TOKEN = "pingan-e2e-token"
# Start-up takes 4-7 s here. On a slower machine the reminder falls due before the bot
# is online and goes out as soon as it is (the restart catch-up): still not early.
REMINDER_LEAD = timedelta(seconds=10)

DISPUTE = "楼下两个人吵起来了，快打架了"
FRAUD = "刚才有人冒充公安打电话，让我把钱转到安全账户"
FIRE = "三楼楼道里着火了，冒了好多烟"


def _start_world(directory: Path, shift: GuardShift | None = None) -> World:
    return start_world(directory, TOKEN, shift)


def _end_world(world: World) -> None:
    world.end()


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    world = _start_world(tmp_path_factory.mktemp("live"), GuardShift.reminding_after(REMINDER_LEAD))
    yield world
    _end_world(world)


@pytest.fixture
def own_world(tmp_path: Path) -> Iterator[World]:
    world = _start_world(tmp_path)
    yield world
    _end_world(world)


# ---- the shared world: residents, officers, guard posts -------------------------------

async def test_dispute_report_reaches_the_officer_who_claims_it_in_private_chat(live: World) -> None:
    gw = live.gateway
    await gw.say("张大妈", DISPUTE, room=ROOM)

    notice = await gw.wait_sent(lambda r: r["contact"] == "李警官" and DISPUTE in r["text"], SEND)
    number = case_id(notice["text"])
    assert number == 1  # a fresh database counts from 1
    assert "矛盾纠纷" in notice["text"] and "张大妈" in notice["text"] and ROOM in notice["text"]
    # The acknowledgement (an urgent reply may come before it, depending on the learned model).
    ack = await gw.wait_sent(lambda r: r["room"] == ROOM and "收到" in r["text"], SEND)
    assert ack["mentions"] == ["张大妈"] and "#1" in ack["text"]
    assert DISPUTE not in ack["text"]  # privacy: the group reply never repeats the report

    await gw.say("李警官", "认领 1")
    reply = await gw.wait_sent(lambda r: after(notice)(r) and r["contact"] == "李警官", SEND)
    assert "认领" in reply["text"] and "#1" in reply["text"], reply


async def test_urgent_report_gets_the_110_reply_first(live: World) -> None:
    gw = live.gateway
    await gw.say("赵阿姨", "有人拿刀砍人了", room=URGENT_ROOM)

    first = await gw.wait_sent(lambda r: r["room"] == URGENT_ROOM, SEND)
    assert "110" in first["text"] and first["mentions"] == ["赵阿姨"], first
    notice = await gw.wait_sent(lambda r: r["contact"] == "陈警官", SEND)
    assert "有人拿刀砍人了" in notice["text"]
    assert first["seq"] < notice["seq"]  # the reply goes before anything else


async def test_the_bots_own_messages_are_not_processed_again(live: World) -> None:
    """Every message the bot sends comes back to it as an event. Two @-mentions each
    get one help reply; whatever the bot made of its own echoes of the first would be
    queued before the second reply, so once the outbox is empty again, nothing else
    may have gone."""
    gw, bot = live.gateway, live.bot
    await quiet(bot)
    await gw.say("王大爷", f"@{BOT}\u2005你好", room=ROOM, mentions=[BOT])
    first = await gw.wait_sent(lambda r: r["room"] == ROOM and r["mentions"] == ["王大爷"], SEND)
    await gw.say("赵阿姨", f"@{BOT}\u2005在吗", room=URGENT_ROOM, mentions=[BOT])
    second = await gw.wait_sent(lambda r: after(first)(r) and r["mentions"] == ["赵阿姨"], SEND)
    await quiet(bot)

    # (The guard-post reminder is on a timer of its own and may fall due meanwhile.)
    since_first = [r for r in await gw.sent() if r["seq"] > first["seq"] and r["room"] != GUARD_ROOM]
    assert since_first == [second]
    assert "110" in first["text"]  # the help reply: how to report, and call 110
    sent = await gw.sent()
    assert len({(r["room"], r["contact"], r["text"], tuple(r["mentions"])) for r in sent}) == len(sent)


async def test_healthz_says_online_with_an_empty_outbox(live: World) -> None:
    await quiet(live.bot)
    health = await live.bot.health()
    assert health is not None
    assert (health.status, health.body) == (200, {"status": "ok", "transport": "online", "storage": "ok", "outbox_pending": 0, "scheduler": health.body["scheduler"]})
    assert health.body["scheduler"]["jobs"] >= 0



async def test_the_dashboard_and_metrics_are_served_beside_the_bot(live: World) -> None:
    """`pingan run` serves the dashboard on its [web] port: a password set with
    `pingan set-password` beside the running bot logs 李警官 in, and his ledger
    lists a case opened in his group; /metrics counts the messages."""
    import subprocess
    import sys

    import aiohttp

    from tests.support import csrf_of

    bot = live.bot
    # Its own report, whatever the other tests of the module did before.
    await live.gateway.say("王大爷", "举报 小区门口天天有人占道摆摊，堵住了消防通道", room=ROOM)
    await poll(lambda: _has_case(bot), SEND, "a case in the database")
    done = subprocess.run([sys.executable, "-m", "bot", "set-password", "李警官", "-c", str(bot.config), "--stdin"],
                          input="e2e-password\n", capture_output=True, text=True, cwd=bot.config.parent,
                          env=BotProcess.environment(None, None), timeout=60)
    assert done.returncode == 0, done.stderr
    base = f"http://127.0.0.1:{bot.web_port}"
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.get(f"{base}/ledger", allow_redirects=False) as r:
            assert r.status == 303 and r.headers["Location"].startswith("/login")
        async with http.get(f"{base}/login") as r:
            token = csrf_of(await r.text())
        form = {"name": "李警官", "password": "e2e-password", "csrf_token": token}
        async with http.post(f"{base}/login", data=form) as r:
            ledger = await r.text()
        assert r.status == 200 and 'href="/cases/' in ledger and "官园社区" in ledger
        async with http.get(f"{base}/metrics") as r:
            metrics = await r.text()
    received = re.search(r"^pingan_messages_received_total (\d+)$", metrics, re.M)
    assert received and int(received.group(1)) >= 1
    assert 'pingan_cases{state=' in metrics


async def _has_case(bot: BotProcess) -> bool:
    import sqlite3

    with sqlite3.connect(bot.config.parent / "pingan.db") as conn:
        try:
            return conn.execute("select count(*) from cases where room = ?", [ROOM]).fetchone()[0] >= 1
        except sqlite3.Error:
            return False

# ---- worlds of their own: refused, unreachable, restarted, stopped ---------------------

def _config_for(directory: Path) -> tuple[Path, int]:
    port = free_port()
    return write_config(directory, GuardShift.reminding_after(timedelta(hours=1)), port), port


def _error_lines(log: str) -> list[str]:
    return [line for line in log.splitlines() if " ERROR " in line or "Traceback" in line]


async def test_wrong_token_exits_2_with_one_line_naming_the_cause(tmp_path: Path) -> None:
    config, port = _config_for(tmp_path)
    login_timeout = 10.0
    gateway = PuppetGateway(gateway_fixture(), TOKEN)
    gateway.start()
    bot = BotProcess(config, port, BotProcess.environment(gateway.endpoint, "not-the-token"),
                     login_timeout=login_timeout)
    try:
        code = await bot.wait_exit(STARTUP + login_timeout)
    finally:
        bot.kill()
        gateway.close()
    elapsed = time.monotonic() - bot.started
    print(f"\nwrong token: exit {code} after {elapsed:.1f}s")
    assert code == 2
    errors = _error_lines(bot.log())
    assert len(errors) == 1, bot.log()
    assert "无法登录微信" in errors[0] and "token rejected" in errors[0]
    assert "not-the-token" not in bot.log()  # a secret, even a wrong one, stays out of logs


async def test_unreachable_endpoint_exits_2_after_the_login_timeout(tmp_path: Path) -> None:
    config, port = _config_for(tmp_path)
    bot = BotProcess(config, port, BotProcess.environment(f"127.0.0.1:{free_port()}", TOKEN),
                     login_timeout=3)
    try:
        # /healthz answers while it tries. It serves before start-up queues the leader's
        # list of staff not yet bound, so wait for that one message to show as pending.
        waiting = await bot.wait_health(503, STARTUP, until=lambda body: body.get("outbox_pending") == 1)
        code = await bot.wait_exit(STARTUP)
    finally:
        bot.kill()
    assert waiting.body["status"] == "degraded"
    assert waiting.body["transport"] != "online"  # "stopped" until it starts to connect
    assert code == 2
    errors = _error_lines(bot.log())
    assert len(errors) == 1 and "unreachable" in errors[0], bot.log()


@pytest.mark.parametrize("missing", [
    ("WECHATY_PUPPET_SERVICE_TOKEN",),
    ("WECHATY_PUPPET_SERVICE_ENDPOINT",),
    ("WECHATY_PUPPET_SERVICE_TOKEN", "WECHATY_PUPPET_SERVICE_ENDPOINT"),
])
async def test_missing_environment_variable_is_one_line_and_exit_2(
        tmp_path: Path, missing: tuple[str, ...]) -> None:
    config, port = _config_for(tmp_path)
    env = BotProcess.environment(
        None if "WECHATY_PUPPET_SERVICE_ENDPOINT" in missing else "127.0.0.1:1",
        None if "WECHATY_PUPPET_SERVICE_TOKEN" in missing else TOKEN)
    bot = BotProcess(config, port, env)
    try:
        code = await bot.wait_exit(STARTUP)
    finally:
        bot.kill()
    output = bot.log().strip()
    assert code == 2
    assert len(output.splitlines()) == 1, output
    assert all(name in output for name in missing), output


async def test_gateway_restart_mid_run_loses_nothing_and_sends_nothing_twice(own_world: World) -> None:
    gw, bot = own_world.gateway, own_world.bot
    # Case #1 goes out at once; case #2, reported right after in the same room, is
    # held back by the per-room rate limit (3 s): the gateway dies while it waits.
    await gw.say("张大妈", DISPUTE, room=ROOM)
    await gw.wait_sent(lambda r: r["contact"] == "李警官" and "#1" in r["text"], SEND)
    await gw.wait_sent(lambda r: r["room"] == ROOM and "#1" in r["text"], SEND)
    await gw.say("王大爷", FRAUD, room=ROOM)

    async def held_back() -> bool:
        # At least case #2's room acknowledgement waits (its private notice may
        # already be out, depending on how many room messages case #1 needed).
        health = await bot.health()
        return health is not None and health.body["outbox_pending"] >= 1

    await poll(held_back, SEND, "case #2's messages to be queued")
    before_kill = await gw.sent()
    gw.kill()
    killed = time.monotonic()
    down = await bot.wait_health(503, 10)
    assert down.body["status"] == "degraded" and down.body["transport"] in ("offline", "connecting")
    assert down.body["outbox_pending"] >= 1

    gw.start()  # a fresh gateway process on the same port
    await bot.wait_health(200, 30)
    online = time.monotonic()

    async def delivered(*cases: int) -> bool:
        got = {(r["contact"] or r["room"], case_id(r["text"])) for r in await gw.sent()
               if "#" in r["text"]}
        return {(who, n) for who in ("李警官", ROOM) for n in cases} <= got

    await poll(lambda: delivered(2), SEND, "case #2's queued messages after the restart")
    queued_late = time.monotonic() - online
    await gw.say("张大妈", FIRE, room=ROOM)  # case #3, reported after the restart
    await poll(lambda: delivered(2, 3), 2 * SEND, "case #3's messages")
    print(f"\ngateway killed: online again after {online - killed:.1f}s; the messages queued "
          f"meanwhile went {queued_late:.1f}s after that")
    assert queued_late < 3  # at once, not after a retry backoff
    await quiet(bot)
    after_restart = await gw.sent()

    everything = [(r["room"], r["contact"], r["text"]) for r in before_kill + after_restart]
    assert len(set(everything)) == len(everything), everything  # nothing sent twice
    assert {case_id(r["text"]) for r in before_kill if "#" in r["text"]} == {1}  # (an urgent reply names no case)
    assert {case_id(r["text"]) for r in after_restart if "#" in r["text"]} == {2, 3}
    notices = [r["text"] for r in after_restart if r["contact"] == "李警官"]
    assert any(FRAUD in t for t in notices) and any(FIRE in t for t in notices)


async def test_sigterm_stops_the_bot_with_exit_0_within_seconds(own_world: World) -> None:
    code, took = await own_world.bot.terminate()
    print(f"\nSIGTERM: exit {code} after {took:.2f}s")
    assert code == 0 and took < 5
    assert "Traceback" not in own_world.bot.log()


# ---- back to the shared world: by now its guard-post reminder is due ------------------

async def test_guard_post_reminder_mentions_the_people_on_duty(live: World) -> None:
    gw, shift = live.gateway, live.shift
    due_in = (shift.reminder_at - datetime.now(TZ)).total_seconds()
    reminder = await gw.wait_sent(lambda r: r["room"] == GUARD_ROOM and SHIFT in r["text"],
                                  max(due_in, 0) + SEND)
    print(f"\nguard reminder due {shift.reminder_at:%H:%M:%S}, sent "
          f"{reminder['at'] / 1000 - shift.reminder_at.timestamp():+.2f}s from then")
    assert reminder["mentions"] == list(ON_DUTY)
    assert f"{shift.start:%H:%M}" in reminder["text"] and "到岗" in reminder["text"]
    assert reminder["at"] / 1000 >= shift.reminder_at.timestamp() - 1  # not early

    await gw.say("张老师", "到岗", room=GUARD_ROOM)
    ack = await gw.wait_sent(lambda r: after(reminder)(r) and r["room"] == GUARD_ROOM, SEND)
    assert "张老师" in ack["text"] or ack["mentions"] == ["张老师"], ack
