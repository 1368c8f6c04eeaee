"""Follow-up visits (回访) of mediated disputes (SPEC.md "Follow-ups").

After `办结 N 调解成功`, the case's officer gets a private reminder on each day in
`followup.days` at `followup.at`. A visit not recorded `overdue_days` after its
reminder is reported to the station leader and the officers' room, like an
escalation. The jobs (`cases.followup.remind`, `cases.followup.overdue`, data: the
follow-up row's id) are rebuilt from the `followups` table at start; outbox keys name
the follow-up row, so a restart neither repeats nor loses a reminder.
"""
from __future__ import annotations

from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from typing import Callable

import sqlite_utils

from bot.config import Config
from bot.events import Outgoing
from bot.feature import Cancel, Job, JobFunc, Outcome, Work
from handlers.cases.notices import leader_and_room, record_system_event
from handlers.cases.wording import category_name, local
from storage import cases as case_store
from storage import followups as fs
from storage import outbox as outbox_store
from storage.cases import Case
from storage.followups import FollowUp

REMIND = "cases.followup.remind"
OVERDUE = "cases.followup.overdue"


def due_times(config: Config, mediated_at: datetime) -> list[datetime]:
    """Reminder moments: the configured days after the mediation, at the configured local time."""
    tz = config.bot.tz
    day = mediated_at.astimezone(tz).date()
    return [datetime.combine(day + timedelta(days=n), config.followup.at, tzinfo=tz) for n in config.followup.days]


def plan(config: Config, followups: list[FollowUp], skip: AbstractSet[str] = frozenset()) -> list[Job]:
    """Each pending visit's reminder and overdue report, except those whose message
    key is in `skip` (sent before a restart)."""
    overdue = timedelta(days=config.followup.overdue_days)
    jobs = []
    for f in followups:
        if f.status != fs.PENDING:
            continue
        if f"followup:{f.id}:remind" not in skip:
            jobs.append(Job(REMIND, {"followup": f.id}, at=f.due_at))
        if f"followup:{f.id}:overdue" not in skip:
            jobs.append(Job(OVERDUE, {"followup": f.id}, at=f.due_at + overdue))
    return jobs


def stop(followup_ids: list[int]) -> list[Cancel]:
    return [Cancel(name, {"followup": i}) for i in followup_ids for name in (REMIND, OVERDUE)]


def rebuild(config: Config, db: sqlite_utils.Database) -> list[Job]:
    pending = fs.all_pending(db)
    done = outbox_store.queued_keys(db, [f"followup:{f.id}:{step}" for f in pending for step in ("remind", "overdue")])
    return plan(config, pending, skip=done)


def _current(db: sqlite_utils.Database, job: Job) -> tuple[FollowUp, Case] | None:
    """The visit and its case, if the visit is still due."""
    followup = fs.get(db, job.data["followup"])
    case = case_store.get_case(db, followup.case_id) if followup is not None else None
    if followup is None or case is None or followup.status != fs.PENDING or case.status != case_store.AWAITING_FOLLOWUP:
        return None
    return followup, case


class Followups:
    """The job functions of the reminder and the overdue report."""

    def __init__(self, config: Config, now: Callable[[], datetime]):
        self.config = config
        self.now = now

    def jobs(self) -> dict[str, JobFunc]:
        return {REMIND: self.remind, OVERDUE: self.overdue}

    def remind(self, job: Job, fire_time: datetime) -> Work:
        tz = self.config.bot.tz

        def txn(db: sqlite_utils.Database) -> Outcome:
            found = _current(db, job)
            if found is None:
                return Outcome()
            f, case = found
            key = f"followup:{f.id}:remind"
            if outbox_store.is_queued(db, key):
                return Outcome()  # sent before a restart
            days = ""
            if case.closed_at is not None:
                days = f"（调解后第{(f.due_at.astimezone(tz).date() - case.closed_at.astimezone(tz).date()).days}天）"
            text = (
                f"【回访提醒】{case.label} {category_name(case.category)}（{case.community}）今天该第{f.seq}次回访{days}。"
                f"回访后请回复“回访 {case.id} 无反弹”或“回访 {case.id} 反弹”。"
            )
            record_system_event(db, case, self.now(), "followup_reminded", f"第{f.seq}次，提醒{case.officer}")
            return Outcome(sends=[Outgoing(text=text, contact=case.officer, key=key)])

        return Work.transact(txn)

    def overdue(self, job: Job, fire_time: datetime) -> Work:
        tz = self.config.bot.tz
        days = self.config.followup.overdue_days

        def txn(db: sqlite_utils.Database) -> Outcome:
            found = _current(db, job)
            if found is None:
                return Outcome()
            f, case = found
            station = self.config.station(case.station)
            what = f"{case.label} {category_name(case.category)}（{case.community}）第{f.seq}次回访（{local(f.due_at, tz)}提醒）已逾期{days}天未记录"
            private = f"【回访逾期】{what}，责任民警{case.officer}。发送“详情 {case.id}”查看。"
            room = f"【回访逾期】{what}，请责任民警{case.officer}尽快回访。"
            key = f"followup:{f.id}:overdue"
            if not outbox_store.is_queued(db, key):
                record_system_event(db, case, self.now(), "followup_overdue", f"第{f.seq}次，上报{station.leader}")
            return Outcome(sends=leader_and_room(station, case, private, room, (key, f"{key}:room")))

        return Work.transact(txn)
