"""Guard-post groups (护学岗工作群), SPEC.md "Guard-post groups (schools)": the feature.

It wires the pieces: the room handler (到岗, 代班, 值班表, reports, help), the shift
jobs (reminder, chase, officer notice, settling) and the weekly table. At start it
warns about years without holiday data and about short shifts, settles shifts that ended while the
bot was down and schedules the jobs, in one transaction.

Reports made in a school's room belong to the cases family; it is handed in as a
callable (`report`), so the two families never import each other.
"""
from __future__ import annotations

import logging

import sqlite_utils

from bot.config.checks import shift_warnings
from bot.feature import Handler, JobFunc, Outcome, Services, Work
from handlers.guard.attendance import settle_missed
from handlers.guard.calendar import calendar_warnings
from handlers.guard.room import GuardRoom, Report
from handlers.guard.shifts import ShiftJobs
from handlers.guard.table import WeeklyTable

log = logging.getLogger(__name__)


class GuardPosts:
    def __init__(self, services: Services, report: Report | None = None):
        self.services = services
        self.shifts = ShiftJobs(services)
        self.table = WeeklyTable(services)
        self.room = GuardRoom(services, self.table, report)

    def handlers(self) -> list[Handler]:
        return [self.room]

    def jobs(self) -> dict[str, JobFunc]:
        return {**self.shifts.jobs(), **self.table.jobs()}

    def start(self) -> Work:
        config = self.services.config
        today = self.services.clock.now().astimezone(config.bot.tz).date()
        for warning in calendar_warnings(config, today) + shift_warnings(config.schools):
            log.warning(warning)

        def transaction(db: sqlite_utils.Database) -> Outcome:
            settle_missed(db, self.services.config, self.services.clock.now())
            return Outcome(schedule=self.shifts.schedule() + self.table.schedule())

        return Work.transact(transaction)
