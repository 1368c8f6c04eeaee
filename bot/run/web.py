"""The web site of a live bot (`pingan run`): /healthz, /metrics and the dashboard,
wired to the running App. Only the runtime knows the features, so it hands the web
core what it shows in their words (the case event labels)."""
from __future__ import annotations

from aiohttp import web

from bot.config import Config
from bot.feature import DetectorLike
from bot.run.app import App
from bot.web.deps import Dashboard
from bot.web.metrics_page import MetricsSource
from bot.web.site import build_site
from handlers.cases.wording import EVENT_LABELS


def live_site(app: App, config: Config, detector: DetectorLike) -> web.Application:
    dashboard = Dashboard(config=config, db=app.db, detector=detector, clock=app.clock, event_labels=EVENT_LABELS)
    return build_site(dashboard, app, MetricsSource(app.metrics, app.db), secure_cookies=config.web.secure_cookies, trust_proxy=config.web.trust_proxy)
