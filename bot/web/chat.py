"""The demo's chat page: a WeChat-like window onto the simulator.

The page shows the rooms and private chats on the left and the conversation on the
right; a person picked from the configured cast types, the bot's replies arrive
over a WebSocket, and a clock control jumps the virtual clock so that reminders,
escalations, follow-ups and the briefing happen while one watches.

Only the demo serves this page (`pingan demo`): it speaks for anyone, which is the
point of a demo and the opposite of what a real deployment wants. The runtime
(bot/run/demo) implements `ChatBackend` over its Simulation.
"""
from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any, Awaitable, Callable, Protocol

from aiohttp import WSMsgType, web

from bot.web.render import page

log = logging.getLogger(__name__)
MAX_TEXT = 2000  # what a person types into the demo in one message
JUMPS = ("next", "hour", "day", "month")

Listener = Callable[[dict], None]


class ChatError(Exception):
    """Bad input from the page, in one line for the person (unknown room, empty text)."""


class ChatBackend(Protocol):
    def snapshot(self) -> dict[str, Any]:
        """Everything the page shows: rooms, people, samples, clock and the messages so far."""
        ...

    async def say(self, sender: str, room: str | None, text: str) -> None: ...

    async def jump(self, how: str) -> None: ...

    async def sample(self, sample_id: str) -> None: ...

    async def picture(self, sender: str, room: str | None) -> None:
        """A photo from `sender`: shown in the chat, never read by the bot."""
        ...

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with each new event (a message, the clock); returns unsubscribe."""
        ...

    def file_path(self, entry_id: int) -> Path | None:
        """The file the bot sent with message `entry_id`, if any."""
        ...


CHAT = web.AppKey("chat_backend", ChatBackend)


async def chat_page(request: web.Request) -> web.Response:
    return page(request, "chat.html", title="演示")


async def state(request: web.Request) -> web.Response:
    return _json(request.app[CHAT].snapshot())


async def _body(request: web.Request) -> dict:
    try:
        data = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError, ValueError):
        raise ChatError("请求格式不对（应为 JSON）。") from None
    if not isinstance(data, dict):
        raise ChatError("请求格式不对（应为 JSON 对象）。")
    return data


async def _act(request: web.Request, action: Callable[[dict], Awaitable[None]]) -> web.Response:
    try:
        await action(await _body(request))
    except ChatError as exc:
        return _json({"error": str(exc)}, status=400)
    return _json({"ok": True})


async def say(request: web.Request) -> web.Response:
    backend = request.app[CHAT]

    async def act(data: dict) -> None:
        sender, room = _who(data)
        text = data.get("text")
        if not isinstance(text, str) or not text.strip():
            raise ChatError("消息不能为空。")
        if len(text) > MAX_TEXT:
            raise ChatError(f"消息太长（{len(text)}字），演示页最多{MAX_TEXT}字。")
        await backend.say(sender, room, text)

    return await _act(request, act)


def _who(data: dict) -> tuple[str, str | None]:
    sender, room = data.get("sender"), data.get("room")
    if not isinstance(sender, str) or not sender.strip():
        raise ChatError("请先选择“我是谁”。")
    if room is not None and not isinstance(room, str):
        raise ChatError("群名不对。")
    return sender.strip(), room


async def picture(request: web.Request) -> web.Response:
    backend = request.app[CHAT]

    async def act(data: dict) -> None:
        await backend.picture(*_who(data))

    return await _act(request, act)


async def jump(request: web.Request) -> web.Response:
    backend = request.app[CHAT]

    async def act(data: dict) -> None:
        how = data.get("to")
        if how not in JUMPS:
            raise ChatError("不认识的时间跳转：应为 next、hour、day 或 month。")
        await backend.jump(how)

    return await _act(request, act)


async def sample(request: web.Request) -> web.Response:
    backend = request.app[CHAT]

    async def act(data: dict) -> None:
        sample_id = data.get("id")
        if not isinstance(sample_id, str):
            raise ChatError("不认识的示例。")
        await backend.sample(sample_id)

    return await _act(request, act)


async def stream(request: web.Request) -> web.StreamResponse:
    """Live events over a WebSocket. Same origin only: the cookie-less WebSocket
    handshake is not covered by SameSite, so the Origin header is checked instead."""
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"{request.scheme}://{request.host}":
        return _json({"error": "不允许跨站连接。"}, status=403)
    ws = web.WebSocketResponse(heartbeat=30)
    await ws.prepare(request)
    queue: asyncio.Queue[dict] = asyncio.Queue(maxsize=1000)

    def listener(event: dict) -> None:
        if queue.full():  # a stalled page: it reloads the state when it comes back
            return
        queue.put_nowait(event)

    unsubscribe = request.app[CHAT].subscribe(listener)
    reader = asyncio.create_task(_drain_incoming(ws))
    try:
        while not ws.closed:
            getter = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait({getter, reader}, return_when=asyncio.FIRST_COMPLETED)
            if getter not in done:
                getter.cancel()
                break
            await ws.send_str(json.dumps(getter.result(), ensure_ascii=False))
    except (ConnectionResetError, RuntimeError):
        pass  # the page went away
    finally:
        unsubscribe()
        reader.cancel()
        await ws.close()
    return ws


async def _drain_incoming(ws: web.WebSocketResponse) -> None:
    """The page sends nothing over the socket; reading notices when it closes."""
    async for msg in ws:
        if msg.type == WSMsgType.ERROR:
            break


async def sent_file(request: web.Request) -> web.StreamResponse:
    try:
        entry_id = int(request.match_info["entry_id"])
    except ValueError:
        raise web.HTTPNotFound() from None
    path = request.app[CHAT].file_path(entry_id)
    if path is None or not path.is_file():
        raise web.HTTPNotFound()
    return web.FileResponse(path, headers={"Content-Disposition": "inline" if path.suffix.lower() in (".png", ".jpg", ".jpeg", ".gif") else "attachment"})


def _json(data: object, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=lambda o: json.dumps(o, ensure_ascii=False))


def add_chat(app: web.Application, backend: ChatBackend) -> None:
    app[CHAT] = backend
    app.router.add_get("/", chat_page)
    app.router.add_get("/api/chat/state", state)
    app.router.add_post("/api/chat/say", say)
    app.router.add_post("/api/chat/jump", jump)
    app.router.add_post("/api/chat/sample", sample)
    app.router.add_post("/api/chat/picture", picture)
    app.router.add_get("/api/chat/stream", stream)
    app.router.add_get("/api/chat/files/{entry_id}", sent_file)
