"""Configured room topics that more than one room has: noticed, logged and reported
once each, because anyone can create a group and give it a configured topic."""
from __future__ import annotations

import inspect
import logging
from typing import Iterable, Mapping

from bot.transports.base import ProblemHandler

log = logging.getLogger(__package__)  # the package's logger (see sdk.py)


def duplicate_topic_problem(topic: str, room_ids: Iterable[str]) -> str:
    """The one line an admin reads about rooms sharing a configured topic."""
    ids = sorted(room_ids)
    count = "两" if len(ids) == 2 else str(len(ids))
    return (
        f"发现{count}个同名群“{topic}”：{'、'.join(ids)}。"
        "按群名发往该群的消息将暂停发送（回复仍发往消息所在的群），"
        "请核实后将不属于本所的群改名或让平安助手退出该群。"
    )


class TopicWatch:
    """Watches the configured topics; `check` reports each shared topic once per process
    (a reconnect refills the directory and must not repeat the alarm)."""

    def __init__(self, topics: Iterable[str] = ()) -> None:
        self.topics = frozenset(topics)
        self.on_problem: ProblemHandler | None = None
        self._reported: set[str] = set()

    async def check(self, topics_by_room: Mapping[str, str]) -> None:
        """Report every watched topic that several rooms in `topics_by_room` now share."""
        if not self.topics:
            return
        rooms: dict[str, list[str]] = {}
        for room_id, topic in topics_by_room.items():
            if topic in self.topics and topic not in self._reported:
                rooms.setdefault(topic, []).append(room_id)
        for topic, room_ids in rooms.items():
            if len(room_ids) < 2:
                continue
            self._reported.add(topic)  # before awaiting: a second check may run meanwhile
            problem = duplicate_topic_problem(topic, room_ids)
            log.warning("%s", problem)
            await self._report(problem)

    async def _report(self, problem: str) -> None:
        if self.on_problem is None:
            return
        try:
            result = self.on_problem(problem)
            if inspect.isawaitable(result):
                await result
        except Exception:  # noqa: BLE001 - telling the admin must not break message handling
            log.exception("could not report a transport problem")
