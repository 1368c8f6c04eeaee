"""`pingan run`: the bot in real WeChat groups, through a Wechaty puppet service."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from aiohttp import web

from bot.run.app import App
from bot.clock import RealClock
from bot.config import Config, WechatyConnection
from bot.dedup import Deduplicator
from bot.rate_limit import RateLimiter
from bot.run.web import live_site
from bot.feature import DetectorLike
from storage.db import DatabaseProblem
from storage.lock import RunLock
from storage.marker import check_database_present, write_marker

log = logging.getLogger(__name__)


async def _update_marker(app: App) -> None:
    """Record beside the database that it holds cases (see storage.marker)."""
    try:
        cases, last = await app.db.read(lambda d: d.execute("select count(*), coalesce(max(id), 0) from cases").fetchone())
        write_marker(app.db.path, cases, last, app.clock.now())
    except Exception as exc:  # noqa: BLE001 - the marker is a safeguard, never a reason to stop
        log.warning("无法写入数据库标记文件：%s", exc)


async def run_live(config: Config, connection: WechatyConnection, detector: DetectorLike, *, login_timeout: float = 60.0, new_database: bool = False) -> int:
    """Run until SIGINT/SIGTERM; returns the process exit code. Raises DatabaseProblem
    (one line naming the file) when the database is damaged or missing with a history."""
    lock = RunLock(config.bot.database)
    lock.acquire()
    try:
        return await _run_locked(config, connection, detector, login_timeout, new_database)
    finally:
        lock.release()


async def _run_locked(config: Config, connection: WechatyConnection, detector: DetectorLike, login_timeout: float, new_database: bool) -> int:
    from bot.transports.wechaty import TransportStartError, WechatyTransport

    check_database_present(config.bot.database, new_database)

    clock = RealClock(config.bot.tz)
    transport = WechatyTransport(connection.endpoint, connection.token, config.bot.name, clock.now, login_timeout,
                                 watch_topics=config.known_rooms)
    limits = config.outbox
    app = App(
        config,
        clock,
        transport,
        detector,
        dedup=Deduplicator(),
        limiter=RateLimiter(limits.room_interval_seconds, limits.per_minute, limits.daily_cap, limits.daily_warn_ratio),
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)

    # /healthz answers from the start (503 while logging in) and reads the outbox
    # table: create the schema before the first request can come. (App.start opens
    # the database again; applying no migrations is cheap.)
    try:
        await app.db.open()
    except DatabaseProblem:
        await app.db.close()
        raise
    await _update_marker(app)
    runner = web.AppRunner(live_site(app, config, detector), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, config.web.host, config.web.port)
    await site.start()
    log.warning("值班台：http://%s:%d/ （健康检查 /healthz，指标 /metrics）", config.web.host, config.web.port)
    try:
        try:
            await app.start()
        except TransportStartError as exc:
            log.error("无法登录微信：%s", exc)
            return 2
        log.warning("已登录微信，%s 开始值守 %d 个群", config.bot.name, len(config.known_rooms))
        work = asyncio.create_task(app.run_forever())
        stopper = asyncio.create_task(stop.wait())
        await asyncio.wait({work, stopper}, return_when=asyncio.FIRST_COMPLETED)
        stopper.cancel()
        if work.done():
            work.result()  # a crash of the loops surfaces here
        log.warning("收到停止信号，正在退出")
        return 0
    finally:
        await _update_marker(app)
        with contextlib.suppress(Exception):
            await app.stop()
        await runner.cleanup()
