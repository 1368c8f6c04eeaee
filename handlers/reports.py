"""Residents' messages in police–resident contact groups (SPEC.md "Contact groups").

A flagged message opens a case or joins the room's open case of the same category
from the last 30 minutes; urgent ones get the 110/119/120 reply before anything else;
the reporter is acknowledged once per case and the responsible officer is told
privately. Ordinary chat is classified in memory and forgotten.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Awaitable, Callable

from bot.config import ContactGroup, Officer
from bot.events import Incoming, Outgoing
from handlers.backfill import EXPLICIT_DEFAULT_CATEGORY, backfill, parse_quote
from handlers.base import Services
from handlers.commands_parse import command_word
from handlers.progress import answer_progress, is_progress_query
from handlers.text import clip, local_minute, strip_leading_mentions
from nlp.detection import CATEGORIES, SEVERITIES, Detection
from storage import cases as case_store
from storage.cases import SUSPECTED_RULE, Case

log = logging.getLogger(__name__)

MERGE_WINDOW = timedelta(minutes=30)
EXPLICIT_PREFIXES = ("求助", "报警", "举报")
SEVERITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}
NOTICE_TEXT_LIMIT = 500

URGENT_REPLIES = {
    "110": "情况紧急，请立即拨打110报警！注意自身安全。已同时通知社区民警。",
    "119": "发生火情请立即拨打119！请先撤离到安全地带。已同时通知社区民警。",
    "120": "有人受伤请立即拨打120急救！已同时通知社区民警。",
}
NUMBER_NAMES = {"110": "110报警", "119": "119火警", "120": "120急救"}


def urgent_reply(numbers: tuple[str, ...]) -> str:
    """The emergency reply naming every number that applies (110/119/120 order)."""
    numbers = tuple(n for n in NUMBER_NAMES if n in numbers) or ("110",)
    if len(numbers) == 1:
        return URGENT_REPLIES[numbers[0]]
    lines = f"情况危急，请立即拨打{'、'.join(NUMBER_NAMES[n] for n in numbers)}！"
    safety = "请先撤离到安全地带。" if "119" in numbers else "注意自身安全。"
    return lines + safety + "已同时通知社区民警。"

BARE_REPORT_QUESTION = "请说明发生了什么、在哪里，例如：举报 3栋楼下有人占道摆摊。紧急情况请立即拨打110。"
BARE_REPORT_STRIP = " \t\n：:，,。.！!？?"
OFFICER_IN_GROUP_HINT = "民警命令请私聊我或在派出所工作群发送，例如：{example}。群里发的命令不会执行。"
HELP_TEXT = (
    "需要反映矛盾纠纷或安全隐患，请发送“举报＋情况”，如：举报 小区门口有人占道摆摊，社区民警会收到并联系您。\n"
    "遇到紧急情况请立即拨打110（火警119，急救120），本群助手不能代替报警电话。"
)

CaseHook = Callable[[Case], Awaitable[None]]


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


class ContactGroupReports:
    """Handles every message in a configured contact group."""

    def __init__(self, services: Services, on_case_opened: CaseHook | None = None):
        self.s = services
        self.on_case_opened = on_case_opened

    def handlers(self) -> list["ContactGroupReports"]:
        return [self]

    async def start(self) -> None:
        """Announce cases that were opened but never announced: the process died
        between writing the case and queuing its messages. Keys keep it to once."""
        for case, first in await self.s.db.read(case_store.unannounced_cases):
            log.warning("补发案件 %s 的通知（上次运行在立案后中断）", case.label)
            # A suspected case is made good as what it is: the officer only, no group reply.
            announce = self._announce_suspected if case.status == case_store.UNVERIFIED else self._announce
            await announce(case, first["sender"], datetime.fromisoformat(first["at"]), first["text"])

    def matches(self, msg: Incoming) -> bool:
        return msg.room is not None and self.s.config.group(msg.room) is not None

    async def handle(self, msg: Incoming) -> None:
        config = self.s.config
        group = config.group(msg.room or "")
        assert group is not None
        if is_progress_query(msg):
            await answer_progress(self.s, msg)
            return
        officer = config.officer(msg.sender)
        if officer is not None:
            # Officers' own messages are never reports; but an officer may quote a
            # resident's message the bot missed with "@平安助手 补录".
            if msg.mentions_bot and "补录" in msg.text:
                await self._backfill_in_group(msg, group, officer)
            elif (word := command_word(msg.text)) is not None and word != "进度":
                # Not silently dropped: the officer learns where commands work.
                example = clip(" ".join(strip_leading_mentions(msg.text).split()), 20)
                await self.s.send(Outgoing(text=OFFICER_IN_GROUP_HINT.format(example=example), contact=officer.name))
            return
        if not await self.report(msg, group) and msg.mentions_bot:
            await self.s.send(Outgoing(text=HELP_TEXT, room=msg.room, mentions=(msg.sender,)))

    async def report(self, msg: Incoming, group: ContactGroup) -> bool:
        """Judge a non-officer's message in `group`'s room; if it is a report, reply
        to an urgent one at once and open or join its case. True when it was a report.

        Guard-post rooms use this too (SPEC.md "Reports in guard-post groups"), with
        the school as the group and its supervising officer as the officer."""
        text = strip_leading_mentions(msg.text) if msg.mentions_bot else msg.text
        if text.strip(BARE_REPORT_STRIP) in EXPLICIT_PREFIXES:
            # A bare 举报: ask what happened rather than open an empty case.
            await self.s.send(_reply_to(msg, BARE_REPORT_QUESTION))
            return True
        report = judge(text, self.s.detector.detect(text))
        if report is None:
            return False
        if report.severity == "urgent":
            # Life at risk: tell them to call the emergency line before anything else.
            await self.s.send(_reply_to(msg, urgent_reply(report.numbers), urgent=True))
        await self._record(msg, text, group, report)
        return True

    async def _backfill_in_group(self, msg: Incoming, group: ContactGroup, officer: Officer) -> None:
        quote = parse_quote(msg.text)
        if quote is not None:
            text, reporter = quote.text, quote.sender
        else:
            text, reporter = strip_leading_mentions(msg.text).partition("补录")[2].strip(), officer.name
        if not text:
            reply = "请引用居民的那条消息再发“@平安助手 补录”，或私聊发送：补录 群名或社区 情况内容"
        else:
            case, reply = await backfill(self.s, officer, group, text, reporter, msg.at)
            if self.on_case_opened is not None:
                await self.on_case_opened(case)
        # The reply goes privately: the group is not the place for case details.
        await self.s.send(Outgoing(text=reply, contact=officer.name))

    async def _record(self, msg: Incoming, text: str, group: ContactGroup, report: Report) -> None:
        at = msg.at

        def open_or_join(db) -> tuple[Case, bool, str]:
            existing = case_store.find_mergeable(db, group.room, report.category, at - MERGE_WINDOW)
            if existing is not None:
                severity = max(existing.severity, report.severity, key=SEVERITY_RANK.__getitem__)
                joined = case_store.join_case(db, existing, at=at, sender=msg.sender, text=text, keywords=report.keywords, severity=severity)
                if joined.status == case_store.UNVERIFIED and not report.suspected:
                    # The lexicon (or an explicit 举报) confirms what the model suspected:
                    # from now on it is an ordinary case, announced as one.
                    return case_store.verify(db, joined.id, "系统", at, "词库确认"), True, existing.severity
                return joined, False, existing.severity
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
            )
            return case, True, case.severity

        case, opened, previous_severity = await self.s.db.write(open_or_join)
        if not opened:
            log.info("消息并入案件 %s（第%d条）", case.label, case.message_count)
            if case.severity != previous_severity and self.on_case_opened is not None:
                await self.on_case_opened(case)  # a higher severity escalates sooner
            if case.severity == "urgent" and previous_severity != "urgent":
                # Joining is silent, except when life is now at risk: page the officer again.
                await self.s.send(self._officer_notice(case, msg.sender, msg.at, text, upgraded=True))
            if report.explicit and msg.sender != case.reporter and case.status != case_store.UNVERIFIED:
                # Another resident who says 举报 is told it is registered too (keyed: once each).
                await self.s.send(ack_message(case, msg.sender, self.s.config.bot.name, privately=msg.room is None, joined=True))
            return
        if case.status == case_store.UNVERIFIED:
            log.info("疑似案件 %s：%s，%s", case.label, case.category, group.room)
            await self._announce_suspected(case, msg.sender, at, text)
            return
        log.info("新案件 %s：%s/%s，%s", case.label, case.category, case.severity, group.room)
        await self._announce(case, msg.sender, at, text, privately=msg.room is None)

    async def _announce_suspected(self, case: Case, reporter: str, at: datetime, text: str) -> None:
        """A suspected report: only the officer hears of it, marked 疑似, with why.
        No group reply: the model may be wrong, and a wrong 收到 confuses residents."""
        await self.s.send(self._officer_notice(case, reporter, at, text, suspected=True))
        await self.s.db.write(lambda db: case_store.add_event(db, case.id, at, "notified", case.officer, "私信通知责任民警（疑似）"))

    async def _announce(self, case: Case, reporter: str, at: datetime, text: str, privately: bool = False) -> None:
        """The once-per-case acknowledgement (in the group, or privately to a resident
        who wrote privately: the group need not know who reported) and the
        officer's private notice. Keyed, so announcing again after a crash sends
        nothing twice."""
        if privately or self.s.config.bot.ack_in_group:
            await self.s.send(ack_message(case, reporter, self.s.config.bot.name, privately=privately))
        await self.s.send(self._officer_notice(case, reporter, at, text))
        await self.s.db.write(lambda db: case_store.add_event(db, case.id, at, "notified", case.officer, "私信通知责任民警"))
        if self.on_case_opened is not None:
            await self.on_case_opened(case)

    def _officer_notice(self, case: Case, reporter: str, at: datetime, text: str, upgraded: bool = False, suspected: bool = False) -> Outgoing:
        title = "【案件升级为紧急】" if upgraded else "【疑似警情·待核实】" if suspected else "【新警情】"
        lines = [
            f"{title}{case.label} {CATEGORIES.get(case.category, case.category)} · {SEVERITIES.get(case.severity, case.severity)}",
            f"社区：{case.community}（{case.room}）",
            f"报告人：{reporter}",
            f"时间：{local_minute(at)}",
            f"原文：{clip(text, NOTICE_TEXT_LIMIT)}",
        ]
        if suspected:
            lines.append(f"疑似依据（模型特征）：{'、'.join(case.keywords) or '无'}")
            lines.append(f"词库未确认，未在群内回复。属实请回复“核实 {case.id}”，不属实请回复“误报 {case.id}”。")
            return Outgoing(text="\n".join(lines), contact=case.officer, key=f"case:{case.id}:suspected")
        if case.keywords:
            label = "疑似依据（模型特征）" if SUSPECTED_RULE in case.rules else "关键词"
            lines.append(f"{label}：{'、'.join(case.keywords)}")
        if case.explicit and not case.keywords:
            lines.append("依据：群众主动举报/求助")
        lines.append(f"回复“认领 {case.id}”认领。")
        return Outgoing(text="\n".join(lines), contact=case.officer, urgent=case.severity == "urgent", key=f"case:{case.id}:notice" + (":urgent" if upgraded else ""))


def _reply_to(msg: Incoming, text: str, urgent: bool = False) -> Outgoing:
    """A reply where the message came from: the room (@-mentioning the sender) or privately."""
    if msg.room is None:
        return Outgoing(text=text, contact=msg.sender, urgent=urgent)
    return Outgoing(text=text, room=msg.room, mentions=(msg.sender,), urgent=urgent)


def ack_message(case: Case, reporter: str, bot_name: str, *, privately: bool = False, joined: bool = False) -> Outgoing:
    """The acknowledgement of a registered case: in its room @-mentioning the
    reporter, or `privately`. Never repeats the report: the group is not the
    place for its details. `joined`: for a further resident whose explicit report
    joined the case (keyed per resident, not queued as urgent)."""
    text = (
        f"收到，已登记为{case.label}并转告社区民警{case.officer}，民警会尽快联系您。"
        f"可发送“@{bot_name} 进度 {case.id}”查询进展。"
    )
    key = f"case:{case.id}:ack:{reporter}" if joined else f"case:{case.id}:ack"
    urgent = case.severity == "urgent" and not joined
    if privately:
        return Outgoing(text=text, contact=reporter, urgent=urgent, key=key)
    return Outgoing(text=text, room=case.room, mentions=(reporter,), urgent=urgent, key=key)
