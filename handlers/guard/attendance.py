"""Settling attendance when a shift ends: who was on time, late, missed or helped.

Run by the shift's close job and, at start, for every shift that ended while the bot
was down. Both run inside a transaction and only write guard-post records.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

import sqlite_utils

from bot.config import Config
from handlers.guard.roster import ShiftDay, on_duty, shift_days
from storage import guard_posts as store
from storage.outbox import queued_keys

log = logging.getLogger(__name__)

SETTLE_LOOKBACK = timedelta(days=400)  # oldest unsettled shift a restart will settle
# The messages that prove the bot was up during a shift (their outbox keys).
_ASKED = ("remind", "chase", "officer")


def settle(db: sqlite_utils.Database, sd: ShiftDay, now: datetime) -> bool:
    """Write the shift's attendance from the roster as it stands at its end; False
    when it was settled before."""
    # Evidence the bot was up during the shift: without it a missing check-in is
    # "unrecorded", not "missed" — nobody was asked.
    running = bool(queued_keys(db, [sd.key(m) for m in _ASKED])) or bool(store.checkins(db, sd.school.id, sd.shift.name, sd.day))
    return store.close_shift_day(
        db,
        school=sd.school.id,
        shift=sd.shift.name,
        day=sd.day,
        on_duty=on_duty(db, sd),
        on_time_until=sd.on_time_until,
        bot_was_running=running,
        now=now,
    )


def settle_missed(db: sqlite_utils.Database, config: Config, now: datetime) -> int:
    """At start: settle every shift that ended while the bot was down. Starts after
    the last settled date (or the first check-in or swap of a new database)."""
    tz = config.bot.tz
    today = now.astimezone(tz).date()
    settled = 0
    for school in config.schools:
        for shift in school.shifts:
            last = store.last_closed_day(db, school.id, shift.name)
            if last is None:
                # First start for this shift: settle from today (or the first check-in
                # or swap on record), and leave a mark so that the next start, however
                # late, settles from here.
                first = min(store.first_activity_day(db, school.id, shift.name) or today, today)
                store.mark_settled_before(db, school.id, shift.name, first, now)
            else:
                first = last + timedelta(days=1)
            day = max(first, today - SETTLE_LOOKBACK)
            while day <= today:
                for sd in shift_days(school, day, tz):
                    if sd.shift.name == shift.name and sd.end <= now and settle(db, sd, now):
                        settled += 1
                day += timedelta(days=1)
    if settled:
        log.info("补记了 %d 个已结束班次的出勤", settled)
    return settled
