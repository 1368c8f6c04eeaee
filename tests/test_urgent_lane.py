"""The urgent lane: 110/119/120 replies are never queued behind other messages.

Everything runs on the virtual clock: "not delayed" means sent at the very moment it
was queued, while the limiter would have held an ordinary message for seconds.
"""
from __future__ import annotations

import sqlite3
from datetime import timedelta

import pytest

from bot.clock import VirtualClock
from bot.events import Outgoing
from bot.outbox import Outbox
from bot.rate_limit import RateLimiter
from tests.storage_faults import FullDatabase
from tests.test_outbox import START, RecordingTransport, drive

FIRE_REPLY = "发生火情请立即拨打119！请先撤离到安全地带。"


def account_limits() -> RateLimiter:
    return RateLimiter(3, 20, 400, 0.8)  # the defaults of [outbox]


async def make(tmp_path, limiter: RateLimiter | None = None):
    clock = VirtualClock(START)
    db = FullDatabase(tmp_path / "urgent.db")
    await db.open()
    transport = RecordingTransport(clock)
    return clock, db, transport, Outbox(db, transport, clock, limiter)


async def run_for(outbox: Outbox, clock: VirtualClock, seconds: float) -> None:
    """What the live loop does for `seconds` of virtual time."""
    until = clock.now() + timedelta(seconds=seconds)
    while True:
        ready = await outbox.drain()
        if ready is None or ready > until:
            clock.advance_to(until)
            return
        clock.advance_to(ready)


async def test_urgent_reply_in_a_burst_goes_first_and_is_not_held_by_the_limits(tmp_path):
    limiter = account_limits()
    clock, db, transport, outbox = await make(tmp_path, limiter)
    rooms = [f"群{i}" for i in range(5)]
    for i in range(300):  # officer notices and acks of a busy morning
        await outbox.put(Outgoing(text=f"普通{i}", room=rooms[i % 5]))
    await run_for(outbox, clock, 40)
    sent_before = len(transport.sent)
    assert sent_before == 20  # the minute's quota is used up: ordinary messages wait
    now = clock.now()
    # Both limits would hold an ordinary message to 群0 for a while yet.
    assert limiter.ready_at("room:群0", now) - now >= timedelta(seconds=15)

    await outbox.put(Outgoing(text=FIRE_REPLY, room="群0", mentions=("张大妈",), urgent=True))
    await outbox.drain()
    at, first = transport.sent[sent_before]
    assert first.text == FIRE_REPLY and at == now  # not one virtual second later
    await db.close()


async def test_urgent_reply_jumps_a_drain_pass_in_progress(tmp_path):
    clock, db, transport, outbox = await make(tmp_path)  # no limits: a pass sends all
    for i in range(10):
        await outbox.put(Outgoing(text=f"普通{i}", contact=f"民警{i}"))
    real_send = transport.send

    async def send_and_meanwhile_a_fire(message: Outgoing) -> None:
        await real_send(message)
        if message.text == "普通2":  # a fire report arrives while the pass is sending
            await outbox.put(Outgoing(text=FIRE_REPLY, room="群A", urgent=True))

    transport.send = send_and_meanwhile_a_fire  # type: ignore[method-assign]
    await drive(outbox, clock)
    texts = [m.text for _, m in transport.sent]
    assert texts[:4] == ["普通0", "普通1", "普通2", FIRE_REPLY]
    assert sorted(texts) == sorted([f"普通{i}" for i in range(10)] + [FIRE_REPLY])
    await db.close()


async def test_messages_are_sent_from_memory_when_the_database_is_full(tmp_path):
    clock, db, transport, outbox = await make(tmp_path, account_limits())
    db.full = True
    assert await outbox.put(Outgoing(text="民警通知", room="群A")) is True
    assert await outbox.put(Outgoing(text=FIRE_REPLY, room="群A", urgent=True)) is True
    assert outbox.memory_count == 2
    await drive(outbox, clock)
    # The urgent reply first and at once; the ordinary one within the room interval.
    assert [(at - START, m.text) for at, m in transport.sent] == [(timedelta(0), FIRE_REPLY), (timedelta(seconds=3), "民警通知")]
    assert await db.read(lambda d: d.execute("select count(*) from outbox").fetchone()[0]) == 0

    # Space comes back: the table records both as sent, and nothing goes twice.
    db.full = False
    await outbox.drain()
    assert outbox.memory_count == 0
    rows = await db.read(lambda d: list(d.query("select text, sent_at from outbox order by id")))
    assert [(r["text"], r["sent_at"]) for r in rows] == [(FIRE_REPLY, START.isoformat()), ("民警通知", (START + timedelta(seconds=3)).isoformat())]
    await drive(outbox, clock)
    assert len(transport.sent) == 2
    await db.close()


async def test_memory_lane_is_bounded_and_keeps_the_oldest(tmp_path):
    from bot.outbox import MEMORY_LANE_LIMIT

    clock, db, transport, outbox = await make(tmp_path)
    db.full = True
    for i in range(MEMORY_LANE_LIMIT):
        await outbox.put(Outgoing(text=f"消息{i}", contact="李警官"))
    with pytest.raises(sqlite3.OperationalError):  # the caller keeps this work itself
        await outbox.put(Outgoing(text="多出的一条", contact="李警官"))
    await drive(outbox, clock)
    assert [m.text for _, m in transport.sent] == [f"消息{i}" for i in range(MEMORY_LANE_LIMIT)]
    await db.close()


async def test_a_keyed_message_in_memory_is_not_queued_twice(tmp_path):
    clock, db, transport, outbox = await make(tmp_path)
    db.full = True
    assert await outbox.put(Outgoing(text="通知", contact="李警官", key="case:1:notice")) is True
    assert await outbox.put(Outgoing(text="通知", contact="李警官", key="case:1:notice")) is False
    await drive(outbox, clock)
    db.full = False
    await drive(outbox, clock)
    assert await outbox.put(Outgoing(text="通知", contact="李警官", key="case:1:notice")) is False
    await drive(outbox, clock)
    assert [m.text for _, m in transport.sent] == ["通知"]
    await db.close()


async def test_urgent_reply_in_memory_waits_for_the_connection(tmp_path):
    clock, db, transport, outbox = await make(tmp_path)
    db.full = True
    transport.down = True
    await outbox.put(Outgoing(text=FIRE_REPLY, room="群A", urgent=True))
    retry_at = await outbox.drain()
    assert transport.sent == [] and retry_at == START + timedelta(seconds=5)
    transport.down = False
    clock.advance_to(retry_at)
    await outbox.drain()
    assert [(at, m.text) for at, m in transport.sent] == [(retry_at, FIRE_REPLY)]
    await db.close()


async def test_urgent_messages_still_count_against_the_minute(tmp_path):
    """They bypass the limits, but the account's quota still sees them: ordinary
    messages after a burst of urgent ones wait for the minute to pass."""
    limiter = account_limits()
    clock, db, transport, outbox = await make(tmp_path, limiter)
    for i in range(20):
        await outbox.put(Outgoing(text=f"紧急{i}", room=f"群{i}", urgent=True))
    await outbox.put(Outgoing(text="普通", room="群X"))
    await drive(outbox, clock)
    times = {m.text: at for at, m in transport.sent}
    assert all(times[f"紧急{i}"] == START for i in range(20))
    assert times["普通"] == START + timedelta(minutes=1)
    await db.close()
