"""Urgent-lane benchmark against the real Wechaty peer (not a test: pytest does not
collect this file).

    python tests/bench_urgent_burst.py [--messages 2000] [--rate 100]

Starts the Node puppet-service gateway and `pingan run` (default send limits: 3 s per
room, 20 a minute), then sends a burst of messages across three groups at `rate` a
second, one in twenty a report (one report in ten urgent: fire or knife), one in
twenty an @-mention of the bot (each answered in the group: ordinary messages that
the room interval and the minute's quota hold back), and one fire report just after
the burst. Prints how long each urgent report took to get its
110/119/120 reply at the gateway (p50, p99, max), how many ordinary messages waited in
the outbox meanwhile, and whether any reply was missing or went twice. Needs `npm ci --prefix tests/e2e`.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

from tests.e2e.bot_process import BOT, ROOM, URGENT_ROOM, BotProcess, GuardShift, gateway_fixture, write_config  # noqa: E402
from tests.e2e.gateway import PuppetGateway, free_port  # noqa: E402

TOKEN = "pingan-bench-token"
THIRD_ROOM = "下浦社区警民联系群"
ROOMS = (ROOM, URGENT_ROOM, THIRD_ROOM)
THIRD_GROUP = f"""
[[groups]]
room = "{THIRD_ROOM}"
community = "下浦社区"
station = "guanyuan"
officer = "陈警官"
"""
RESIDENTS = [f"居民{i:02d}" for i in range(40)]
CHAT = ["今天天气不错", "晚上一起跳广场舞吗", "快递放在门卫室了", "谁家的猫跑出来了", "明天停水的通知看到了吗"]
REPORTS = ["楼下两个人吵起来了，快打架了", "举报 小区门口天天有人占道摆摊", "刚才有人冒充公安打电话，让我把钱转到安全账户"]
URGENT = ["三楼楼道里着火了，冒了好多烟", "有人拿刀在小区门口砍人了"]


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def burst(gateway: PuppetGateway, bot: BotProcess, messages: int, rate: float) -> dict:
    urgent: list[tuple[float, str, str]] = []  # (sent at, room, sender)
    start = time.time()
    for i in range(messages):
        await asyncio.sleep(max(0.0, start + i / rate - time.time()))
        room = ROOMS[i % len(ROOMS)]
        sender = RESIDENTS[i % len(RESIDENTS)]
        if i % 20 == 9:
            await gateway.say(sender, f"@{BOT}\u2005在吗 {i}", room=room, mentions=[BOT])
            continue
        if i % 20 == 19:
            n = i // 20
            if n % 10 == 9:
                text = URGENT[n % 2] + f"（第{n}次）"
                urgent.append((time.time(), room, sender))
            else:
                text = REPORTS[n % len(REPORTS)] + f"（第{n}次）"
        else:
            text = CHAT[i % len(CHAT)] + f" {i}"
        await gateway.say(sender, text, room=room)
    sent_rate = messages / (time.time() - start)
    pending = (await bot.health()).body.get("outbox_pending")
    # A fire report just after the burst, with the outbox full of ordinary messages.
    urgent.append((time.time(), ROOM, "居民99"))
    await gateway.say("居民99", "二楼厨房着火了，有人被困在里面", room=ROOM)

    latencies = []
    for said, room, sender in urgent:
        def reply(r: dict, said=said, room=room, sender=sender) -> bool:
            return r["room"] == room and r["mentions"] == [sender] and r["at"] / 1000 >= said and any(n in r["text"] for n in ("110", "119", "120"))

        record = await gateway.wait_sent(reply, timeout=120)
        latencies.append(record["at"] / 1000 - said)
    sent = await gateway.sent()
    # Each case's acknowledgement and notice name the case (and the notice quotes the
    # numbered report): the same text twice is a message sent twice.
    keyed = [(r["room"], r["contact"], r["text"]) for r in sent if "已登记为#" in r["text"] or "【新警情】" in r["text"]]
    replies = sum(1 for r in sent if any(mark in r["text"] for mark in ("情况紧急，请立即拨打", "发生火情请立即拨打", "有人受伤请立即拨打")))
    return {"rate": sent_rate, "pending": pending, "latencies": latencies, "urgent_reports": len(urgent),
            "urgent_replies": replies, "duplicates": len(keyed) - len(set(keyed))}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=2000)
    parser.add_argument("--rate", type=float, default=100.0)
    args = parser.parse_args()
    fixture = gateway_fixture()
    fixture["rooms"].append({"topic": THIRD_ROOM, "members": ["陈警官"]})
    for room in fixture["rooms"]:
        room["members"] += RESIDENTS + ["居民99"]
    gateway = PuppetGateway(fixture, TOKEN)
    gateway.start()
    with tempfile.TemporaryDirectory(prefix="pingan-bench-") as tmp:
        port = free_port()
        config = write_config(Path(tmp), GuardShift.reminding_after(timedelta(hours=2)), port)
        config.write_text(config.read_text(encoding="utf-8") + THIRD_GROUP, encoding="utf-8")
        bot = BotProcess(config, port, BotProcess.environment(gateway.endpoint, TOKEN))
        try:
            await bot.wait_health(200, 60)
            result = await burst(gateway, bot, args.messages, args.rate)
        finally:
            bot.kill()
            gateway.close()
    lat = result["latencies"]
    print(f"burst: {args.messages} messages at {result['rate']:.0f}/s across {len(ROOMS)} groups; "
          f"{result['pending']} messages waiting in the outbox at its end")
    print(f"urgent replies ({len(lat)}): p50 {statistics.median(lat):.2f} s, p99 {percentile(lat, 99):.2f} s, "
          f"max {max(lat):.2f} s (from the resident's message to the reply at the gateway)")
    print(f"urgent reports {result['urgent_reports']}, emergency replies {result['urgent_replies']}; "
          f"acknowledgements and notices sent twice: {result['duplicates']}")


if __name__ == "__main__":
    asyncio.run(main())
