"""The monthly briefing (每月通报, SPEC.md "Monthly briefing").

On `briefing.day` at `briefing.at` each station's officers' room gets the previous
month's figures as text, a chart (PNG) and the month's ledger (XLSX). One job per
station (`cases.briefing`, data: the station's id), a monthly cron rebuilt at start.

The figures are frozen in the same transaction that queues the messages
(storage/months.py): the month is then reported as sent, and what changes it later
(反弹, 改类, 误报) is reported in the next briefing as a correction to it. Whatever
such corrections have piled up for earlier months go out with this briefing.

Restarts: a frozen month is never briefed twice, and the messages carry outbox keys.
A briefing missed while the bot was down goes out when it starts again within
CATCH_UP — if the bot was running before that month ended: a new database does not
brief a month it never saw.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlite_utils
from apscheduler.triggers.cron import CronTrigger

from bot.config import Station
from bot.events import Outgoing
from bot.feature import Job, JobFunc, Outcome, Services, Work
from handlers.cases import briefing_files as files
from handlers.cases import figures
from handlers.cases.month_text import briefing_text
from storage import corrections, months
from storage.outbox import any_queued_before
from storage.stats import month_bounds, month_label, previous_month

log = logging.getLogger(__name__)

BRIEFING = "cases.briefing"
CATCH_UP = timedelta(days=7)  # a briefing missed by a stopped bot still goes out this long after
ON_TIME = timedelta(minutes=30)  # later than this, the catch-up rule above applies


class Briefings:
    def __init__(self, services: Services):
        self.services = services

    def jobs(self) -> dict[str, JobFunc]:
        return {BRIEFING: self.brief}

    def schedule(self) -> list[Job]:
        config = self.services.config
        at = config.briefing.at
        return [
            Job(
                BRIEFING,
                {"station": station.id},
                trigger=CronTrigger(day=config.briefing.day, hour=at.hour, minute=at.minute, timezone=config.bot.tz),
                catch_up=CATCH_UP,
            )
            for station in config.stations
        ]

    def brief(self, job: Job, fire_time: datetime) -> Work:
        config = self.services.config
        station = next((s for s in config.stations if s.id == job.data["station"]), None)
        if station is None:
            return Work()
        year, month = previous_month(fire_time.astimezone(config.bot.tz).date())
        late = self.services.clock.now() - fire_time > ON_TIME

        def transaction(db: sqlite_utils.Database) -> Outcome:
            label = month_label(year, month)
            if months.is_frozen(db, station.id, label):
                return Outcome()  # sent before a restart
            if late and not any_queued_before(db, month_bounds(year, month, config.bot.tz)[1]):
                log.info("%s %s 通报：机器人当月未运行，不补发", station.name, label)
                return Outcome()
            return self._brief(db, station, year, month)

        return Work.transact(transaction)

    def _brief(self, db: sqlite_utils.Database, station: Station, year: int, month: int) -> Outcome:
        config, now = self.services.config, self.services.clock.now()
        tz = config.bot.tz
        label = month_label(year, month)
        facts = figures.live_facts(db, config, station.id, year, month)
        result = figures.live(db, config, station.id, year, month, now, facts)
        corrected = months.months_to_correct(db, station.id)
        months.freeze(db, station.id, result, facts, now)
        corrections.mark_reported(db, [c.id for m in corrected for c in m.unreported], label)

        school_names = {s.id: s.name for s in config.schools}
        attachments: dict[str, str] = {}  # what it is -> its file
        if result.received or result.false_positives:
            folder = files.month_folder(self.services.files_dir, label)
            chart = files.write_chart(folder, station.name, result, school_names)
            ledger = files.write_ledger(folder, db, station.id, {s.id: s.name for s in config.stations}, result, tz)
            attachments = {what: str(path) for what, path in (("统计图", chart), ("本月台账（Excel）", ledger)) if path is not None}
        text = briefing_text(station.name, result, school_names, corrected, tz, attached=list(attachments))
        key = f"briefing:{station.id}:{label}"
        sends = [Outgoing(text=text, room=station.officers_room, key=f"{key}:text")]
        sends += [Outgoing(file=path, room=station.officers_room, key=f"{key}:file{i}") for i, path in enumerate(attachments.values(), 1)]
        log.info("%s %s 通报已生成（%d个附件，更正%d个月）", station.name, label, len(attachments), len(corrected))
        return Outcome(sends=sends)
