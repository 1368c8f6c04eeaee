"""Follow-up visits (回访) of mediated disputes (SPEC.md "Follow-ups").

After `办结 N 调解成功`, the case's officer gets a private reminder on each day in
`followup.days` at `followup.at`. A visit not recorded `overdue_days` after its
reminder is reported to the station leader and the officers' room, like an
escalation. Jobs are rebuilt from the `followups` table at start; outbox keys name
the follow-up row, so a restart neither repeats nor loses a reminder.
"""
from __future__ import annotations

import logging
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta

import sqlite_utils

from bot.events import Outgoing
from handlers.base import Services
from handlers.escalation import queued_keys
from handlers.case_text import category_name, local
from storage import cases as cs
from storage import followups as fs
from storage.cases import Case
from storage.followups import FollowUp

log = logging.getLogger(__name__)


class FollowupReminders:
    def __init__(self, services: Services):
        self.s = services

    def handlers(self) -> list:
        return []

    async def start(self) -> None:
        def load(db: sqlite_utils.Database) -> tuple[list[FollowUp], set[str]]:
            pending = fs.all_pending(db)
            return pending, queued_keys(db, [f"followup:{f.id}:{step}" for f in pending for step in ("remind", "overdue")])

        pending, done = await self.s.db.read(load)
        self.schedule(pending, skip=done)

    def due_times(self, mediated_at: datetime) -> list[datetime]:
        """Reminder moments: the configured days after the mediation, at the configured local time."""
        tz = self.s.config.bot.tz
        day = mediated_at.astimezone(tz).date()
        at = self.s.config.followup.at
        return [datetime.combine(day + timedelta(days=n), at, tzinfo=tz) for n in self.s.config.followup.days]

    def overdue_at(self, followup: FollowUp) -> datetime:
        return followup.due_at + timedelta(days=self.s.config.followup.overdue_days)

    def schedule(self, followups: list[FollowUp], skip: AbstractSet[str] = frozenset()) -> None:
        """Plan each pending visit's reminder and overdue report, except those whose
        message key is in `skip` (sent before a restart)."""
        for f in followups:
            if f.status != fs.PENDING:
                continue
            if f"followup:{f.id}:remind" not in skip:
                self.s.scheduler.add_once(f"followup:{f.id}:remind", f.due_at, lambda when, i=f.id: self._remind(i))
            if f"followup:{f.id}:overdue" not in skip:
                self.s.scheduler.add_once(f"followup:{f.id}:overdue", self.overdue_at(f), lambda when, i=f.id: self._overdue(i))

    def cancel(self, followup_ids: list[int]) -> None:
        for i in followup_ids:
            self.s.scheduler.remove_prefix(f"followup:{i}:")

    async def _current(self, followup_id: int) -> tuple[FollowUp, Case] | None:
        def load(db):
            f = fs.get(db, followup_id)
            return (f, cs.get_case(db, f.case_id)) if f is not None else None

        found = await self.s.db.read(load)
        if found is None:
            return None
        followup, case = found
        if followup.status != fs.PENDING or case is None or case.status != cs.AWAITING_FOLLOWUP:
            return None
        return followup, case

    async def _remind(self, followup_id: int) -> None:
        found = await self._current(followup_id)
        if found is None:
            return
        f, case = found
        tz = self.s.config.bot.tz
        days = ""
        if case.closed_at is not None:
            days = f"（调解后第{(f.due_at.astimezone(tz).date() - case.closed_at.astimezone(tz).date()).days}天）"
        text = (
            f"【回访提醒】{case.label} {category_name(case.category)}（{case.community}）今天该第{f.seq}次回访{days}。"
            f"回访后请回复“回访 {case.id} 无反弹”或“回访 {case.id} 反弹”。"
        )
        if await self.s.send(Outgoing(text=text, contact=case.officer, key=f"followup:{f.id}:remind")):
            await self._record(case, "followup_reminded", f"第{f.seq}次，提醒{case.officer}")

    async def _overdue(self, followup_id: int) -> None:
        found = await self._current(followup_id)
        if found is None:
            return
        f, case = found
        station = self.s.config.station(case.station)
        tz = self.s.config.bot.tz
        days = self.s.config.followup.overdue_days
        what = f"{case.label} {category_name(case.category)}（{case.community}）第{f.seq}次回访（{local(f.due_at, tz)}提醒）已逾期{days}天未记录"
        private = f"【回访逾期】{what}，责任民警{case.officer}。发送“详情 {case.id}”查看。"
        room = f"【回访逾期】{what}，请责任民警{case.officer}尽快回访。"
        sent = await self.s.send(Outgoing(text=private, contact=station.leader, key=f"followup:{f.id}:overdue"))
        await self.s.send(Outgoing(text=room, room=station.officers_room, mentions=(case.officer,), key=f"followup:{f.id}:overdue:room"))
        if sent:
            await self._record(case, "followup_overdue", f"第{f.seq}次，上报{station.leader}")

    async def _record(self, case: Case, kind: str, detail: str) -> None:
        at = self.s.clock.now()
        await self.s.db.write(lambda db: cs.add_event(db, case.id, at, kind, "系统", detail))
        log.info("案件 %s：%s", case.label, detail)
