"""`pingan demo`: the bot on the simulator with the bundled sample config, a chat page
to talk to it and the officers' dashboard, on one local address.

Everything lives in a temporary database that is gone when the demo stops; the
configured officers get the password DEMO_PASSWORD so the dashboard can be tried.
"""
from __future__ import annotations

import asyncio
import signal
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Callable

from aiohttp import web

from bot.config import Config
from bot.feature import DetectorLike
from bot.run.demo.backend import DemoBackend, Sample
from bot.run.simulation import Simulation
from bot.web.deps import Dashboard
from bot.web.metrics_page import MetricsSource
from bot.web.passwords import hash_password
from bot.web.site import build_site
from handlers.cases.wording import EVENT_LABELS
from storage.passwords import set_hash

DEMO_PASSWORD = "demo1234"


def demo_start(config: Config) -> datetime:
    """A Monday morning in term time: reports, escalations and the evening guard post
    all happen within the day."""
    return datetime(2026, 3, 2, 9, 0, tzinfo=config.bot.tz)


def samples(config: Config) -> list[Sample]:
    """One-click first messages: each shows a different path through the bot."""
    first_group = config.groups[0]
    other_group = config.groups[1] if len(config.groups) > 1 else first_group
    out = [
        Sample("dispute", "邻里纠纷", "张大妈", first_group.room, "楼下两个人吵起来了，快打架了"),
        Sample("fire", "火情", "周女士", other_group.room, "3栋楼道里着火了，好多烟，有人被困在楼上"),
        Sample("scam", "诈骗电话", "吴先生", first_group.room, "刚接到自称公安局的电话，说我涉嫌洗钱，让我把钱转到安全账户"),
    ]
    for school in config.schools:
        for shift in school.shifts:
            names = [n for day in shift.roster.values() for n in day]
            if names:
                out.append(Sample("checkin", "护学岗到岗", names[0], school.room, "到岗"))
                return out
    return out


def build_demo_site(sim: Simulation, config: Config, detector: DetectorLike) -> tuple[web.Application, DemoBackend]:
    app = sim.app
    assert app is not None, "start the simulation first"
    backend = DemoBackend(sim, config, samples(config))
    names = "、".join(o.name for o in config.officers)
    dashboard = Dashboard(
        config=config,
        db=app.db,
        detector=detector,
        clock=sim.clock,
        event_labels=EVENT_LABELS,
        login_hint=f"演示账号：{names}，密码都是 {DEMO_PASSWORD}",
    )
    site = build_site(dashboard, app, MetricsSource(app.metrics, app.db), chat=backend)
    return site, backend


async def start_demo_simulation(config: Config, detector: DetectorLike, db_path: Path) -> Simulation:
    """The simulation at the demo's start, with work missed before it (the Sunday duty
    table) done, so the clock control's "next event" lies ahead."""
    start = demo_start(config)
    sim = Simulation(config, start, detector, db_path)
    await sim.start()
    await sim.run_until(start)
    return sim


async def set_demo_passwords(sim: Simulation, config: Config) -> None:
    hashed = {o.name: hash_password(DEMO_PASSWORD) for o in config.officers}
    now = sim.clock.now()

    def store(db) -> None:
        for name, value in hashed.items():
            set_hash(db, name, value, now)

    assert sim.app is not None
    await sim.app.db.write(store)


async def serve_demo(config: Config, detector: DetectorLike, host: str, port: int, say: Callable[[str], None]) -> None:
    """Serve until SIGINT/SIGTERM. Raises OSError when the port cannot be bound."""
    with tempfile.TemporaryDirectory(prefix="pingan-demo-") as tmp:
        sim = await start_demo_simulation(config, detector, Path(tmp) / "demo.db")
        runner: web.AppRunner | None = None
        try:
            await set_demo_passwords(sim, config)
            site_app, _ = build_demo_site(sim, config, detector)
            runner = web.AppRunner(site_app, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, host, port)
            await site.start()
            bound = runner.addresses[0][1] if runner.addresses else port
            shown = f"[{host}]" if ":" in host else host
            say(f"平安群助手演示已启动：http://{shown}:{bound}/")
            say(f"值班台：http://{shown}:{bound}/ledger （演示账号为示例配置中的民警，密码 {DEMO_PASSWORD}）")
            say("按 Ctrl+C 结束演示（演示数据不会保存）。")
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            await stop.wait()
        finally:
            if runner is not None:
                await runner.cleanup()
            await sim.stop()
