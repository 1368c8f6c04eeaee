"""Sessions, CSRF tokens and the login throttle of the dashboard.

Sessions live in memory: a restart logs everyone out, which a police dashboard can
afford, and nothing secret is ever written to disk. Every visitor gets a session
(anonymous until login) so that even the login form carries a CSRF token; logging
in replaces the session id, so an id planted before login is worth nothing after.
"""
from __future__ import annotations

import secrets
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable

COOKIE = "pingan_session"
IDLE_SECONDS = 8 * 3600  # one shift
# Anonymous sessions are cheap to make; past this the least recently used go first.
MAX_SESSIONS = 5000


@dataclass(frozen=True)
class Viewer:
    """A logged-in person, as configured in [[officers]]."""

    name: str
    role: str  # officer | leader | admin
    station: str


@dataclass
class Session:
    id: str
    csrf: str
    seen: float
    viewer: Viewer | None = None


def _token() -> str:
    return secrets.token_urlsafe(32)


class Sessions:
    def __init__(self, clock: Callable[[], float] = time.monotonic, idle_seconds: float = IDLE_SECONDS, limit: int = MAX_SESSIONS):
        self.clock = clock
        self.idle_seconds = idle_seconds
        self.limit = limit
        self._by_id: OrderedDict[str, Session] = OrderedDict()

    def get(self, session_id: str | None) -> Session | None:
        if not session_id:
            return None
        found = self._by_id.get(session_id)
        if found is None:
            return None
        now = self.clock()
        if now - found.seen > self.idle_seconds:
            del self._by_id[session_id]
            return None
        found.seen = now
        self._by_id.move_to_end(session_id)
        return found

    def new(self, viewer: Viewer | None = None) -> Session:
        while len(self._by_id) >= self.limit:
            # Anonymous sessions go first: a flood of visits must not log officers out.
            anonymous = next((sid for sid, s in self._by_id.items() if s.viewer is None), None)
            if anonymous is None:
                self._by_id.popitem(last=False)
            else:
                del self._by_id[anonymous]
        session = Session(_token(), _token(), self.clock(), viewer)
        self._by_id[session.id] = session
        return session

    def login(self, old: Session, viewer: Viewer) -> Session:
        """A fresh id and CSRF token for the logged-in session (no fixation)."""
        self._by_id.pop(old.id, None)
        return self.new(viewer)

    def logout(self, session: Session) -> Session:
        self._by_id.pop(session.id, None)
        return self.new()

    def __len__(self) -> int:
        return len(self._by_id)


@dataclass
class LoginThrottle:
    """At most `limit` failed logins per name and `address_limit` per address
    (keys "name:…" and "addr:…") in `window` seconds; then that key waits until its
    oldest failure leaves the window. An address gets more tries than a name: an
    office behind one NAT (or a proxy) shares one, and one person's typos must not
    lock out the whole station."""

    limit: int = 5
    address_limit: int = 20
    window: float = 15 * 60
    clock: Callable[[], float] = time.monotonic
    _failures: dict[str, list[float]] = field(default_factory=dict)

    def _limit(self, key: str) -> int:
        return self.address_limit if key.startswith("addr:") else self.limit

    def wait_seconds(self, *keys: str) -> float:
        now = self.clock()
        wait = 0.0
        for key in keys:
            recent = [t for t in self._failures.get(key, []) if now - t < self.window]
            if recent:
                self._failures[key] = recent
            else:
                self._failures.pop(key, None)
            if len(recent) >= self._limit(key):
                wait = max(wait, recent[0] + self.window - now)
        return wait

    def failed(self, *keys: str) -> None:
        now = self.clock()
        if len(self._failures) > 100_000:  # a flood of names: forget, rather than grow forever
            self._failures.clear()
        for key in keys:
            self._failures.setdefault(key, []).append(now)

    def succeeded(self, name_key: str) -> None:
        self._failures.pop(name_key, None)
