"""The durable, rate-limited outbox: nothing lost, nothing sent twice, limits held."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from bot.clock import VirtualClock
from bot.events import Outgoing
from bot.outbox import Outbox
from bot.rate_limit import RateLimiter
from bot.transports.base import TransportError, UndeliverableError
from storage.db import Database

CST = timezone(timedelta(hours=8))
START = datetime(2026, 3, 2, 9, 0, tzinfo=CST)


class RecordingTransport:
    """Records sends with the virtual time; can be told to fail."""

    def __init__(self, clock: VirtualClock):
        self.clock = clock
        self.sent: list[tuple[datetime, Outgoing]] = []
        self.down = False
        self.missing_rooms: set[str] = set()
        self.unknown_rooms: set[str] = set()  # not found now, might be later
        self.state = "online"

    async def start(self, on_message) -> None: ...

    async def stop(self) -> None: ...

    async def send(self, message: Outgoing) -> None:
        if self.down:
            self.state = "offline"
            raise TransportError("连接中断")
        self.state = "online"
        if message.room in self.unknown_rooms:
            raise TransportError(f"暂时找不到群：{message.room}")
        if message.file and message.file.endswith("gone.png"):
            raise FileNotFoundError(message.file)
        if message.room in self.missing_rooms:
            raise UndeliverableError(f"找不到群：{message.room}")
        self.sent.append((self.clock.now(), message))


async def drive(outbox: Outbox, clock: VirtualClock, limit: int = 100_000) -> None:
    """What run_forever does, on the virtual clock: drain, then wait until the next
    message may go."""
    for _ in range(limit):
        ready = await outbox.drain()
        if ready is None:
            return
        clock.advance_to(ready)
    raise AssertionError("outbox never emptied")


async def make(tmp_path, limiter=None):
    clock = VirtualClock(START)
    db = Database(tmp_path / "outbox.db")
    await db.open()
    transport = RecordingTransport(clock)
    return clock, db, transport, Outbox(db, transport, clock, limiter)


async def test_burst_of_500_holds_the_room_and_overall_limits(tmp_path):
    clock, db, transport, outbox = await make(tmp_path, RateLimiter(3, 20, 400, 0.8))
    rooms = [f"群{i}" for i in range(5)]
    for i in range(500):
        await outbox.put(Outgoing(text=f"消息{i}", room=rooms[i % 5]))
    await drive(outbox, clock)
    await db.close()

    assert sorted(int(m.text[2:]) for _, m in transport.sent) == list(range(500))
    times = [t for t, _ in transport.sent]
    for i, t in enumerate(times):  # any 60-second window holds at most 20 sends
        assert sum(1 for u in times[i : i + 21] if u - t < timedelta(minutes=1)) <= 20
    for room in rooms:
        room_times = [t for t, m in transport.sent if m.room == room]
        assert all(b - a >= timedelta(seconds=3) for a, b in zip(room_times, room_times[1:]))
        # and messages to one room keep their order
        numbers = [int(m.text[2:]) for _, m in transport.sent if m.room == room]
        assert numbers == sorted(numbers)
    # 500 messages at 20 a minute take 25 minutes, not more.
    assert times[-1] - times[0] <= timedelta(minutes=25)


async def test_urgent_messages_jump_the_queue(tmp_path):
    clock, db, transport, outbox = await make(tmp_path, RateLimiter(3, 20, 400, 0.8))
    for i in range(30):
        await outbox.put(Outgoing(text=f"普通{i}", contact=f"民警{i}"))
    await outbox.put(Outgoing(text="请立即拨打110", room="群A", urgent=True))
    await drive(outbox, clock)
    await db.close()
    assert transport.sent[0][1].text == "请立即拨打110"


async def test_crash_between_write_and_send_sends_once_after_restart(tmp_path):
    clock, db, transport, outbox = await make(tmp_path)
    await outbox.put(Outgoing(text="通知一", contact="李警官", key="case:1:notice"))
    await outbox.put(Outgoing(text="通知二", contact="李警官"))
    await db.close()  # the process dies before anything was sent

    db2 = Database(tmp_path / "outbox.db")
    await db2.open()
    outbox2 = Outbox(db2, transport, clock)
    await drive(outbox2, clock)
    await drive(outbox2, clock)
    # A job that runs again after the restart queues its keyed message once only.
    assert await outbox2.put(Outgoing(text="通知一", contact="李警官", key="case:1:notice")) is False
    await drive(outbox2, clock)
    await db2.close()
    assert [m.text for _, m in transport.sent] == ["通知一", "通知二"]


async def test_transport_down_keeps_messages_until_it_is_back(tmp_path):
    clock, db, transport, outbox = await make(tmp_path)
    transport.down = True
    await outbox.put(Outgoing(text="等一等", room="群A"))
    retry_at = await outbox.drain()
    assert transport.sent == [] and retry_at is not None and retry_at > clock.now()
    transport.down = False
    clock.advance_to(retry_at)
    await drive(outbox, clock)
    await db.close()
    assert [m.text for _, m in transport.sent] == ["等一等"]


async def test_undeliverable_message_is_given_up_and_does_not_block_others(tmp_path):
    clock, db, transport, outbox = await make(tmp_path)
    transport.missing_rooms.add("改了名的群")
    await outbox.put(Outgoing(text="发不出去", room="改了名的群"))
    await outbox.put(Outgoing(text="图表", room="群B", file="/tmp/gone.png"))
    await outbox.put(Outgoing(text="照常发送", room="群A"))
    await drive(outbox, clock)
    failed = await db.read(lambda d: [r["failed"] for r in d["outbox"].rows if r["failed"]])
    await db.close()
    assert [m.text for _, m in transport.sent] == ["照常发送"]
    assert failed == ["找不到群：改了名的群", "/tmp/gone.png"]


def test_daily_warning_fires_once_at_the_threshold():
    limiter = RateLimiter(0, 10**6, 10, 0.8)
    warnings = [limiter.record("room:a", START + timedelta(seconds=i)) for i in range(12)]
    assert warnings.count(True) == 1 and warnings.index(True) == 7  # the 8th of a cap of 10
    # a new day starts a new count
    assert [limiter.record("room:a", START + timedelta(days=1, seconds=i)) for i in range(8)][-1] is True


async def test_a_room_not_found_is_retried_with_backoff_without_holding_up_others(tmp_path):
    from bot.outbox import MAX_ATTEMPTS

    clock, db, transport, outbox = await make(tmp_path)
    transport.unknown_rooms.add("新建的群")
    await outbox.put(Outgoing(text="先发这条", room="新建的群"))
    await outbox.put(Outgoing(text="其他群照常", room="群A"))
    first_retry = await outbox.drain()
    assert [m.text for _, m in transport.sent] == ["其他群照常"]
    assert first_retry == START + timedelta(seconds=5)
    # The bot is added to the room later: the next retry delivers it.
    transport.unknown_rooms.clear()
    clock.advance_to(first_retry)
    await drive(outbox, clock)
    assert [m.text for _, m in transport.sent] == ["其他群照常", "先发这条"]
    # A room that never appears is given up after MAX_ATTEMPTS tries.
    transport.unknown_rooms.add("永远没有的群")
    await outbox.put(Outgoing(text="发不出", room="永远没有的群"))
    await drive(outbox, clock)
    row = await db.read(lambda d: list(d.query("select attempts, failed from outbox where text = '发不出'"))[0])
    await db.close()
    assert row["attempts"] == MAX_ATTEMPTS and row["failed"]


async def test_two_drains_at_once_send_and_record_each_message_once(tmp_path):
    """A scheduler job and the send loop may drain together: each message goes once,
    is recorded once, and neither drain fails."""
    clock, db, transport, outbox = await make(tmp_path)
    for i in range(5):
        await outbox.put(Outgoing(text=f"第{i}条", contact=f"居民{i}", key=f"k{i}"))
    results = await asyncio.gather(outbox.drain(), outbox.drain(), return_exceptions=True)
    assert not any(isinstance(r, Exception) for r in results), results
    assert sorted(m.text for _, m in transport.sent) == [f"第{i}条" for i in range(5)]
    rows = await db.read(lambda d: list(d.query("select count(*) as n, count(sent_at) as sent from outbox")))
    assert rows == [{"n": 5, "sent": 5}]
    await db.close()


async def test_the_live_loop_stops_when_cancelled_just_as_a_message_is_queued(tmp_path):
    # On Python 3.11 asyncio.wait_for lost a cancellation that arrived just as the
    # wakeup was set (the start-up notice being queued as SIGTERM came): the loop
    # went on and `pingan run` never exited (seen in CI).
    _, db, _, outbox = await make(tmp_path)
    loop = asyncio.create_task(outbox.run_forever())
    for _ in range(100_000):  # until the loop waits for a wakeup (its drain reads the database)
        if outbox._wakeup._waiters:
            break
        await asyncio.sleep(0)
    assert outbox._wakeup._waiters
    outbox.wake()
    await asyncio.sleep(0)  # that wait is over; the loop has not resumed yet
    loop.cancel()
    done, _ = await asyncio.wait({loop}, timeout=5)  # a bound on failure, not a measure
    assert done and loop.cancelled()
    await db.close()
