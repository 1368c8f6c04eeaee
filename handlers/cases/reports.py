"""Residents' messages in police–resident contact groups (SPEC.md "Contact groups").

A flagged message opens a case or joins the room's open case of the same category
from the last 30 minutes; urgent ones get the 110/119/120 reply before anything else;
the reporter is acknowledged once per case and the responsible officer is told
privately. Ordinary chat is classified in memory and forgotten.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

import sqlite_utils

from bot.config import ContactGroup, Officer
from bot.events import Incoming, Outgoing
from bot.feature import NOTHING, Outcome, Services, Work
from handlers.cases import escalation
from handlers.cases.backfill import EXPLICIT_DEFAULT_CATEGORY, open_backfill, parse_quote
from handlers.cases.commands import command_word
from handlers.cases.notices import ack_message, officer_notice, reply_to, urgent_reply
from handlers.cases.progress import answer_progress, is_progress_query
from handlers.text import clip, strip_leading_mentions
from nlp.detection import SEVERITY_RANK, Detection
from storage import cases as case_store
from storage.cases import SUSPECTED_RULE, Case

log = logging.getLogger(__name__)

MERGE_WINDOW = timedelta(minutes=30)
EXPLICIT_PREFIXES = ("求助", "报警", "举报")
BARE_REPORT_QUESTION = "请说明发生了什么、在哪里，例如：举报 3栋楼下有人占道摆摊。紧急情况请立即拨打110。"
BARE_REPORT_STRIP = " \t\n：:，,。.！!？?"
OFFICER_IN_GROUP_HINT = "民警命令请私聊我或在派出所工作群发送，例如：{example}。群里发的命令不会执行。"
HELP_TEXT = (
    "需要反映矛盾纠纷或安全隐患，请发送“举报＋情况”，如：举报 小区门口有人占道摆摊，社区民警会收到并联系您。\n"
    "遇到紧急情况请立即拨打110（火警119，急救120），本群助手不能代替报警电话。"
)


@dataclass(frozen=True)
class Report:
    """A message judged worth a case: the detector's verdict or an explicit 举报."""

    category: str
    severity: str
    keywords: tuple[str, ...]
    rules: tuple[str, ...]
    numbers: tuple[str, ...]
    explicit: bool
    suspected: bool = False  # the learned model alone: opens as 待核实, no group reply


def judge(text: str, detection: Detection) -> Report | None:
    """Decide whether a (mention-stripped) message opens or joins a case."""
    explicit = next((p for p in EXPLICIT_PREFIXES if text.startswith(p)), None)
    numbers = detection.reply_numbers
    if detection.flagged:
        # A resident who says 举报 means it: an explicit report is never merely suspected.
        suspected = detection.suspected and explicit is None
        rules = detection.rules + ((f"explicit:{explicit}",) if explicit else ()) + ((SUSPECTED_RULE,) if suspected else ())
        category = detection.category or EXPLICIT_DEFAULT_CATEGORY
        # A suspected verdict's "keywords" are model n-grams: not words to show as 关键词.
        keywords = () if detection.suspected and not suspected else detection.keywords
        return Report(category, detection.severity or "normal", keywords, rules, numbers, explicit is not None, suspected)
    if explicit:
        return Report(EXPLICIT_DEFAULT_CATEGORY, "normal", (), (f"explicit:{explicit}",), (), True)
    return None


def is_bare_report(text: str) -> bool:
    """举报 with nothing after it: ask what happened rather than open an empty case."""
    return text.strip(BARE_REPORT_STRIP) in EXPLICIT_PREFIXES


@dataclass(frozen=True)
class InGroup:
    """A message in a contact group, and what kind of message it is."""

    group: ContactGroup
    officer: Officer | None  # the sender, when an officer
    progress: bool  # 进度 N: a reporter asks about their case


class ContactGroupReports:
    """Every message in a configured contact group."""

    def __init__(self, services: Services):
        self.services = services

    def match(self, msg: Incoming) -> InGroup | None:
        config = self.services.config
        group = config.group(msg.room) if msg.room is not None else None
        if group is None:
            return None
        officer = self.services.people.officer(msg)
        progress = is_progress_query(msg)
        if officer is not None and not progress and not _officer_business(msg):
            return None  # officers talking in the group: not ours
        return InGroup(group, officer, progress)

    def handle(self, msg: Incoming, match: InGroup) -> Work:
        if match.progress:
            return answer_progress(self.services, msg)
        if match.officer is not None:
            # Officers' own messages are never reports; but an officer may quote a
            # resident's message the bot missed with "@平安助手 补录".
            if msg.mentions_bot and "补录" in msg.text:
                return self._backfill_in_group(msg, match.group, match.officer)
            # Not silently dropped: the officer learns where commands work.
            example = clip(" ".join(strip_leading_mentions(msg.text).split()), 20)
            return Work.send(Outgoing(text=OFFICER_IN_GROUP_HINT.format(example=example), contact=match.officer.name))
        work = report_work(self.services, msg, match.group)
        if work is None and msg.mentions_bot:
            return Work.send(reply_to(msg, HELP_TEXT))
        return work or NOTHING

    def _backfill_in_group(self, msg: Incoming, group: ContactGroup, officer: Officer) -> Work:
        quote = parse_quote(msg.text)
        if quote is not None:
            text, reporter = quote.text, quote.sender
        else:
            text, reporter = strip_leading_mentions(msg.text).partition("补录")[2].strip(), officer.name

        def privately(reply: str) -> Outgoing:
            # The reply goes privately: the group is not the place for case details.
            return Outgoing(text=reply, contact=officer.name)

        if not text:
            return Work.send(privately("请引用居民的那条消息再发“@平安助手 补录”，或私聊发送：补录 群名或社区 情况内容"))
        return open_backfill(self.services, officer, group, text, reporter, msg.at, reply=privately)


