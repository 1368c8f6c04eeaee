"""Messages are cut to a bounded size where they enter the bot, so one 5 MB paste
costs a moment, not memory that stays."""
from __future__ import annotations

import gc
import tracemalloc
from datetime import datetime, timedelta, timezone

from bot.run.app import App
from bot.clock import VirtualClock
from bot.dedup import Deduplicator
from bot.events import MAX_TEXT_CHARS, TRUNCATION_MARK, Incoming, bounded_text
from bot.transports.simulator import SimulatorTransport
from tests.test_wechaty_transport import connected, gateway  # noqa: F401 - fixtures: the real gateway

CST = timezone(timedelta(hours=8))
START = datetime(2026, 3, 2, 9, 0, tzinfo=CST)
ROOM = "官园社区警民联系群1"
FIVE_MB = 5 * 1024 * 1024


def test_bounded_text_cuts_and_marks():
    assert bounded_text("短消息") == "短消息"
    exact = "打" * MAX_TEXT_CHARS
    assert bounded_text(exact) is exact
    cut = bounded_text("打" * (MAX_TEXT_CHARS + 1))
    assert cut == "打" * MAX_TEXT_CHARS + TRUNCATION_MARK


async def test_a_5_mb_message_from_the_real_gateway_arrives_cut(connected, gateway):  # noqa: F811
    transport, inbox = connected
    text = "举报 楼下两个人吵起来了，快打架了。" + "哈" * (FIVE_MB // 3)  # about 5 MB as UTF-8
    assert len(text.encode("utf-8")) >= FIVE_MB
    message_id = await gateway.say("张大妈", text, room=ROOM)
    incoming = await inbox.wait_for(lambda m: m.id == message_id, timeout=60)
    assert len(incoming.text) == MAX_TEXT_CHARS + len(TRUNCATION_MARK)
    assert incoming.text.startswith("举报 楼下两个人吵起来了") and incoming.text.endswith(TRUNCATION_MARK)


async def test_a_5_mb_message_leaves_no_memory_behind(tmp_path, config, detector):
    """Through the whole pipeline (dedup, detector, an explicit report stored as a
    case): what stays afterwards is bounded by the cut, not by the message."""
    clock = VirtualClock(START)
    transport = SimulatorTransport(clock, config.known_rooms)
    app = App(config, clock, transport, detector, db_path=tmp_path / "p.db", dedup=Deduplicator())
    await app.start()

    async def deliver(i: int, text: str) -> None:
        await transport.deliver(Incoming(id=f"m{i}", at=clock.now(), sender="张大妈", text=text, room=ROOM))
        await app.outbox.drain()

    await deliver(0, "举报 热身：先让缓存和连接都建立起来")
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    await deliver(1, "举报 楼下两个人吵起来了" + "哈" * FIVE_MB)  # a 5-million-character paste
    await deliver(2, "哈" * FIVE_MB)  # and one of ordinary chat
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert retained < 1_000_000, f"{retained} bytes retained"
    stored = await app.db.read(lambda d: d.execute("select max(length(text)) from case_messages").fetchone()[0])
    assert stored <= MAX_TEXT_CHARS + len(TRUNCATION_MARK)
    await app.stop()


async def test_handlers_never_see_more_than_the_bound(config):
    from bot.run.pipeline import Pipeline

    seen: list[Incoming] = []

    class Recorder:
        def matches(self, msg: Incoming) -> bool:
            return True

        async def handle(self, msg: Incoming) -> None:
            seen.append(msg)

    pipeline = Pipeline(config, [Recorder()])
    await pipeline.handle(Incoming(id="m1", at=START, sender="张大妈", text="哈" * FIVE_MB, room=ROOM))
    assert len(seen[0].text) == MAX_TEXT_CHARS + len(TRUNCATION_MARK)


def test_the_dedup_window_keeps_digests_not_texts():
    dedup = Deduplicator()
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for i in range(100):  # a hundred long (already cut) messages inside the window
        text = f"{i}" + "哈" * MAX_TEXT_CHARS
        assert not dedup.is_duplicate(Incoming(id=f"m{i}", at=START + timedelta(seconds=i), sender="张大妈", text=text, room=ROOM))
        del text
    gc.collect()
    retained = tracemalloc.get_traced_memory()[0] - before
    tracemalloc.stop()
    assert retained < 200_000, f"{retained} bytes for 100 entries"
    # Still a dedup: the same long text again is caught.
    assert dedup.is_duplicate(Incoming(id="again", at=START + timedelta(seconds=101), sender="张大妈", text="5" + "哈" * MAX_TEXT_CHARS, room=ROOM))
