"""Login and logout. Only configured people ([[officers]]) with a password set by
`pingan set-password NAME` get in; failed attempts are limited per name and per
address, and every refusal reads the same, so a guess learns nothing about names."""
from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from aiohttp import web

from bot.web.deps import deps
from bot.web.keys import SESSION, SESSIONS, THROTTLE, TRUST_PROXY
from bot.web.passwords import MAX_LENGTH, verify_password
from bot.web.render import page, redirect
from bot.web.security import Viewer
from storage.passwords import get_hash

WRONG = "姓名或密码不正确。"
HOME = "/ledger"


def safe_next(target: str | None) -> str:
    """Only a path on this site: `next=//evil.example` or `next=https://…` goes home."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return HOME
    return target


def client_address(request: web.Request) -> str:
    """Who is knocking, for the per-address login limit. Behind a reverse proxy every
    request comes from the proxy; with `[web] trust_proxy` the address the proxy
    appended to X-Forwarded-For is used instead (only from a loopback peer: nobody
    else may claim to be the proxy)."""
    peer = request.remote or "unknown"
    if request.app.get(TRUST_PROXY) and peer in ("127.0.0.1", "::1"):
        forwarded = request.headers.get("X-Forwarded-For", "")
        last = forwarded.split(",")[-1].strip()
        if last:
            return last[:64]
    return peer


async def login_form(request: web.Request) -> web.StreamResponse:
    if request[SESSION].viewer is not None:
        return redirect(safe_next(request.query.get("next")))
    return _form(request)


def _form(request: web.Request, *, error: str | None = None, name: str = "", status: int = 200) -> web.Response:
    d = deps(request)
    return page(
        request,
        "login.html",
        status=status,
        title="登录",
        error=error,
        name=name,
        next=safe_next(request.query.get("next")),
        hint=d.login_hint,
    )


async def login(request: web.Request) -> web.StreamResponse:
    d = deps(request)
    form = await request.post()
    name = str(form.get("name", "")).strip()[:64]
    password = str(form.get("password", ""))[: MAX_LENGTH + 1]
    address = client_address(request)
    throttle = request.app[THROTTLE]
    keys = (f"name:{name}", f"addr:{address}")
    wait = throttle.wait_seconds(*keys)
    if wait > 0:
        minutes = int(wait // 60) + 1
        return _form(request, error=f"登录失败次数过多，请{minutes}分钟后再试。", name=name, status=429)
    officer = d.config.officer(name) if name else None
    stored = await d.db.read(lambda db: get_hash(db, name)) if officer else None
    # scrypt takes tens of milliseconds: off the event loop, so messages keep flowing.
    ok = await asyncio.get_running_loop().run_in_executor(None, verify_password, password, stored)
    if not ok or officer is None:
        throttle.failed(*keys)
        return _form(request, error=WRONG, name=name, status=401)
    throttle.succeeded(keys[0])
    request[SESSION] = request.app[SESSIONS].login(request[SESSION], Viewer(officer.name, officer.role, officer.station))
    return redirect(safe_next(str(form.get("next", "")) or None))


async def logout(request: web.Request) -> web.StreamResponse:
    request[SESSION] = request.app[SESSIONS].logout(request[SESSION])
    return redirect("/login")
