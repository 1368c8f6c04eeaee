"""`/metrics` (Prometheus text) and `/healthz` as the demo serves them."""
from __future__ import annotations

import re

from bot.metrics import Metrics
from bot.web.metrics_page import render

GROUP = "官园社区警民联系群1"


def value(text: str, sample: str) -> float:
    found = re.search(rf"^{re.escape(sample)} (\S+)$", text, re.M)
    assert found, sample
    return float(found.group(1))


async def test_metrics_count_messages_verdicts_cases_and_urgent_latency(web):
    await web.backend.say("刘阿姨", GROUP, "今天菜市场的青菜好便宜")
    await web.backend.say("张大妈", GROUP, "楼下两个人吵起来了，快打架了")
    await web.backend.say("周女士", "秀江社区警民联系群", "有人拿刀在小区门口砍人了！")
    response = await web.client.get("/metrics")
    assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = await response.text()
    assert value(text, "pingan_messages_received_total") == 3
    assert value(text, "pingan_messages_flagged_total") == 2
    assert value(text, "pingan_messages_suspected_total") == 0
    assert value(text, 'pingan_cases{state="待认领"}') == 2
    assert value(text, "pingan_outbox_pending") == 0
    assert value(text, "pingan_send_failures_total") == 0
    assert value(text, "pingan_urgent_reply_seconds_count") == 1
    assert value(text, 'pingan_urgent_reply_seconds_bucket{le="+Inf"}') == 1
    assert "# TYPE pingan_urgent_reply_seconds histogram" in text


def test_the_text_format_escapes_labels_and_buckets_add_up():
    from datetime import datetime, timedelta, timezone

    from bot.events import Outgoing

    m = Metrics()
    at = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    reply = Outgoing(text="请立即拨打110", room="群", urgent=True)
    m.urgent_queued(reply, received=at)
    m.sent(Outgoing(text="普通消息", room="群"), at)
    m.sent(reply, at + timedelta(seconds=0.3))
    text = render(m, 4, [('待"认领"\\', 2)])
    assert 'pingan_cases{state="待\\"认领\\"\\\\"} 2' in text
    assert value(text, 'pingan_urgent_reply_seconds_bucket{le="0.25"}') == 0
    assert value(text, 'pingan_urgent_reply_seconds_bucket{le="0.5"}') == 1
    assert abs(value(text, "pingan_urgent_reply_seconds_sum") - 0.3) < 1e-9
    assert value(text, "pingan_outbox_pending") == 4


async def test_healthz_names_transport_database_scheduler_and_outbox(web):
    body = await (await web.client.get("/healthz")).json()
    assert body["status"] == "ok" and body["transport"] == "online" and body["storage"] == "ok"
    assert body["outbox_pending"] == 0
    assert body["scheduler"]["jobs"] >= 1 and body["scheduler"]["next_run"].startswith("2026-03-02T21:15")
