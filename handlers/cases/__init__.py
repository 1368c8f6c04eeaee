"""Cases: residents' reports, officers' commands, escalation and follow-ups (SPEC.md
"Contact groups", "Private messages from residents", "Officer commands",
"Escalation", "Follow-ups", "Monthly briefing"). Builds itself; knows nothing of the
guard posts (it reads their attendance records through storage).
"""
from __future__ import annotations

from typing import Any

import sqlite_utils

from bot.config import ContactGroup
from bot.events import Incoming
from bot.feature import Handler, JobFunc, Outcome, Services, Work
from handlers.cases import escalation, followups
from handlers.cases.briefing import Briefings
from handlers.cases.officers import OfficerCommands
from handlers.cases.private import PrivateReports
from handlers.cases.reports import ContactGroupReports, report_work


class Cases:
    def __init__(self, services: Services):
        self.services = services
        now = services.clock.now
        self._escalation = escalation.Escalation(services.config, now)
        self._followups = followups.Followups(services.config, now)
        self._briefings = Briefings(services)

    def handlers(self) -> list[Handler[Any]]:
        return [ContactGroupReports(self.services), PrivateReports(self.services), OfficerCommands(self.services)]

    def jobs(self) -> dict[str, JobFunc]:
        return {**self._escalation.jobs(), **self._followups.jobs(), **self._briefings.jobs()}

    def start(self) -> Work:
        """Rebuild the escalation and follow-up jobs from the database, and the
        monthly briefings from the config."""
        config = self.services.config
        briefings = self._briefings.schedule()

        def rebuild(db: sqlite_utils.Database) -> Outcome:
            return Outcome(schedule=escalation.rebuild(config, db) + followups.rebuild(config, db) + briefings)

        return Work.query(rebuild)

    def report_in_room(self, msg: Incoming, place: ContactGroup) -> Work | None:
        """A report made in another feature's room (a school's guard-post group), for
        `place`'s officer; None when the message is not a report."""
        return report_work(self.services, msg, place)
