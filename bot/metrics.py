"""Counters for `/metrics` (Prometheus text), kept by the pipeline and the outbox.

One `Metrics` object per App, passed explicitly to whoever counts: nothing is
registered at import time, so two Apps in one process (tests, the demo) never
share numbers. Gauges that the database knows (outbox depth, cases by state) are
read at scrape time instead of kept here.
"""
from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass, field
from datetime import datetime

from bot.events import Outgoing
from bot.feature import DetectorLike
from nlp.detection import Detection

# Seconds from a resident's message to its 110/119/120 reply leaving: the README
# promises p99 well under a second, so the buckets are fine below it.
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Urgent replies whose origin is remembered until they are sent; more means a stuck
# transport, and the oldest are forgotten rather than kept forever.
MAX_WAITING_URGENT = 1000


@dataclass
class Histogram:
    buckets: tuple[float, ...] = LATENCY_BUCKETS
    counts: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    total: float = 0.0
    count: int = 0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self.buckets, value)] += 1
        self.total += value
        self.count += 1


@dataclass
class Metrics:
    messages_in: int = 0
    flagged: int = 0
    suspected: int = 0
    send_failures: int = 0
    urgent_latency: Histogram = field(default_factory=Histogram)
    _urgent_origin: dict[tuple, datetime] = field(default_factory=dict)

    def message_in(self) -> None:
        self.messages_in += 1

    def detection(self, found: Detection) -> None:
        if found.suspected:
            self.suspected += 1
        elif found.flagged:
            self.flagged += 1

    def send_failed(self) -> None:
        self.send_failures += 1

    def urgent_queued(self, msg: Outgoing, received: datetime) -> None:
        """An urgent reply to a message the bot received at `received` (its clock) is
        on its way. On a virtual clock the latency is virtual too: 0 in simulations."""
        if len(self._urgent_origin) >= MAX_WAITING_URGENT:
            self._urgent_origin.pop(next(iter(self._urgent_origin)))
        self._urgent_origin.setdefault(_identity(msg), received)

    def sent(self, msg: Outgoing, now: datetime) -> None:
        """A message left through the transport at `now`; an urgent one ends its latency."""
        if not msg.urgent:
            return
        origin = self._urgent_origin.pop(_identity(msg), None)
        if origin is not None:
            self.urgent_latency.observe(max(0.0, (now - origin).total_seconds()))


def _identity(msg: Outgoing) -> tuple:
    # Not the key: a message read back from the outbox table has a generated one.
    return (msg.room, msg.contact, msg.text)


class CountingDetector:
    """The detector as the pipeline sees it, counting verdicts on residents' messages.
    The lexicon tester in the dashboard gets the plain detector: its tries are not
    messages."""

    def __init__(self, detector: DetectorLike, metrics: Metrics):
        self.detector = detector
        self.metrics = metrics

    def detect(self, text: str) -> Detection:
        found = self.detector.detect(text)
        self.metrics.detection(found)
        return found
