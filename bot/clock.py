"""Clocks: everything asks a clock for "now", so tests and `pingan simulate` can run
weeks of schedule in seconds on a virtual one."""
from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Protocol


class Clock(Protocol):
    tz: tzinfo

    def now(self) -> datetime:
        """The current time, timezone-aware, in the bot's timezone."""
        ...


class RealClock:
    def __init__(self, tz: tzinfo):
        self.tz = tz

    def now(self) -> datetime:
        return datetime.now(self.tz)


class VirtualClock:
    """A clock that only moves when told to; it never goes backwards."""

    def __init__(self, start: datetime):
        if start.tzinfo is None:
            raise ValueError("VirtualClock needs a timezone-aware start time")
        self.tz = start.tzinfo
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance_to(self, moment: datetime) -> None:
        if moment > self._now:
            self._now = moment.astimezone(self.tz)
