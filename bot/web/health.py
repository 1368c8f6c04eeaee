"""`/healthz`: what a monitor (or an operator with curl) needs to know at a glance.

200 when WeChat is online and the database takes writes, 503 otherwise, with the
transport state, the number of messages waiting in the outbox and, when degraded, the
reason in words, so "the bot is quiet" can be told apart from "the bot is cut off and
40 messages are waiting" or "the disk is full and 12 reports wait in memory".
"""
from __future__ import annotations

from typing import Awaitable, Callable, Protocol

from aiohttp import web


class HealthSource(Protocol):
    @property
    def transport_state(self) -> str: ...

    async def outbox_pending(self) -> int: ...

    def storage_problem(self) -> str | None: ...

    def scheduler_state(self) -> dict: ...


HEALTH = web.AppKey("health", HealthSource)


async def healthz(request: web.Request) -> web.Response:
    source = request.app[HEALTH]
    state = source.transport_state
    storage = source.storage_problem()
    try:
        pending: int | None = await source.outbox_pending()
    except Exception as exc:  # noqa: BLE001 - a broken database must not break the health check
        pending, storage = None, storage or f"无法读取数据库：{exc}"
    healthy = state == "online" and storage is None
    body: dict = {"status": "ok" if healthy else "degraded", "transport": state, "storage": "ok" if storage is None else "failing", "outbox_pending": pending, "scheduler": source.scheduler_state()}
    if not healthy:
        reasons = ([] if state == "online" else [f"微信未连接（{state}）"]) + ([] if storage is None else [storage])
        body["reason"] = "；".join(reasons)
    return web.json_response(body, status=200 if healthy else 503, dumps=_dumps)


def _dumps(obj: object) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False)


def health_app(source: HealthSource) -> web.Application:
    app = web.Application()
    add_health(app, source)
    return app


def add_health(app: web.Application, source: HealthSource) -> None:
    app[HEALTH] = source
    app.router.add_get("/healthz", healthz)
