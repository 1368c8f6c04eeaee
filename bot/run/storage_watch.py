"""Say so, loudly and once, when the database stops taking writes.

A full disk used to drop every message with a traceback while /healthz said ok. Now
the work is kept (the pipeline's retry queue, the outbox's memory lane) and this
watch turns that state into one reason for /healthz, one error in the log and one
private message to the admin (an officer with role admin, else the station leaders)
per episode, plus one when everything pending has been stored.
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Callable

from bot.clock import Clock
from bot.config import Config
from bot.events import Outgoing
from bot.outbox import Send
from storage.db import Database

log = logging.getLogger(__name__)


def admins(config: Config) -> tuple[str, ...]:
    """Who hears about the bot's own trouble: the admins, else every station's leader."""
    named = [o.name for o in config.officers if o.role == "admin"]
    if not named:
        named = [s.leader for s in config.stations]
    return tuple(dict.fromkeys(named))


class StorageWatch:
    def __init__(self, config: Config, clock: Clock, db: Database, send: Send) -> None:
        self.config = config
        self.clock = clock
        self.db = db
        self.send = send
        # Set by the App once the pipeline and the outbox exist.
        self.pending: Callable[[], int] = lambda: 0
        self.dropped: Callable[[], int] = lambda: 0
        self.held: Callable[[], int] = lambda: 0
        self.on_failing: Callable[[], None] = lambda: None  # arranges a later re-check
        self._failing_since: datetime | None = None
        self._last_error = ""

    def problem(self) -> str | None:
        """Why the bot is not storing what it receives, or None when all is well."""
        parts = []
        if self.db.write_error is not None:
            self._last_error = self.db.write_error
            parts.append(f"数据库无法写入（{self.db.write_error}）")
        if self.pending():
            parts.append(f"{self.pending()}条消息未能保存，正在重试")
        if self.dropped():
            parts.append(f"{self.dropped()}条消息因重试队列已满而丢失")
        if self.held():
            parts.append(f"{self.held()}条待发消息暂存内存")
        return "；".join(parts) or None

    @property
    def failing(self) -> bool:
        return self._failing_since is not None

    async def check(self) -> None:
        """Compare the state with what people were told; tell them of a change, once."""
        problem = self.problem()
        if problem is not None and self._failing_since is None:
            self._failing_since = self.clock.now()  # before awaiting: check() may re-enter
            self.on_failing()
            log.error("存储故障：%s（%s）", problem, self.db.path)
            await self._tell(
                f"【系统告警】平安助手的数据库 {self.db.path.name} 无法写入：{self._last_error or problem}。"
                "收到的消息暂存在内存中并自动重试，紧急回复照常发出；请尽快检查服务器磁盘空间。"
            )
        elif problem is None and self._failing_since is not None:
            since, self._failing_since = self._failing_since, None
            log.warning("存储已恢复（故障开始于 %s），暂存的消息已全部保存", since.isoformat())
            await self._tell(f"【系统恢复】数据库 {self.db.path.name} 已恢复写入，故障期间暂存的消息已全部保存。")

    async def _tell(self, text: str) -> None:
        for name in admins(self.config):
            try:
                # Urgent: the outbox sends it from memory when the database refuses it.
                await self.send(Outgoing(text=text, contact=name, urgent=True))
            except Exception:  # noqa: BLE001 - the alarm must not become a new failure
                log.exception("无法通知管理员 %s", name)
