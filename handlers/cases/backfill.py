"""补录: an officer opens a case for a report the bot missed (SPEC.md "Contact groups").

Two ways in: `补录 群名或社区 内容` in private chat or the officers' room, and, in the
contact group itself, quoting the resident's message with `@平安助手 补录`. Either
way the case opens as if the message had been flagged, the text is kept as a
missed example for `pingan train`, and the group's officer is told.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Callable

import sqlite_utils

from bot.config import ContactGroup, Officer
from bot.events import Outgoing
from bot.feature import Outcome, Services, Work
from handlers.cases import escalation
from handlers.cases import wording as ct
from storage import cases as case_store

log = logging.getLogger(__name__)

EXPLICIT_DEFAULT_CATEGORY = "security"  # a report the detector cannot place
# How WeChat renders a quoted message in text: 「name：text」, a dashed line, the reply.
_QUOTE = re.compile(r"^\s*「(?P<name>[^：:」\n]{1,32})[：:](?P<body>.+?)」\s*\n\s*(?:-\s*){6,}\n?(?P<reply>.*)$", re.S)


@dataclass(frozen=True)
class Quote:
    sender: str
    text: str
    reply: str


def parse_quote(text: str) -> Quote | None:
    """The quoted message and the reply of a WeChat quote, or None for plain text."""
    m = _QUOTE.match(text)
    if m is None:
        return None
    return Quote(m.group("name").strip(), m.group("body").strip(), m.group("reply").strip())


def open_backfill(
    services: Services, officer: Officer, group: ContactGroup, text: str, reporter: str, at: datetime, reply: Callable[[str], Outgoing]
) -> Work:
    """Open the case and keep the example, in one transaction; tell the group's
    officer when someone else entered it; `reply` words the answer to `officer`.
    The escalation clock starts as for any new case."""
    detection = services.detector.detect(text)
    category = detection.category if detection.flagged and detection.category else EXPLICIT_DEFAULT_CATEGORY
    severity = detection.severity if detection.flagged and detection.severity else "normal"
    # Lexicon words only: a suspected verdict's n-grams are not keywords.
    keywords = detection.keywords if detection.flagged and not detection.suspected else ()

    def txn(db: sqlite_utils.Database) -> Outcome:
        case = case_store.open_case(
            db, at=at, room=group.room, community=group.community, station=group.station, officer=group.officer,
            category=category, severity=severity, reporter=reporter, text=text, keywords=keywords,
            rules=("backfill",), explicit=True,
        )
        case_store.add_event(db, case.id, at, "backfilled", officer.name, "机器人漏报，民警补录")
        case_store.add_event(db, case.id, at, "notified", group.officer, "补录")
        case_store.record_feedback(db, "missed", case, text, at, officer.name)
        log.info("%s 补录案件 %s", officer.name, case.label)
        where = f"{ct.category_severity(case)}，{case.community}"
        kept = "此条已记为漏报样本，用于改进识别。"
        if group.officer != officer.name:
            notice = f"【补录警情】{case.label} {where}\n{officer.name}补录：{ct.clip(text, 500)}\n回复“认领 {case.id}”认领。"
            done = Outcome(sends=[
                Outgoing(text=notice, contact=group.officer, urgent=case.severity == "urgent"),
                reply(f"已补录为{case.label}（{where}），已通知{group.officer}。{kept}"),
            ])
        else:
            done = Outcome(sends=[reply(f"已补录为{case.label}（{where}）。{kept}请回复“认领 {case.id}”认领。")])
        done += escalation.replan(services.config, case)
        return done

    return Work.transact(txn)
