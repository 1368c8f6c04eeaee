"""Escalation of unclaimed cases (SPEC.md "Escalation").

Per severity: a private reminder to the responsible officer, then a private message
to the station leader and one in the officers' room. The steps are one-shot jobs
(`cases.escalation.remind`, `cases.escalation.leader`, data: case, round, minutes)
planned when a case opens, rebuilt from the database at start; each re-reads the case
when it fires and does nothing once the case is claimed or closed. Outbox keys carry
the case, the step and the escalation round, so a restart that re-fires a step
already sent queues nothing, while a step missed during downtime is sent on start.
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
from handlers.cases.wording import duration, category_severity
from storage import cases as case_store
from storage import outbox as outbox_store
from storage.cases import Case


REMIND = "cases.escalation.remind"
LEADER = "cases.escalation.leader"


def step_key(case: Case, step: str, suffix: str = "") -> str:
    base = f"case:{case.id}:{step}{suffix}"
    return base if case.escalation_round <= 1 else f"{base}:r{case.escalation_round}"


def stop(case_id: int) -> list[Cancel]:
    """Cancel a case's pending steps (claimed, closed, or about to be re-planned)."""
    return [Cancel(REMIND, {"case": case_id}), Cancel(LEADER, {"case": case_id})]


def replan(config: Config, case: Case) -> Outcome:
    """The steps of a case from its current severity and clock start, replacing any
    planned before (a case opened, its severity rose, it was verified or transferred)."""
    return Outcome(cancel=stop(case.id), schedule=plan(config, case))


def plan(config: Config, case: Case, skip: AbstractSet[str] = frozenset()) -> list[Job]:
    """The steps still to come for an unclaimed case; steps whose message key is in
    `skip` were sent before a restart."""
    minutes = config.escalation.minutes(case.severity)
    if case.status != case_store.PENDING or minutes is None:
        return []
    jobs = []
    for name, step, after in ((REMIND, "remind", minutes[0]), (LEADER, "leader", minutes[1])):
        if step_key(case, step) not in skip:
            data = {"case": case.id, "round": case.escalation_round, "minutes": after}
            jobs.append(Job(name, data, at=case.escalation_base + timedelta(minutes=after)))
    return jobs


def rebuild(config: Config, db: sqlite_utils.Database) -> list[Job]:
    """At start: the steps of every unclaimed case, minus those already sent."""
    cases = case_store.pending_cases(db)
    done = outbox_store.queued_keys(db, [step_key(c, step) for c in cases for step in ("remind", "leader")])
    return [job for case in cases for job in plan(config, case, skip=done)]


def _current(db: sqlite_utils.Database, job: Job) -> Case | None:
    """The case if this step still applies: unclaimed and in the same round."""
    case = case_store.get_case(db, job.data["case"])
    if case is None or case.status != case_store.PENDING or case.escalation_round != job.data["round"]:
        return None
    return case


class Escalation:
    """The job functions of the two steps."""

    def __init__(self, config: Config, now: Callable[[], datetime]):
        self.config = config
        self.now = now

    def jobs(self) -> dict[str, JobFunc]:
        return {REMIND: self.remind, LEADER: self.tell_leader}

    def remind(self, job: Job, fire_time: datetime) -> Work:
        def txn(db: sqlite_utils.Database) -> Outcome:
            case = _current(db, job)
            if case is None:
                return Outcome()
            key = step_key(case, "remind")
            if outbox_store.is_queued(db, key):
                return Outcome()  # sent before a restart
            text = f"【催办】{case.label} {category_severity(case)}（{case.community}）已超过{duration(job.data['minutes'])}无人认领，请尽快回复“认领 {case.id}”。"
            self._record(db, case, "reminded", f"提醒{case.officer}")
            return Outcome(sends=[Outgoing(text=text, contact=case.officer, urgent=case.severity == "urgent", key=key)])

        return Work.transact(txn)

    def tell_leader(self, job: Job, fire_time: datetime) -> Work:
        def txn(db: sqlite_utils.Database) -> Outcome:
            case = _current(db, job)
            if case is None:
                return Outcome()
            station = self.config.station(case.station)
            urgent = case.severity == "urgent"
            waited = duration(job.data["minutes"])
            private = (
                f"【超时未认领】{case.label} {category_severity(case)}，{case.community}（{case.room}），"
                f"责任民警{case.officer}，已超过{waited}无人认领。"
                f"发送“详情 {case.id}”查看，“转办 {case.id} 姓名”改派。"
            )
            room = f"【超时未认领】{case.label} {category_severity(case)}（{case.community}）已超过{waited}无人认领，请责任民警{case.officer}尽快认领。"
            key = step_key(case, "leader")
            if not outbox_store.is_queued(db, key):
                self._record(db, case, "escalated", f"上报{station.leader}及{station.officers_room}")
            keys = (key, step_key(case, "leader", ":room"))
            return Outcome(sends=leader_and_room(station, case, private, room, keys, urgent=urgent))

        return Work.transact(txn)

    def _record(self, db: sqlite_utils.Database, case: Case, what: str, detail: str) -> None:
        record_system_event(db, case, self.now(), what, detail)
