"""Who sees what: an officer and a leader their own station, an admin every station.

Every page and export asks here, and a case of another station is answered with a
refusal, not with its contents."""
from __future__ import annotations

import functools
from typing import Awaitable, Callable
from urllib.parse import quote

from aiohttp import web

from bot.config import Config
from bot.web.keys import SESSION
from bot.web.middleware import fail
from bot.web.render import redirect
from bot.web.security import Viewer


def visible_stations(viewer: Viewer, config: Config) -> tuple[str, ...]:
    if viewer.role == "admin":
        return tuple(s.id for s in config.stations)
    return (viewer.station,)


def may_see(viewer: Viewer, config: Config, station: str) -> bool:
    return station in visible_stations(viewer, config)


def viewer_of(request: web.Request) -> Viewer:
    viewer = request[SESSION].viewer
    assert viewer is not None, "route not wrapped in login_required"
    return viewer


Route = Callable[[web.Request], Awaitable[web.StreamResponse]]


def login_required(route: Route) -> Route:
    """People who are not logged in go to the login page (pages) or get 401 (downloads,
    scripts); after login they come back to where they were going."""

    @functools.wraps(route)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        if request[SESSION].viewer is None:
            if request.method == "GET" and not request.path.startswith("/api/"):
                return redirect("/login?next=" + quote(request.path_qs, safe=""))
            return fail(request, 401, "请先登录。")
        return await route(request)

    return wrapped
