"""`/metrics` in the Prometheus text format (version 0.0.4).

Counters come from the running bot's Metrics (messages in, verdicts, send failures,
urgent-reply latency); gauges that the database knows (outbox depth, cases by state)
are read at scrape time, so they are right after a restart too.
"""
from __future__ import annotations

from dataclasses import dataclass

import sqlite_utils
from aiohttp import web

from bot.metrics import Metrics
from bot.web.deps import Store
from storage.outbox import unsent_count


@dataclass(frozen=True)
class MetricsSource:
    metrics: Metrics
    db: Store


METRICS = web.AppKey("metrics_source", MetricsSource)


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _gauges(db: sqlite_utils.Database) -> tuple[int, list[tuple[str, int]]]:
    states = [(row[0], row[1]) for row in db.execute("select status, count(*) from cases group by status order by status")]
    return unsent_count(db), states


def render(m: Metrics, outbox_depth: int, states: list[tuple[str, int]]) -> str:
    lines: list[str] = []

    def metric(name: str, kind: str, help_text: str, samples: list[tuple[str, float]]) -> None:
        lines.append(f"# HELP {name} {help_text}")
        lines.append(f"# TYPE {name} {kind}")
        lines.extend(f"{name}{labels} {value:g}" if isinstance(value, float) else f"{name}{labels} {value}" for labels, value in samples)

    metric("pingan_messages_received_total", "counter", "Messages from configured rooms and private chats that reached the bot.", [("", m.messages_in)])
    metric("pingan_messages_flagged_total", "counter", "Residents' messages the detector flagged (lexicon or urgent signal).", [("", m.flagged)])
    metric("pingan_messages_suspected_total", "counter", "Residents' messages only the learned model suspected (待核实).", [("", m.suspected)])
    metric("pingan_cases", "gauge", "Cases in the database by state.", [(f'{{state="{_label(s)}"}}', n) for s, n in states])
    metric("pingan_outbox_pending", "gauge", "Messages queued in the outbox and not yet sent.", [("", outbox_depth)])
    metric("pingan_send_failures_total", "counter", "Sends the transport refused (each failed attempt, and each message given up).", [("", m.send_failures)])
    h = m.urgent_latency
    samples: list[tuple[str, float]] = []
    cumulative = 0
    for bound, count in zip(h.buckets, h.counts):
        cumulative += count
        samples.append((f'_bucket{{le="{bound:g}"}}', cumulative))
    samples.append(('_bucket{le="+Inf"}', h.count))
    samples.append(("_sum", float(h.total)))
    samples.append(("_count", h.count))
    lines.append("# HELP pingan_urgent_reply_seconds Seconds from a resident's urgent message to the 110/119/120 reply leaving the bot.")
    lines.append("# TYPE pingan_urgent_reply_seconds histogram")
    for suffix, value in samples:
        lines.append(f"pingan_urgent_reply_seconds{suffix} {value:g}" if isinstance(value, float) else f"pingan_urgent_reply_seconds{suffix} {value}")
    return "\n".join(lines) + "\n"


async def metrics(request: web.Request) -> web.Response:
    source = request.app[METRICS]
    depth, states = await source.db.read(_gauges)
    body = render(source.metrics, depth, states).encode("utf-8")
    return web.Response(body=body, headers={"Content-Type": "text/plain; version=0.0.4; charset=utf-8"})
