"""Send limits that keep a WeChat account from being throttled or banned.

WeChat throttles and bans accounts that send fast (wechaty #412; python-wechaty #133:
banned after ~500 sends a day), so the outbox asks this limiter before each send:
at most one message per `room_interval` to the same room or person, at most
`per_minute` in any 60 seconds overall, and a warning once a day when the day's count
reaches `warn_ratio` of `daily_cap`. Pure and clock-free: callers pass "now".

The state is rebuilt at start from the sends the outbox table records (`restore`):
a restart must not give the account a fresh minute's quota (it used to send 40 in
one minute across a restart with a cap of 20).
"""
from __future__ import annotations

from collections import deque
from datetime import date, datetime, timedelta


class RateLimiter:
    def __init__(self, room_interval_seconds: float, per_minute: int, daily_cap: int, warn_ratio: float):
        self.room_interval = timedelta(seconds=room_interval_seconds)
        self.per_minute = per_minute
        self.daily_cap = daily_cap
        self.warn_at = max(1, int(daily_cap * warn_ratio))
        self._last_by_target: dict[str, datetime] = {}
        self._recent: deque[datetime] = deque()
        self._day: date | None = None
        self.sent_today = 0

    @classmethod
    def unlimited(cls) -> "RateLimiter":
        """For the simulator: no account to protect, and transcripts keep exact times."""
        return cls(0, 10**9, 10**9, 1.0)

    def ready_at(self, target: str, now: datetime) -> datetime:
        """The earliest moment a message to `target` may go (now, if it may go now)."""
        self._forget_before(now - timedelta(minutes=1))
        moment = now
        last = self._last_by_target.get(target)
        if last is not None:
            moment = max(moment, last + self.room_interval)
        if len(self._recent) >= self.per_minute:
            moment = max(moment, self._recent[-self.per_minute] + timedelta(minutes=1))
        return moment

    def restore(self, sends: list[tuple[str, datetime]], now: datetime) -> None:
        """Take in earlier sends (target, time), as if recorded when they happened:
        the last per target, those of the last minute, and today's count."""
        for target, at in sorted(sends, key=lambda s: s[1]):
            if at > now:
                continue  # a clock set back: ignore what seems to come from the future
            last = self._last_by_target.get(target)
            self._last_by_target[target] = at if last is None else max(last, at)
            if at > now - timedelta(minutes=1):
                self._recent.append(at)
            if at.astimezone(now.tzinfo).date() == now.date():
                if self._day != now.date():
                    self._day, self.sent_today = now.date(), 0
                self.sent_today += 1
        self._forget_before(now - timedelta(minutes=1))

    def record(self, target: str, now: datetime) -> bool:
        """Count a send; True exactly once a day, when the count reaches the warning level."""
        self._last_by_target[target] = now
        self._recent.append(now)
        if self._day != now.date():
            self._day, self.sent_today = now.date(), 0
        self.sent_today += 1
        return self.sent_today == self.warn_at

    def _forget_before(self, cutoff: datetime) -> None:
        while self._recent and self._recent[0] <= cutoff:
            self._recent.popleft()
