"""HTML pages from jinja2 templates, escaped by default.

Autoescape is on for every template, so a resident's `<script>` in a report, a
room name or a keyword reaches the browser as text. Templates never use `|safe`
on anything that came from outside; the charts (bot/web/charts.py) build their
SVG with escaped text and are marked safe there.
"""
from __future__ import annotations

from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

import jinja2
from aiohttp import web

from bot.web.keys import SESSION

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
PAGE = web.AppKey("page_renderer", "Renderer")


class Renderer:
    def __init__(self, tz: tzinfo, site_name: str):
        self.tz = tz
        self.site_name = site_name
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            autoescape=True,
            undefined=jinja2.StrictUndefined,  # a missing value is a bug, not a blank
            trim_blocks=True,
            lstrip_blocks=True,
        )
        self.env.filters["local"] = self.local

    def local(self, moment: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
        if moment is None or moment == "":
            return ""
        if isinstance(moment, str):
            moment = datetime.fromisoformat(moment)
        if moment.tzinfo is not None:
            moment = moment.astimezone(self.tz)
        return moment.strftime(fmt)

    def page(self, request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
        session = request.get(SESSION)
        body = self.env.get_template(template).render(
            site_name=self.site_name,
            viewer=session.viewer if session else None,
            csrf_token=session.csrf if session else "",
            path=request.path,
            **context,
        )
        return web.Response(text=body, status=status, content_type="text/html", charset="utf-8")


def page(request: web.Request, template: str, *, status: int = 200, **context: Any) -> web.Response:
    return request.app[PAGE].page(request, template, status=status, **context)


def error_page(request: web.Request, status: int, message: str) -> web.Response:
    return page(request, "error.html", status=status, message=message, title={403: "无权访问", 404: "未找到"}.get(status, "出错了"))


def redirect(location: str) -> web.Response:
    """303 See Other, returned (not raised) so that middlewares still add the cookie."""
    return web.Response(status=303, headers={"Location": location})
