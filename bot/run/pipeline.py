"""The one way a message travels: drop what is not ours, dedup, route to a handler.

Messages from the bot itself and from rooms not in the config stop here, before any
handler (or the detector) sees them.

The first handler whose `match` finds something gets the message; its work is
carried out in one transaction (bot/run/work.py).

When the database refuses a write (disk full, I/O error), nothing of the message was
stored, and it is not dropped: it waits in a bounded in-memory queue (oldest kept) and
is handled again, in order, until it is stored, once. Urgent replies already went out
from the outbox's memory lane; the retry does not send them twice.
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections import deque
from typing import Any, Awaitable, Callable, Protocol, Sequence

from bot.config import Config
from bot.events import Incoming, bounded_text
from bot.feature import Handler
from bot.metrics import Metrics
from bot.run.work import Attempt, WorkRunner
from bot.text_safety import safe_name

log = logging.getLogger(__name__)

# Messages kept for retry while the database refuses writes. Beyond this the newest
# are dropped, loudly: the oldest reports have waited longest and matter as much.
MAX_PENDING = 1000


class DuplicateFilter(Protocol):
    def is_duplicate(self, msg: Incoming) -> bool: ...


class Pipeline:
    def __init__(
        self,
        config: Config,
        handlers: Sequence[Handler[Any]],
        runner: WorkRunner,
        dedup: DuplicateFilter | None = None,
        *,
        schedule_retry: Callable[[], None] | None = None,
        on_storage_change: Callable[[], Awaitable[None]] | None = None,
        max_pending: int | None = None,
    ):
        self.config = config
        self.handlers = list(handlers)
        self.runner = runner
        self.dedup = dedup
        self.schedule_retry = schedule_retry or (lambda: None)
        self.on_storage_change = on_storage_change
        self.max_pending = MAX_PENDING if max_pending is None else max_pending
        self.pending: deque[Attempt] = deque()
        self.dropped = 0
        self.metrics = Metrics()  # the App's replaces it
        self._retry_lock = asyncio.Lock()

    def accepts(self, msg: Incoming) -> bool:
        # By the transport's flag, not by name: a resident who calls themselves
        # 平安助手 is still answered (SPEC.md "Identity").
        if msg.is_self:
            return False
        if msg.room is not None and msg.room not in self.config.known_rooms:
            return False
        return True

    async def handle(self, msg: Incoming) -> None:
        if not self.accepts(msg):
            return
        self.metrics.message_in()
        msg = _well_formed(msg)
        if self.dedup is not None and self.dedup.is_duplicate(msg):
            log.info("重复消息已忽略：%s", msg.id)
            return
        attempt = self._route(msg)
        if attempt is None:
            return
        if self.pending:
            await self.retry_pending()  # older work first: a report before its 认领
        if not await self._try(attempt):
            self._keep(attempt)
            await self._storage_changed()

    async def retry_pending(self) -> int:
        """Handle the kept messages again, oldest first, until one still cannot be
        stored. Returns how many were stored now."""
        stored = 0
        async with self._retry_lock:
            while self.pending:
                if not await self._try(self.pending[0]):
                    break
                self.pending.popleft()
                stored += 1
            if stored:
                log.warning("重试成功：%d 条暂存消息已保存，还有 %d 条", stored, len(self.pending))
            if self.pending:
                self.schedule_retry()
        await self._storage_changed()
        return stored

    def _route(self, msg: Incoming) -> Attempt | None:
        for handler in self.handlers:
            try:
                found = handler.match(msg)
            except Exception:  # a bug in one feature must not take the bot down
                log.exception("匹配消息 %s 时出错（%s）", msg.id, type(handler).__name__)
                continue
            if found is not None:
                return Attempt(msg, handler, found)
        return None

    async def _try(self, attempt: Attempt) -> bool:
        """Handle once. False only when the database refused the write: then nothing
        was stored and a later try does the whole work again."""
        attempt.tries += 1
        try:
            work = attempt.handler.handle(attempt.msg, attempt.match)
            for reply in work.urgent:  # its latency runs from the message to the send
                self.metrics.urgent_queued(reply, attempt.msg.at)
            if await self.runner.carry_out(work, attempt):
                return True
        except Exception:  # a bug in one feature must not take the bot down
            # Log the id, not the text: ordinary chat must not reach logs either.
            log.exception("处理消息 %s 时出错（%s）", attempt.msg.id, type(attempt.handler).__name__)
            return True
        if attempt.tries == 1:
            log.error("消息 %s 未能保存（%s），已暂存待重试", attempt.msg.id, self.runner.db.write_error)
        return False

    def _keep(self, attempt: Attempt) -> None:
        if len(self.pending) >= self.max_pending:
            self.dropped += 1
            log.error("重试队列已满（%d 条），消息 %s 无法暂存，已丢失", self.max_pending, attempt.msg.id)
            return
        self.pending.append(attempt)
        if len(self.pending) == 1:
            self.schedule_retry()

    async def _storage_changed(self) -> None:
        if self.on_storage_change is not None:
            await self.on_storage_change()


def _well_formed(msg: Incoming) -> Incoming:
    """Replace lone UTF-16 surrogates (broken emoji from some clients) so that text can
    be stored and sent, and cut an oversized text (whatever the transport); everything
    else is left exactly as written."""

    def clean(text: str) -> str:
        return text if text.isascii() else text.encode("utf-8", "replace").decode("utf-8")

    # Names and topics on one line with no invisible controls (bot.text_safety), whatever
    # the transport: they go into officers' notices and logs.
    return dataclasses.replace(
        msg,
        text=clean(bounded_text(msg.text)),
        sender=safe_name(clean(msg.sender)),
        room=None if msg.room is None else safe_name(clean(msg.room)),
        mentions=tuple(safe_name(clean(m)) for m in msg.mentions),
    )
