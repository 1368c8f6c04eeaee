"""Soak benchmark: a million messages through the whole pipeline (not a test: pytest
does not collect this file).

    python tests/bench_soak.py [--messages 1000000] [--db PATH]

Runs the bot as `pingan simulate` does (the real handlers, scheduler jobs, outbox and
SQLite storage in a file, the simulator transport, a virtual clock) and feeds it
messages across eight contact groups: mostly ordinary chat, one in twenty a report
(some urgent), an officer now and then claiming and closing cases. The virtual clock
moves 0.5 s per message, so escalation reminders fall due and fire as in real life.

Prints messages/s and the process's RSS after 10k, 100k and 1M messages (and at
every checkpoint below the total), and the RSS growth from 100k to the end.
Targets (issue 13): RSS growth <= 10% from 100k to 1M, >= 2,000 messages/s.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.config import load_config  # noqa: E402
from bot.events import Incoming  # noqa: E402
from bot.run.simulation import Simulation  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
COMMUNITIES = ["官园", "秀江", "下浦", "彩虹", "鼓楼", "明月", "化成", "湖田"]
ROOMS = [f"{c}社区警民联系群" for c in COMMUNITIES]
OFFICERS = [f"{c}警官" for c in ("李", "陈")]
CHAT = [
    "今天天气不错", "晚上一起跳广场舞吗", "快递放在门卫室了", "谁家的猫跑出来了", "明天停水的通知看到了吗",
    "菜市场今天的白菜好便宜", "小区电梯又在检修", "周末带孩子去公园玩", "物业费交了吗", "楼下新开了一家面馆",
    "哈哈哈笑死我了", "收到，谢谢", "[强][强]", "明早七点集合", "这个月电费有点高啊",
]
REPORTS = [
    "楼下两个人吵起来了，快打架了", "举报 小区门口天天有人占道摆摊", "刚才有人冒充公安打电话，让我把钱转到安全账户",
    "我家电动车昨晚被偷了", "十字路口红绿灯坏了，车都乱开", "孩子在小区走丢了，穿红衣服，谁看见了",
]
URGENT = ["三楼楼道里着火了，冒了好多烟", "有人拿刀在小区门口砍人了", "河边有个小孩掉水里了"]
CHECKPOINTS = (2_000, 10_000, 100_000, 200_000, 500_000, 1_000_000)


def config_text() -> str:
    groups = "".join(f"""
[[groups]]
room = "{room}"
community = "{c}社区"
station = "guanyuan"
officer = "{OFFICERS[i % 2]}"
""" for i, (room, c) in enumerate(zip(ROOMS, COMMUNITIES)))
    return f"""
[bot]
name = "平安助手"
timezone = "Asia/Shanghai"
database = "soak.db"
ack_in_group = true

[[stations]]
id = "guanyuan"
name = "官园派出所"
leader = "王所长"
officers_room = "官园派出所工作群"

[[officers]]
name = "李警官"
station = "guanyuan"

[[officers]]
name = "陈警官"
station = "guanyuan"

[[officers]]
name = "王所长"
station = "guanyuan"
role = "leader"
{groups}"""


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def message(i: int, at: datetime, last_case: int) -> Incoming:
    """The i-th message: chat, a report (1 in 20; 1 in 10 of those urgent) or, 1 in
    100, an officer's command on a recent case."""
    room = ROOMS[i % len(ROOMS)]
    sender = f"居民{i % 500:03d}"
    if i % 100 == 57 and last_case:
        officer = OFFICERS[i % 2]
        verb = ("认领", "办结 {} 已处置 已处理完毕", "详情", "待办")[(i // 100) % 4]
        text = (verb.format(last_case) if "{}" in verb else f"{verb} {last_case}") if verb != "待办" else "待办"
        return Incoming(id=f"soak-{i}", at=at, sender=officer, text=text)
    if i % 20 == 19:
        n = i // 20
        # A distinct place per report, so reports do not all merge into one case.
        base = URGENT[n % len(URGENT)] if n % 10 == 9 else REPORTS[n % len(REPORTS)]
        text = f"{base}（{n % 97}栋）"
    else:
        text = f"{CHAT[i % len(CHAT)]} {i % 1000}"
    return Incoming(id=f"soak-{i}", at=at, sender=sender, text=text, room=room)


async def soak(total: int, db_path: Path, config_dir: Path) -> list[tuple[int, float, float]]:
    config_path = config_dir / "pingan.toml"
    config_path.write_text(config_text(), encoding="utf-8")
    config = load_config(config_path)
    from nlp.classifier import Classifier

    detector = Classifier.load()
    start = datetime(2026, 3, 2, 8, 0, tzinfo=TZ)
    sim = Simulation(config, start, detector, db_path)
    await sim.start()
    app = sim.app
    assert app is not None
    rows: list[tuple[int, float, float]] = []
    step = timedelta(seconds=0.5)
    began = time.perf_counter()
    window_start, window_count = began, 0
    last_case = 0
    # As `pingan run` does: the outbox's own loop sends whenever something is queued.
    sender = asyncio.create_task(app.outbox.run_forever(), name="outbox")
    try:
        for i in range(total):
            at = start + step * i
            # Jobs due by now fire first (as Simulation.run_until, minus its drain: here
            # the outbox loop is the one sender, as in `pingan run`).
            while (due := app.scheduler.next_fire_time()) is not None and due <= at:
                sim.clock.advance_to(due)
                await app.scheduler.run_due(due)
            sim.clock.advance_to(at)
            await sim.transport.deliver(message(i, sim.clock.now(), last_case))
            window_count += 1
            if i % 20 == 19:
                last_case += 1  # roughly: a report a case (some merge; a wrong id is a one-line reply)
            if i % 10_000 == 9_999:
                sim.transport.sent.clear()  # the simulator's record of sends is the test's, not the bot's
            done = i + 1
            if done in CHECKPOINTS or done == total:
                gc.collect()
                now = time.perf_counter()
                rate = window_count / (now - window_start)
                rows.append((done, rate, rss_mb()))
                print(f"{done:>9,} messages  {rate:8,.0f} msg/s (since last line)  "
                      f"{done / (now - began):8,.0f} msg/s (overall)  RSS {rss_mb():7.1f} MB",
                      flush=True)
                window_start, window_count = time.perf_counter(), 0
    finally:
        sender.cancel()
        await asyncio.gather(sender, return_exceptions=True)
        await app.outbox.drain()
        sent = len(sim.transport.sent)
        await sim.stop()
    print(f"(sends since the last 10k: {sent})")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="database file (default: a temporary one)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="pingan-soak-") as tmp:
        db = args.db or Path(tmp) / "soak.db"
        began = time.perf_counter()
        rows = asyncio.run(soak(args.messages, db, Path(tmp)))
        elapsed = time.perf_counter() - began
        size = db.stat().st_size / 1e6 if db.exists() else float("nan")
    print(f"total: {args.messages:,} messages in {elapsed:,.0f} s = {args.messages / elapsed:,.0f} msg/s "
          f"(including start-up); database {size:.1f} MB")
    by_count = {n: rss for n, _, rss in rows}
    if 100_000 in by_count and rows[-1][0] > 100_000:
        base, end = by_count[100_000], rows[-1][2]
        print(f"RSS growth from 100k to {rows[-1][0]:,}: {(end - base) / base * 100:+.1f}% "
              f"({base:.1f} -> {end:.1f} MB) [target <= +10%]")
    overall = args.messages / elapsed
    print(f"throughput: {overall:,.0f} msg/s [target >= 2,000]")


if __name__ == "__main__":
    main()
