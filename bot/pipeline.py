"""The one way a message travels: drop what is not ours, dedup, route to a handler.

Messages from the bot itself and from rooms not in the config stop here, before any
handler (or the detector) sees them.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Protocol, Sequence

from bot.config import Config
from bot.events import Incoming
from handlers.base import Handler

log = logging.getLogger(__name__)


class DuplicateFilter(Protocol):
    def is_duplicate(self, msg: Incoming) -> bool: ...


class Pipeline:
    def __init__(self, config: Config, handlers: Sequence[Handler], dedup: DuplicateFilter | None = None):
        self.config = config
        self.handlers = list(handlers)
        self.dedup = dedup

    def accepts(self, msg: Incoming) -> bool:
        if msg.is_self or msg.sender == self.config.bot.name:
            return False
        if msg.room is not None and msg.room not in self.config.known_rooms:
            return False
        return True

    async def handle(self, msg: Incoming) -> None:
        if not self.accepts(msg):
            return
        msg = _well_formed(msg)
        if self.dedup is not None and self.dedup.is_duplicate(msg):
            log.info("重复消息已忽略：%s", msg.id)
            return
        for handler in self.handlers:
            if handler.matches(msg):
                try:
                    await handler.handle(msg)
                except Exception:  # a bug in one feature must not take the bot down
                    # Log the id, not the text: ordinary chat must not reach logs either.
                    log.exception("处理消息 %s 时出错（%s）", msg.id, type(handler).__name__)
                return


def _well_formed(msg: Incoming) -> Incoming:
    """Replace lone UTF-16 surrogates (broken emoji from some clients) so that text can
    be stored and sent; everything else is left exactly as written."""

    def clean(text: str) -> str:
        return text if text.isascii() else text.encode("utf-8", "replace").decode("utf-8")

    return dataclasses.replace(msg, text=clean(msg.text), sender=clean(msg.sender), room=None if msg.room is None else clean(msg.room))
