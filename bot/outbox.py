"""The durable outbound queue.

Every outgoing message is written to the `outbox` table before it is handed to the
transport and marked sent afterwards, so a crash between the two sends it on the next
start instead of losing it; a message `key` is unique, so a job that runs twice (a
restart mid-reminder) queues its message once. Urgent messages (110/119/120 replies)
go before everything else.
"""
from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlite_utils

from bot.clock import Clock
from bot.events import Outgoing
from bot.rate_limit import RateLimiter
from bot.transports.base import Transport, TransportError, UndeliverableError
from storage.db import Database

log = logging.getLogger(__name__)
# After a failed send, wait 5 s, then twice as long each time, at most 10 minutes; give
# up after MAX_ATTEMPTS (about three hours), so a renamed room cannot hold a message forever.
FIRST_RETRY = timedelta(seconds=5)
MAX_RETRY = timedelta(minutes=10)
MAX_ATTEMPTS = 24
# While the transport is offline the live loop only looks, this often, whether it is back.
OFFLINE_CHECK_SECONDS = 0.5


@dataclass(frozen=True)
class QueuedMessage:
    id: int
    attempts: int
    retry_at: datetime | None
    message: Outgoing


def _enqueue(db: sqlite_utils.Database, msg: Outgoing, now: datetime) -> bool:
    """Insert unless a message with the same key exists; True when inserted."""
    if msg.key is not None and list(db.query("select 1 from outbox where key = ?", [msg.key])):
        return False
    row_id = db["outbox"].insert(
        {
            "key": msg.key,
            "created_at": now.isoformat(),
            "room": msg.room,
            "contact": msg.contact,
            "text": msg.text,
            "mentions": json.dumps(list(msg.mentions), ensure_ascii=False),
            "file": msg.file,
            "urgent": int(msg.urgent),
            "attempts": 0,
        }
    ).last_pk
    if msg.key is None:
        db["outbox"].update(row_id, {"key": f"auto:{row_id}"})
    return True


def _pending(db: sqlite_utils.Database) -> list[QueuedMessage]:
    rows = db.query("select * from outbox where sent_at is null and failed is null order by urgent desc, id")
    return [
        QueuedMessage(
            r["id"],
            r["attempts"] or 0,
            datetime.fromisoformat(r["retry_at"]) if r["retry_at"] else None,
            Outgoing(
                text=r["text"] or "",
                room=r["room"],
                contact=r["contact"],
                mentions=tuple(json.loads(r["mentions"] or "[]")),
                file=r["file"],
                urgent=bool(r["urgent"]),
                key=r["key"],
            ),
        )
        for r in rows
    ]


def _target(msg: Outgoing) -> str:
    return f"room:{msg.room}" if msg.room is not None else f"contact:{msg.contact}"


class Outbox:
    def __init__(self, db: Database, transport: Transport, clock: Clock, limiter: RateLimiter | None = None):
        self.db = db
        self.transport = transport
        self.clock = clock
        self.limiter = limiter or RateLimiter.unlimited()
        self._wakeup = asyncio.Event()

    async def put(self, msg: Outgoing) -> bool:
        """Queue a message durably; False when its key was queued before."""
        now = self.clock.now()
        added = await self.db.write(lambda db: _enqueue(db, msg, now))
        if added:
            self._wakeup.set()
        return added

    async def drain(self) -> datetime | None:
        """Send everything queued that the rate limits allow now, urgent first and in
        order per room; stop at the first transport failure (the rest stays queued).
        Returns when the next held-back message may go, or None if nothing waits."""
        while True:
            pending = await self.db.read(_pending)
            if not pending:
                return None
            now = self.clock.now()
            blocked: set[str] = set()
            next_ready: datetime | None = None
            sent_any = False
            for item in pending:
                target = _target(item.message)
                ready = self.limiter.ready_at(target, now)
                if item.retry_at is not None:
                    ready = max(ready, item.retry_at)
                if target in blocked or ready > now:
                    blocked.add(target)  # later messages to the same room keep their order
                    next_ready = ready if next_ready is None else min(next_ready, ready)
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
                        next_ready = retry_at if next_ready is None else min(next_ready, retry_at)
                    continue
                except Exception as exc:  # noqa: BLE001 - e.g. the attached file is gone
                    # Not a connection problem: retrying cannot help, and one bad message
                    # must not stop the queue behind it.
                    log.exception("消息 %s 发送出错，已放弃", item.message.key)
                    await self._give_up(item, exc)
                    continue
                now = self.clock.now()
                if self.limiter.record(target, now):
                    log.warning("今日已发送 %d 条消息，接近每日上限 %d 条：微信可能限制或封禁账号", self.limiter.sent_today, self.limiter.daily_cap)
                await self.db.write(lambda db, i=item.id, at=now.isoformat(): db["outbox"].update(i, {"sent_at": at}))
                sent_any = True
            if not sent_any or next_ready is not None:
                return next_ready

    async def pending_count(self) -> int:
        return await self.db.read(lambda db: db.execute("select count(*) from outbox where sent_at is null and failed is null").fetchone()[0])

    async def _give_up(self, item: QueuedMessage, exc: Exception) -> None:
        log.error("消息 %s 无法送达，已放弃：%s", item.message.key, exc)
        await self.db.write(lambda db: db["outbox"].update(item.id, {"failed": str(exc) or type(exc).__name__}))

    async def _failed(self, item: QueuedMessage, exc: Exception, now: datetime) -> datetime | None:
        """Record a failed attempt; returns when to try again, or None after giving up."""
        attempts = item.attempts + 1
        if attempts >= MAX_ATTEMPTS:
            await self.db.write(lambda db: db["outbox"].update(item.id, {"attempts": attempts}))
            await self._give_up(item, exc)
            return None
        retry_at = now + min(FIRST_RETRY * 2 ** (attempts - 1), MAX_RETRY)
        log.warning("消息 %s 发送失败（第%d次），%s 重试：%s", item.message.key, attempts, retry_at.strftime("%H:%M:%S"), exc)
        await self.db.write(lambda db: db["outbox"].update(item.id, {"attempts": attempts, "retry_at": retry_at.isoformat()}))
        return retry_at

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
            next_ready = await self.drain()
            timeout = 60.0 if next_ready is None else max(0.05, (next_ready - self.clock.now()).total_seconds())
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout)
            except TimeoutError:
                pass
