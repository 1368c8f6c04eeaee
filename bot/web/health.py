"""`/healthz`: what a monitor (or an operator with curl) needs to know at a glance.

200 when WeChat is online, 503 otherwise, with the transport state and the number of
messages waiting in the outbox, so "the bot is quiet" can be told apart from "the bot
is cut off and 40 messages are waiting".
"""
from __future__ import annotations

from typing import Awaitable, Callable, Protocol

from aiohttp import web


class HealthSource(Protocol):
    @property
    def transport_state(self) -> str: ...

    async def outbox_pending(self) -> int: ...


HEALTH = web.AppKey("health", HealthSource)


async def healthz(request: web.Request) -> web.Response:
    source = request.app[HEALTH]
    state = source.transport_state
    body = {"status": "ok" if state == "online" else "degraded", "transport": state, "outbox_pending": await source.outbox_pending()}
    return web.json_response(body, status=200 if state == "online" else 503, dumps=_dumps)


def _dumps(obj: object) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False)


def health_app(source: HealthSource) -> web.Application:
    app = web.Application()
    app[HEALTH] = source
    app.router.add_get("/healthz", healthz)
    return app
