"""Escalation of unclaimed cases (SPEC.md "Escalation").

Per severity: a private reminder to the responsible officer, then a private message
to the station leader and one in the officers' room. The steps are one-shot jobs
rebuilt from the database at start; each job re-reads the case when it fires and
does nothing once the case is claimed or closed. Outbox keys carry the case, the
step and the escalation round, so a restart that re-fires a step already sent
queues nothing, while a step missed during downtime is sent on start.
"""
from __future__ import annotations

import logging
from collections.abc import Set as AbstractSet
from datetime import timedelta

import sqlite_utils

from bot.events import Outgoing
from handlers.base import Services
from handlers.case_text import duration, kind
from storage import cases as cs
from storage.cases import Case

log = logging.getLogger(__name__)

SYSTEM = "系统"


def queued_keys(db: sqlite_utils.Database, keys: list[str]) -> set[str]:
    """Which of these outbox keys were queued before: a restart skips those steps
    instead of re-firing every past step of every stale case only to dedup it."""
    found: set[str] = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i : i + 500]
        found.update(r[0] for r in db.execute(f"select key from outbox where key in ({','.join('?' * len(chunk))})", chunk))
    return found


def step_key(case: Case, step: str, suffix: str = "") -> str:
    base = f"case:{case.id}:{step}{suffix}"
    return base if case.escalation_round <= 1 else f"{base}:r{case.escalation_round}"


class EscalationClock:
    """Schedules, fires and stops the escalation steps of unclaimed cases."""

    def __init__(self, services: Services):
        self.s = services

    def handlers(self) -> list:
        return []

    async def start(self) -> None:
        def load(db: sqlite_utils.Database) -> tuple[list[Case], set[str]]:
            cases = cs.pending_cases(db)
            keys = [step_key(c, step) for c in cases for step in ("remind", "leader")]
            return cases, queued_keys(db, keys)

        cases, done = await self.s.db.read(load)
        for case in cases:
            self.schedule(case, skip=done)

    async def on_case_changed(self, case: Case) -> None:
        """Hook for the report path: a case opened, or its severity rose."""
        self.schedule(case)

    def schedule(self, case: Case, skip: AbstractSet[str] = frozenset()) -> None:
        """(Re)plan the steps of a case from its current severity and clock start;
        steps whose message key is in `skip` were sent before a restart."""
        self.cancel(case.id)
        minutes = self.s.config.escalation.minutes(case.severity)
        if case.status != cs.PENDING or minutes is None:
            return
        remind, leader = minutes
        base = case.escalation_base
        expected = case.escalation_round
        if step_key(case, "remind") not in skip:
            self.s.scheduler.add_once(f"esc:{case.id}:remind", base + timedelta(minutes=remind), lambda when, i=case.id: self._remind(i, expected, remind))
        if step_key(case, "leader") not in skip:
            self.s.scheduler.add_once(f"esc:{case.id}:leader", base + timedelta(minutes=leader), lambda when, i=case.id: self._tell_leader(i, expected, leader))

    def cancel(self, case_id: int) -> None:
        self.s.scheduler.remove_prefix(f"esc:{case_id}:")

    async def _current(self, case_id: int, expected_round: int) -> Case | None:
        """The case if this step still applies: unclaimed and in the same round."""
        case = await self.s.db.read(lambda db: cs.get_case(db, case_id))
        if case is None or case.status != cs.PENDING or case.escalation_round != expected_round:
            return None
        return case

    async def _remind(self, case_id: int, expected_round: int, minutes: int) -> None:
        case = await self._current(case_id, expected_round)
        if case is None:
            return
        text = f"【催办】{case.label} {kind(case)}（{case.community}）已超过{duration(minutes)}无人认领，请尽快回复“认领 {case.id}”。"
        if await self.s.send(Outgoing(text=text, contact=case.officer, urgent=case.severity == "urgent", key=step_key(case, "remind"))):
            await self._record(case, "reminded", f"提醒{case.officer}")

    async def _tell_leader(self, case_id: int, expected_round: int, minutes: int) -> None:
        case = await self._current(case_id, expected_round)
        if case is None:
            return
        station = self.s.config.station(case.station)
        urgent = case.severity == "urgent"
        private = (
            f"【超时未认领】{case.label} {kind(case)}，{case.community}（{case.room}），"
            f"责任民警{case.officer}，已超过{duration(minutes)}无人认领。"
            f"发送“详情 {case.id}”查看，“转办 {case.id} 姓名”改派。"
        )
        room = f"【超时未认领】{case.label} {kind(case)}（{case.community}）已超过{duration(minutes)}无人认领，请责任民警{case.officer}尽快认领。"
        sent = await self.s.send(Outgoing(text=private, contact=station.leader, urgent=urgent, key=step_key(case, "leader")))
        await self.s.send(Outgoing(text=room, room=station.officers_room, mentions=(case.officer,), urgent=urgent, key=step_key(case, "leader", ":room")))
        if sent:
            await self._record(case, "escalated", f"上报{station.leader}及{station.officers_room}")

    async def _record(self, case: Case, kind_: str, detail: str) -> None:
        at = self.s.clock.now()
        await self.s.db.write(lambda db: cs.add_event(db, case.id, at, kind_, SYSTEM, detail))
        log.info("案件 %s：%s", case.label, detail)
