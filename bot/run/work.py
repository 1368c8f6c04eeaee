"""Carrying out what features return (bot/feature.py): one transaction per event.

For a message or a scheduled job: the urgent replies go first (the outbox sends them
from memory if the database refuses them), then the work's transaction and the outbox
rows of the messages it decided on are committed together, then the outbox is woken
and the job changes applied. When the database refuses the write nothing at all was
stored, so the caller keeps the work and does it again later, whole; the urgent
replies it already sent are not sent twice (`Attempt.urgent_sent`).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from bot.clock import Clock
from bot.events import Incoming
from bot.feature import Handler, Outcome, Work
from bot.outbox import Outbox
from bot.scheduler import Scheduler
from storage import outbox as outbox_store
from storage.db import Database, is_storage_failure

log = logging.getLogger(__name__)


@dataclass(eq=False)
class Attempt:
    """One incoming message on its way through, remembered across retries."""

    msg: Incoming
    handler: Handler[Any]
    match: Any
    tries: int = 0
    urgent_sent: bool = False


class WorkRunner:
    def __init__(self, db: Database, outbox: Outbox, scheduler: Scheduler, clock: Clock):
        self.db = db
        self.outbox = outbox
        self.scheduler = scheduler
        self.clock = clock

    async def carry_out(self, work: Work, attempt: Attempt | None = None) -> bool:
        """Do the work; False when the database refused the write and nothing was
        stored (do it again later). Other errors propagate: they are bugs."""
        if attempt is None or not attempt.urgent_sent:
            try:
                for msg in work.urgent:
                    await self.outbox.put(msg)
            except Exception as exc:
                if is_storage_failure(exc):
                    return False  # not even memory would take it: all of it again later
                raise
            if attempt is not None:
                attempt.urgent_sent = True
        try:
            outcome = await self._commit(work)
        except Exception as exc:
            if is_storage_failure(exc):
                return False
            raise
        for cancel in outcome.cancel:
            self.scheduler.cancel(cancel.name, cancel.where)
        for job in outcome.schedule:
            self.scheduler.add(job)
        return True

    async def _commit(self, work: Work) -> Outcome:
        now = self.clock.now()
        queued: list[bool] = []

        def enqueue(db: sqlite_utils.Database, outcome: Outcome) -> None:
            for msg in outcome.sends:
                if outbox_store.enqueue(db, msg, now):
                    queued.append(msg.urgent)

        outcome = Outcome()
        outcome += work.outcome
        if work.transaction is not None and work.read_only:
            # A query: read on the reader thread; only its replies are written.
            outcome += await self.db.read(work.transaction)
            if outcome.sends:
                await self.db.write(lambda db: enqueue(db, outcome))
        elif work.transaction is not None:

            transaction = work.transaction

            def commit(db: sqlite_utils.Database) -> Outcome:
                # A fresh Outcome each try: a retried commit must not add twice.
                decided = Outcome()
                decided += work.outcome
                decided += transaction(db)
                enqueue(db, decided)
                return decided

            outcome = await self.db.write(commit)
        elif outcome.sends:
            await self.db.write(lambda db: enqueue(db, outcome))
        if queued:
            self.outbox.wake(urgent=any(queued))
        return outcome
