"""Typed keys of the web application and its requests (aiohttp's AppKey)."""
from __future__ import annotations

from aiohttp import web

from bot.web.security import LoginThrottle, Session, Sessions

SESSION = web.RequestKey("session", Session)  # the visitor's Session
SESSIONS = web.AppKey("sessions", Sessions)
THROTTLE = web.AppKey("login_throttle", LoginThrottle)
SECURE_COOKIES = web.AppKey("secure_cookies", bool)
TRUST_PROXY = web.AppKey("trust_proxy", bool)
