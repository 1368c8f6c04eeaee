"""What every request goes through: the session cookie, the CSRF check, security
headers, and errors turned into a one-line page (never a traceback)."""
from __future__ import annotations

import hmac
import logging
from typing import Awaitable, Callable

from aiohttp import web

from bot.web.keys import SECURE_COOKIES, SESSION, SESSIONS
from bot.web.render import error_page
from bot.web.security import COOKIE

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
UNSAFE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
# Scripts and styles only from this server (no inline script at all): an injected
# tag would not run even if some text escaped escaping.
CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"


def is_api(request: web.Request) -> bool:
    return request.path.startswith("/api/")


def fail(request: web.Request, status: int, message: str) -> web.Response:
    """A refusal in the form the caller reads: JSON for the page's scripts, a page for people."""
    if is_api(request) or request.path in ("/healthz", "/metrics"):
        return web.json_response({"error": message}, status=status, dumps=_dumps)
    return error_page(request, status, message)


def _dumps(obj: object) -> str:
    import json

    return json.dumps(obj, ensure_ascii=False)


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except web.HTTPNotFound:
        return fail(request, 404, "页面不存在。")
    except web.HTTPMethodNotAllowed:
        return fail(request, 405, "不支持这种请求方式。")
    except web.HTTPException:
        raise  # redirects and the like
    except Exception:  # noqa: BLE001 - the person gets one line, the log the details
        log.exception("网页请求出错：%s %s", request.method, request.path)
        return fail(request, 500, "服务器出错了，请稍后再试；如反复出现请联系管理员。")


# Monitors and assets need no session: a scrape every 15 s must not make one each time.
SESSIONLESS = ("/healthz", "/metrics", "/static/")


@web.middleware
async def sessions(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.path.startswith(SESSIONLESS):
        return await handler(request)
    store = request.app[SESSIONS]
    cookie = request.cookies.get(COOKIE)
    session = store.get(cookie) or store.new()
    request[SESSION] = session
    response = await handler(request)
    current = request[SESSION]  # login and logout replace it
    if current.id != cookie and not response.prepared:
        response.set_cookie(COOKIE, current.id, httponly=True, samesite="Strict", path="/", secure=request.app.get(SECURE_COOKIES, False))
    return response


@web.middleware
async def csrf(request: web.Request, handler: Handler) -> web.StreamResponse:
    if request.method in UNSAFE_METHODS and SESSION in request:
        sent = request.headers.get(CSRF_HEADER)
        if sent is None and request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
            form = await request.post()  # cached by aiohttp: the handler reads it again
            value = form.get(CSRF_FIELD)
            sent = value if isinstance(value, str) else None
        expected = request[SESSION].csrf
        if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
            return fail(request, 403, "页面已过期或请求来源不明，请刷新页面后重试。")
    return await handler(request)


@web.middleware
async def headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    response = await handler(request)
    if not response.prepared:  # a WebSocket or a stream has sent its headers already
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        if request.path not in ("/healthz", "/metrics") and not request.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")  # pages carry case data
    return response


# Outermost first: error pages still get the session cookie and the headers.
MIDDLEWARES = [headers, sessions, errors, csrf]
