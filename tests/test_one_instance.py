"""One `pingan run` per database, and send limits that survive a restart.

The two-instance test uses real processes against the real gateway: the second bot
is refused with one line while the first keeps answering (once) and the other
commands keep working beside it.
"""
from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path

import pytest

from bot.clock import VirtualClock
from bot.events import Outgoing
from bot.outbox import Outbox
from bot.rate_limit import RateLimiter
from tests.cli_process import cli_env, run_cli
from tests.e2e_bot import ROOM, BotProcess, GuardShift, write_config
from storage.db import Database, DatabaseProblem
from storage.lock import RunLock
from tests.test_outbox import START, RecordingTransport, drive
from tests.wechaty_server import PuppetGateway, free_port

TOKEN = "pingan-lock-token"
STARTUP = 40.0
SEND = 15.0


def test_the_lock_is_exclusive_and_released(tmp_path):
    db_path = tmp_path / "pingan.db"
    first = RunLock(db_path)
    first.acquire()
    with pytest.raises(DatabaseProblem, match="已由另一个 pingan run 使用"):
        RunLock(db_path).acquire()  # another open file description: refused like another process
    first.release()
    again = RunLock(db_path)
    again.acquire()
    again.release()


async def test_a_second_run_on_the_same_database_exits_and_the_first_carries_on(tmp_path: Path):
    gateway = PuppetGateway({"self": "平安助手", "contacts": ["李警官"], "rooms": [{"topic": ROOM, "members": ["张大妈", "李警官"]}]}, TOKEN)
    gateway.start()
    env = BotProcess.environment(gateway.endpoint, TOKEN)
    port = free_port()
    config = write_config(tmp_path, GuardShift.reminding_after(timedelta(hours=1)), port)
    first = BotProcess(config, port, env)
    try:
        await first.wait_health(200, STARTUP)
        # The same config with another /healthz port: the case that used to knock both off.
        other = tmp_path / "other.toml"
        text = config.read_text(encoding="utf-8")
        other.write_text(text.replace(f"port = {port}", f"port = {free_port()}"), encoding="utf-8")
        second = await asyncio.to_thread(run_cli, "run", "-c", str(other), "--login-timeout", "10", cwd=tmp_path, env=env)
        assert second.code == 2 and "Traceback" not in second.stderr
        line = second.stderr.strip()
        assert "\n" not in line and "已由另一个 pingan run 使用" in line and "pingan.db" in line

        # The first bot is still online and answers a report once.
        assert (await first.health()).status == 200
        await gateway.say("张大妈", "举报 小区门口天天有人占道摆摊", room=ROOM)
        await gateway.wait_sent(lambda r: r["contact"] == "李警官", SEND)
        await gateway.wait_sent(lambda r: r["room"] == ROOM, SEND)

        # The other commands work beside the running bot.
        exported = await asyncio.to_thread(run_cli, "export", "-c", str(config), "--format", "csv", cwd=tmp_path, env=cli_env())
        assert exported.code == 0 and "小区门口" in exported.stdout
        checked = await asyncio.to_thread(run_cli, "check-config", "-c", str(config), cwd=tmp_path, env=cli_env())
        assert checked.code == 0
        notices = [r for r in await gateway.sent() if r["contact"] == "李警官"]
        assert len(notices) == 1
    finally:
        first.kill()
        gateway.close()


async def test_send_limits_hold_across_a_restart(tmp_path):
    clock = VirtualClock(START)
    db = Database(tmp_path / "outbox.db")
    await db.open()
    transport = RecordingTransport(clock)
    outbox = Outbox(db, transport, clock, RateLimiter(3, 20, 400, 0.8))
    for i in range(20):
        await outbox.put(Outgoing(text=f"第一批{i}", contact=f"民警{i}"))
    await drive(outbox, clock)
    assert all(at == START for at, _ in transport.sent)  # the minute's whole quota, at once
    await db.close()

    # Restarted ten seconds later, with a fresh limiter: it learns the last minute.
    clock.advance_to(START + timedelta(seconds=10))
    db = Database(tmp_path / "outbox.db")
    await db.open()
    limiter = RateLimiter(3, 20, 400, 0.8)
    restarted = Outbox(db, transport, clock, limiter)
    assert await restarted.restore_limits() == 20
    assert limiter.sent_today == 20
    assert limiter.ready_at("contact:民警0", clock.now()) == START + timedelta(minutes=1)
    for i in range(5):
        await restarted.put(Outgoing(text=f"第二批{i}", contact=f"民警{i}"))
    await drive(restarted, clock)
    second = [at for at, m in transport.sent if m.text.startswith("第二批")]
    assert min(second) >= START + timedelta(minutes=1)
    await db.close()


async def test_app_restores_the_limits_on_start(tmp_path, config, detector):
    from bot.run.app import App
    from bot.transports.simulator import SimulatorTransport

    clock = VirtualClock(START)
    transport = SimulatorTransport(clock, config.known_rooms)
    app = App(config, clock, transport, detector, db_path=tmp_path / "p.db", limiter=RateLimiter(3, 20, 400, 0.8))
    await app.start()
    for i in range(20):
        await app.outbox.put(Outgoing(text=f"通知{i}", contact=f"民警{i}"))
    await app.outbox.drain()
    await app.stop()
    again = App(config, clock, transport, detector, db_path=tmp_path / "p.db", limiter=RateLimiter(3, 20, 400, 0.8))
    await again.start()
    await again.outbox.put(Outgoing(text="重启后的第一条", contact="民警X"))
    assert await again.outbox.drain() == START + timedelta(minutes=1)
    assert transport.sent[-1].message.text == "通知19"
    await again.stop()