def _officer_business(msg: Incoming) -> bool:
    """An officer's group message the bot acts on: a 补录 or a misplaced command."""
    if msg.mentions_bot and "补录" in msg.text:
        return True
    word = command_word(msg.text)
    return word is not None and word != "进度"


def report_work(services: Services, msg: Incoming, group: ContactGroup) -> Work | None:
    """Judge a non-officer's message in `group`'s room; if it is a report, the Work
    that replies to an urgent one at once and opens or joins its case; None when it
    is not a report.

    Guard-post rooms use this too (SPEC.md "Reports in guard-post groups"), with
    the school as the group and its supervising officer as the officer."""
    text = strip_leading_mentions(msg.text) if msg.mentions_bot else msg.text
    if is_bare_report(text):
        return Work.send(reply_to(msg, BARE_REPORT_QUESTION))
    report = judge(text, services.detector.detect(text))
    if report is None:
        return None
    # Life at risk: tell them to call the emergency line before anything else.
    urgent = (reply_to(msg, urgent_reply(report.numbers), urgent=True),) if report.severity == "urgent" else ()
    return Work(urgent=urgent, transaction=lambda db: _record(services, db, msg, text, group, report))


def _record(services: Services, db: sqlite_utils.Database, msg: Incoming, text: str, group: ContactGroup, report: Report) -> Outcome:
    """Open a case or join the room's open case of the same category from the last
    30 minutes, and decide who hears of it: all in the one transaction."""
    at, config = msg.at, services.config
    existing = case_store.find_mergeable(db, group.room, msg.room_id, report.category, at - MERGE_WINDOW)
    if existing is not None:
        severity = max(existing.severity, report.severity, key=SEVERITY_RANK.__getitem__)
        case = case_store.join_case(db, existing, at=at, sender=msg.sender, text=text, keywords=report.keywords, severity=severity)
        if case.status != case_store.UNVERIFIED or report.suspected:
            return _joined(config, msg, text, case, existing.severity, report)
        # The lexicon (or an explicit 举报) confirms what the model suspected: from
        # now on it is an ordinary case, announced as one.
        case = case_store.verify(db, case.id, "系统", at, "词库确认")
    else:
        case = case_store.open_case(
            db,
            at=at,
            room=group.room,
            community=group.community,
            station=group.station,
            officer=group.officer,
            category=report.category,
            severity=report.severity,
            reporter=msg.sender,
            text=text,
            keywords=report.keywords,
            rules=report.rules,
            explicit=report.explicit,
            status=case_store.UNVERIFIED if report.suspected else case_store.PENDING,
            room_id=msg.room_id,
        )
    if case.status == case_store.UNVERIFIED:
        # Only the officer hears of a suspected report, marked 疑似, with why. No group
        # reply: the model may be wrong, and a wrong 收到 confuses residents.
        log.info("疑似案件 %s：%s，%s", case.label, case.category, group.room)
        case_store.add_event(db, case.id, at, "notified", case.officer, "私信通知责任民警（疑似）")
        return Outcome(sends=[officer_notice(case, msg.sender, at, text, suspected=True)])
    log.info("新案件 %s：%s/%s，%s", case.label, case.category, case.severity, group.room)
    # The once-per-case acknowledgement (in the group, or privately to a resident who
    # wrote privately: the group need not know who reported) and the officer's notice.
    privately = msg.room is None
    sends = [ack_message(case, msg.sender, config.bot.name, privately=privately, reporter_id=msg.sender_id)] if privately or config.bot.ack_in_group else []
    sends.append(officer_notice(case, msg.sender, at, text))
    case_store.add_event(db, case.id, at, "notified", case.officer, "私信通知责任民警")
    announced = Outcome(sends=sends)
    announced += escalation.replan(config, case)
    return announced


def _joined(config, msg: Incoming, text: str, case: Case, previous_severity: str, report: Report) -> Outcome:
    """A message joined an open case: silent, except as below."""
    log.info("消息并入案件 %s（第%d条）", case.label, case.message_count)
    out = Outcome()
    if case.severity != previous_severity:
        out += escalation.replan(config, case)  # a higher severity escalates sooner
    if case.severity == "urgent" and previous_severity != "urgent":
        # Life is now at risk: page the officer again.
        out.sends.append(officer_notice(case, msg.sender, msg.at, text, upgraded=True))
    if report.explicit and msg.sender != case.reporter and case.status != case_store.UNVERIFIED:
        # Another resident who says 举报 is told it is registered too (keyed: once each).
        out.sends.append(ack_message(case, msg.sender, config.bot.name, privately=msg.room is None, joined=True, reporter_id=msg.sender_id))
    return out
