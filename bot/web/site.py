"""The web application: health and metrics for monitors, the dashboard for
officers, and (in the demo only) the chat page. Built by the runtime, which
passes in what each part reads; nothing here knows a feature."""
from __future__ import annotations

from aiohttp import web

from bot.web import auth, case_page, ledger_pages, lexicon_page, stats_page
from bot.web.chat import ChatBackend, add_chat
from bot.web.deps import DASHBOARD, Dashboard
from bot.web.health import HealthSource, add_health
from bot.web.keys import SECURE_COOKIES, SESSIONS, THROTTLE, TRUST_PROXY
from bot.web.metrics_page import METRICS, MetricsSource, metrics
from bot.web.middleware import MIDDLEWARES
from bot.web.render import PAGE, STATIC, Renderer, redirect
from bot.web.security import LoginThrottle, Sessions


def build_site(
    dashboard: Dashboard,
    health: HealthSource,
    metrics_source: MetricsSource,
    *,
    chat: ChatBackend | None = None,
    sessions: Sessions | None = None,
    throttle: LoginThrottle | None = None,
    secure_cookies: bool = False,
    trust_proxy: bool = False,
) -> web.Application:
    app = web.Application(middlewares=MIDDLEWARES, client_max_size=256 * 1024)
    app[PAGE] = Renderer(dashboard.config.bot.tz, dashboard.config.bot.name)
    app[SESSIONS] = sessions or Sessions()
    app[THROTTLE] = throttle or LoginThrottle()
    app[SECURE_COOKIES] = secure_cookies
    app[TRUST_PROXY] = trust_proxy
    app[DASHBOARD] = dashboard
    app[METRICS] = metrics_source
    add_health(app, health)
    app.router.add_get("/metrics", metrics)
    app.router.add_get("/login", auth.login_form)
    app.router.add_post("/login", auth.login)
    app.router.add_post("/logout", auth.logout)
    app.router.add_get("/ledger", ledger_pages.ledger)
    app.router.add_get("/ledger/export.csv", ledger_pages.export_csv)
    app.router.add_get("/ledger/export.xlsx", ledger_pages.export_xlsx)
    app.router.add_get("/cases/{case_id}", case_page.case_view)
    app.router.add_get("/stats", stats_page.stats)
    app.router.add_get("/lexicon", lexicon_page.lexicon_form)
    app.router.add_post("/lexicon", lexicon_page.lexicon_try)
    app.router.add_static("/static/", STATIC, show_index=False, follow_symlinks=False)
    if chat is not None:
        add_chat(app, chat)
    else:
        app.router.add_get("/", _home)
    return app


async def _home(request: web.Request) -> web.Response:
    return redirect("/ledger")
