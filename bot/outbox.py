"""The durable outbound queue.

Every outgoing message is written to the `outbox` table before it is handed to the
transport and marked sent afterwards, so a crash between the two sends it on the next
start instead of losing it; a message `key` is unique, so a job that runs twice (a
restart mid-reminder) queues its message once.

Urgent messages (110/119/120 replies) have a lane of their own: they go before
everything else, the rate limits never hold them back (they are rare, and a fire
report cannot wait for the minute's quota), a drain pass in progress stops to let
them through. When the database cannot be written, messages are sent from memory
(urgent ones at once) and recorded in the table once it can.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Awaitable, Callable

import sqlite_utils

from bot.clock import Clock
from bot.events import Outgoing
from bot.metrics import Metrics
from bot.rate_limit import RateLimiter
from bot.transports.base import Transport, TransportError, UndeliverableError
from storage import outbox as outbox_store
from storage.db import Database, is_storage_failure

log = logging.getLogger(__name__)
# Queue one message durably; False when its key was queued before.
Send = Callable[[Outgoing], Awaitable[bool]]
# After a failed send, wait 5 s, then twice as long each time, at most 10 minutes; give
# up after MAX_ATTEMPTS (about three hours), so a renamed room cannot hold a message forever.
FIRST_RETRY = timedelta(seconds=5)
MAX_RETRY = timedelta(minutes=10)
MAX_ATTEMPTS = 24
# While the transport is offline the live loop only looks, this often, whether it is back.
OFFLINE_CHECK_SECONDS = 0.5
# Messages that could not be written wait in memory. Bounded, oldest kept: past this
# the caller keeps the work instead (the pipeline's retry queue).
MEMORY_LANE_LIMIT = 500
# After a storage error in the live loop, try again this soon.
STORAGE_RETRY_SECONDS = 5.0


@dataclass(frozen=True)
class QueuedMessage:
    id: int
    attempts: int
    retry_at: datetime | None
    message: Outgoing


def _pending(db: sqlite_utils.Database) -> list[QueuedMessage]:
    return [QueuedMessage(r.id, r.attempts, r.retry_at, Outgoing(**r.fields)) for r in outbox_store.unsent(db)]


def _earliest(a: datetime | None, b: datetime) -> datetime:
    return b if a is None else min(a, b)


def _target(msg: Outgoing) -> str:
    """Whom the per-recipient limit counts: the id where there is one (a copied room,
    or a resident showing an officer's name, is someone else), else the name."""
    if msg.room is not None:
        return f"room:{msg.room_id or msg.room}"
    return f"contact:{msg.contact_id or msg.contact}"


class Outbox:
    def __init__(self, db: Database, transport: Transport, clock: Clock, limiter: RateLimiter | None = None):
        self.db = db
        self.transport = transport
        self.clock = clock
        self.limiter = limiter or RateLimiter.unlimited()
        self._wakeup = asyncio.Event()
        # Messages the database would not take: sent from here.
        self._memory: list[Outgoing] = []
        # Sent from memory, not yet recorded in the table (written once it works again).
        self._unrecorded: list[tuple[Outgoing, datetime]] = []
        # Rows sent whose sent_at could not be written: never sent again, marked later.
        self._unmarked: dict[int, datetime] = {}
        self._draining = asyncio.Lock()
        # Set by put() when an urgent message arrives: a drain pass restarts for it.
        self._urgent_arrived = False
        # Told when a message had to be kept in memory and when memory is written out
        # (the storage watch raises the alarm and the all-clear).
        self.on_storage_change: Callable[[], Awaitable[None]] | None = None
        # Sends and failures for /metrics; the App gives every part its one Metrics.
        self.metrics = Metrics()

    async def put(self, msg: Outgoing) -> bool:
        """Queue a message durably; False when its key was queued before.

        A message the database cannot take (disk full, I/O error) is kept in memory and
        sent from there, urgent ones at once and the rest within the limits: a 119 reply
        or an officer's notice must not wait for disk space. Only when that memory is
        full does the failure reach the caller, which then keeps the work itself."""
        if self._in_memory(msg.key):
            return False
        now = self.clock.now()
        try:
            added = await self.db.write(lambda db: outbox_store.enqueue(db, msg, now))
        except Exception as exc:
            if not is_storage_failure(exc):
                raise
            if len(self._memory) >= MEMORY_LANE_LIMIT:
                log.error("数据库无法写入，内存中的待发消息已达 %d 条上限，此条未能排队", MEMORY_LANE_LIMIT)
                raise
            log.error("数据库无法写入（%s）：消息改由内存直接发送", exc)
            self._memory.append(msg)
            added = True
            if self.on_storage_change is not None:
                await self.on_storage_change()
        if added:
            self.wake(urgent=msg.urgent)
        return added

    def wake(self, urgent: bool = False) -> None:
        """Messages were queued (by `put`, or committed with other work): send them.
        `urgent` makes a drain pass in progress stop to let them through first."""
        if urgent:
            self._urgent_arrived = True
        self._wakeup.set()

    def _in_memory(self, key: str | None) -> bool:
        return key is not None and any(m.key == key for m in (*self._memory, *(m for m, _ in self._unrecorded)))

    @property
    def memory_count(self) -> int:
        """Messages held in memory because the database would not take them: waiting to
        be sent, or sent and not yet recorded in the table."""
        return len(self._memory) + len(self._unrecorded) + len(self._unmarked)

    async def drain(self) -> datetime | None:
        """Send everything queued that the rate limits allow now, urgent first and in
        order per room; stop at the first transport failure (the rest stays queued).
        Returns when the next held-back message may go, or None if nothing waits.

        One drain at a time: two (a scheduler job and the send loop) would both
        record the same sends, and the second would find them already gone."""
        async with self._draining:
            return await self._drain()

    async def _drain(self) -> datetime | None:
        while True:
            transport_failed, memory_ready = await self._send_from_memory()
            if transport_failed:
                return memory_ready  # nothing else would go either
            await self._record_memory_sends()
            self._urgent_arrived = False
            pending = [p for p in await self.db.read(_pending) if p.id not in self._unmarked]
            if not pending:
                return memory_ready
            now = self.clock.now()
            blocked: set[str] = set()
            next_ready: datetime | None = memory_ready
            sent_any = False
            interrupted = False
            for item in pending:
                if self._urgent_arrived and not item.message.urgent:
                    interrupted = True  # an urgent reply was queued meanwhile: it goes next
                    break
                target = _target(item.message)
                # Urgent replies are rare and cannot wait: the limits do not apply to them.
                ready = now if item.message.urgent else self.limiter.ready_at(target, now)
                if item.retry_at is not None:
                    ready = max(ready, item.retry_at)
                if target in blocked or ready > now:
                    blocked.add(target)  # later messages to the same room keep their order
                    next_ready = _earliest(next_ready, ready)
                    continue
                try:
                    await self.transport.send(item.message)
                except TransportError as exc:
                    if isinstance(exc, UndeliverableError):
                        await self._give_up(item, exc)
                        continue
                    retry_at = await self._failed(item, exc, now)
                    if self.transport.state != "online":
                        return retry_at  # everything would fail now: wait for the connection
                    blocked.add(target)
                    if retry_at is not None:
                        next_ready = _earliest(next_ready, retry_at)
                    continue
                except Exception as exc:  # noqa: BLE001 - e.g. the attached file is gone
                    # Not a connection problem: retrying cannot help, and one bad message
                    # must not stop the queue behind it.
                    log.exception("消息 %s 发送出错，已放弃", item.message.key)
                    await self._give_up(item, exc)
                    continue
                now = self.clock.now()
                self._count_send(target, now)
                self.metrics.sent(item.message, now)
                self._unmarked[item.id] = now  # sent: whatever happens next, not again
                await self._record_memory_sends()
                sent_any = True
            if interrupted:
                continue
            if not sent_any or next_ready is not None:
                return next_ready

    def _count_send(self, target: str, now: datetime) -> None:
        if self.limiter.record(target, now):
            log.warning("今日已发送 %d 条消息，接近每日上限 %d 条：微信可能限制或封禁账号", self.limiter.sent_today, self.limiter.daily_cap)

    async def _send_from_memory(self) -> tuple[bool, datetime | None]:
        """Send what the memory lane holds: urgent first, the rest within the limits.
        Returns (whether the transport failed, when to look again)."""
        next_ready: datetime | None = None
        blocked: set[str] = set()
        for msg in sorted(self._memory, key=lambda m: not m.urgent):  # stable: oldest first
            target = _target(msg)
            now = self.clock.now()
            ready = now if msg.urgent else self.limiter.ready_at(target, now)
            if target in blocked or ready > now:
                blocked.add(target)
                next_ready = _earliest(next_ready, ready)
                continue
            try:
                await self.transport.send(msg)
            except UndeliverableError as exc:
                self.metrics.send_failed()
                log.error("内存中的消息无法送达，已放弃：%s", exc)
            except TransportError as exc:
                self.metrics.send_failed()
                log.warning("内存中的消息发送失败，%g 秒后重试：%s", FIRST_RETRY.total_seconds(), exc)
                return True, self.clock.now() + FIRST_RETRY
            except Exception:  # noqa: BLE001 - one bad message must not stop the lane
                self.metrics.send_failed()
                log.exception("内存中的消息发送出错，已放弃")
            else:
                now = self.clock.now()
                self._count_send(target, now)
                self.metrics.sent(msg, now)
                self._unrecorded.append((msg, now))
            self._memory.remove(msg)
        return False, next_ready

    async def _record_memory_sends(self) -> None:
        """Write down what was sent: rows marked sent, and messages sent from memory
        added to the table, so it stays the record of everything sent. While the
        database refuses writes this stays in memory and is tried on the next drain."""
        if not self._unrecorded and not self._unmarked:
            return
        done, marked = list(self._unrecorded), dict(self._unmarked)

        def record(db: sqlite_utils.Database) -> None:
            for row_id, at in marked.items():
                outbox_store.mark_sent(db, row_id, at)
            for msg, at in done:
                outbox_store.enqueue(db, msg, at, sent_at=at)

        try:
            await self.db.write(record)
        except Exception as exc:
            if not is_storage_failure(exc):
                raise
            return
        del self._unrecorded[: len(done)]
        for row_id in marked:
            del self._unmarked[row_id]
        if done and self.on_storage_change is not None:
            await self.on_storage_change()

    async def restore_limits(self) -> int:
        """Give the limiter the sends of the last day from the table, so the limits
        hold across a restart. Returns how many sends it took in."""
        now = self.clock.now()
        since = now - timedelta(days=2)  # generous: filtered exactly below
        rows = await self.db.read(lambda db: outbox_store.sends_since(db, since))
        sends = []
        for room, contact, at in rows:
            if now - at <= timedelta(days=1):
                sends.append((f"room:{room}" if room is not None else f"contact:{contact}", at))
        self.limiter.restore(sends, now)
        return len(sends)

    async def pending_count(self) -> int:
        return await self.db.read(outbox_store.unsent_count)

    async def _give_up(self, item: QueuedMessage, exc: Exception) -> None:
        self.metrics.send_failed()
        log.error("消息 %s 无法送达，已放弃：%s", item.message.key, exc)
        await self._note(item.id, {"failed": str(exc) or type(exc).__name__})

    async def _failed(self, item: QueuedMessage, exc: Exception, now: datetime) -> datetime | None:
        """Record a failed attempt; returns when to try again, or None after giving up."""
        attempts = item.attempts + 1
        if attempts < MAX_ATTEMPTS:
            self.metrics.send_failed()  # the last one is counted by _give_up
        if attempts >= MAX_ATTEMPTS:
            await self._note(item.id, {"attempts": attempts})
            await self._give_up(item, exc)
            return None
        retry_at = now + min(FIRST_RETRY * 2 ** (attempts - 1), MAX_RETRY)
        log.warning("消息 %s 发送失败（第%d次），%s 重试：%s", item.message.key, attempts, retry_at.strftime("%H:%M:%S"), exc)
        await self._note(item.id, {"attempts": attempts, "retry_at": retry_at.isoformat()})
        return retry_at

    async def _note(self, row_id: int, values: dict) -> None:
        """Bookkeeping of a failed send. If the database refuses it, the message is
        simply tried again at the next drain: better than stopping the queue."""
        try:
            await self.db.write(lambda db: outbox_store.note_attempt(db, row_id, values))
        except Exception as exc:
            if not is_storage_failure(exc):
                raise
            log.warning("发件记录未能写入数据库：%s", exc)

    async def run_forever(self) -> None:
        """Live loop: send whenever something is queued, as fast as the limits allow.

        While the transport is offline nothing is tried: every try would fail, count
        against the message's MAX_ATTEMPTS (a gateway down overnight would have
        every queued message given up) and push its retry further out (so messages
        queued meanwhile went out long after the reconnect). They go once it is back."""
        while True:
            self._wakeup.clear()
            if self.transport.state != "online":
                await asyncio.sleep(OFFLINE_CHECK_SECONDS)
                continue
            try:
                next_ready = await self.drain()
            except Exception as exc:
                if not is_storage_failure(exc):
                    raise
                # The database failed under the loop (disk full, I/O error): what is
                # queued stays queued; the pipeline reports the failure to /healthz.
                log.error("发件箱读写数据库失败，%g 秒后重试：%s", STORAGE_RETRY_SECONDS, exc)
                next_ready = self.clock.now() + timedelta(seconds=STORAGE_RETRY_SECONDS)
            timeout = 60.0 if next_ready is None else max(0.05, (next_ready - self.clock.now()).total_seconds())
            # asyncio.timeout, not wait_for: on 3.11 wait_for loses a cancellation
            # that arrives as the event is set, and this loop then never stops.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wakeup.wait()
