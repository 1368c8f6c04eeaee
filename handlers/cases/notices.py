"""The messages a case sends: the emergency reply, the acknowledgement, the officer's
notice, the leader-and-room report. Pure: values in, `Outgoing` out (plus one helper
that records a system event, so every job words its log line the same way).
"""
from __future__ import annotations

import logging
from datetime import datetime

import sqlite_utils

from bot.config import Station
from bot.events import Incoming, Outgoing
from handlers.cases.wording import SYSTEM
from handlers.text import clip, minute_text
from nlp.detection import CATEGORIES, SEVERITIES
from storage import cases as case_store
from storage.cases import SUSPECTED_RULE, Case

log = logging.getLogger(__name__)

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


def reply_to(msg: Incoming, text: str, urgent: bool = False) -> Outgoing:
    """A reply where the message came from — that room or contact id, not whoever
    has its name — @-mentioning the sender in a room."""
    if msg.room is None:
        return Outgoing(text=text, contact=msg.sender, contact_id=msg.sender_id, urgent=urgent)
    return Outgoing(text=text, room=msg.room, room_id=msg.room_id, mentions=(msg.sender,), urgent=urgent)


def ack_message(case: Case, reporter: str, bot_name: str, *, privately: bool = False, joined: bool = False,
                reporter_id: str | None = None) -> Outgoing:
    """The acknowledgement of a registered case: in its room @-mentioning the
    reporter, or `privately` (to `reporter_id`, the id that wrote: not whoever else
    shows that name). Never repeats the report: the group is not the place for its
    details. `joined`: for a further resident whose explicit report joined the case
    (keyed per resident, not queued as urgent)."""
    text = (
        f"收到，已登记为{case.label}并转告社区民警{case.officer}，民警会尽快联系您。"
        f"可发送“@{bot_name} 进度 {case.id}”查询进展。"
    )
    key = f"case:{case.id}:ack:{reporter}" if joined else f"case:{case.id}:ack"
    urgent = case.severity == "urgent" and not joined
    if privately:
        return Outgoing(text=text, contact=reporter, contact_id=reporter_id, urgent=urgent, key=key)
    return Outgoing(text=text, room=case.room, room_id=case.room_id, mentions=(reporter,), urgent=urgent, key=key)


def officer_notice(case: Case, reporter: str, at: datetime, text: str, *, upgraded: bool = False, suspected: bool = False) -> Outgoing:
    """The responsible officer's private notice of a new (or now urgent, or suspected) case."""
    title = "【案件升级为紧急】" if upgraded else "【疑似警情·待核实】" if suspected else "【新警情】"
    headline = f"{title}{case.label} {CATEGORIES.get(case.category, case.category)} · {SEVERITIES.get(case.severity, case.severity)}"
    # For the officers' room while the officer has not bound their WeChat id: what
    # happened where, never who reported it or what they wrote.
    redacted = (
        f"{headline}（{case.community}）\n责任民警{case.officer}尚未绑定微信，报告人和原文不在群内显示。"
        f"请{case.officer}私聊本助手发送“绑定 验证码”，绑定后发送“详情 {case.id}”查看。"
    )
    lines = [
        headline,
        f"社区：{case.community}（{case.room}）",
        f"报告人：{reporter}",
        f"时间：{minute_text(at)}",
        f"原文：{clip(text, NOTICE_TEXT_LIMIT)}",
    ]
    if suspected:
        lines.append(f"疑似依据（模型特征）：{'、'.join(case.keywords) or '无'}")
        lines.append(f"词库未确认，未在群内回复。属实请回复“核实 {case.id}”，不属实请回复“误报 {case.id}”。")
        return Outgoing(text="\n".join(lines), contact=case.officer, key=f"case:{case.id}:suspected", redacted=redacted)
    if case.keywords:
        label = "疑似依据（模型特征）" if SUSPECTED_RULE in case.rules else "关键词"
        lines.append(f"{label}：{'、'.join(case.keywords)}")
    if case.explicit and not case.keywords:
        lines.append("依据：群众主动举报/求助")
    lines.append(f"回复“认领 {case.id}”认领。")
    key = f"case:{case.id}:notice" + (":urgent" if upgraded else "")
    return Outgoing(text="\n".join(lines), contact=case.officer, urgent=case.severity == "urgent", key=key, redacted=redacted)


def leader_and_room(station: Station, case: Case, private: str, room: str, keys: tuple[str, str], *, urgent: bool = False) -> list[Outgoing]:
    """An overdue step reported to the station leader privately and to the officers'
    room, @-mentioning the responsible officer (escalation, overdue follow-ups)."""
    return [
        Outgoing(text=private, contact=station.leader, urgent=urgent, key=keys[0]),
        Outgoing(text=room, room=station.officers_room, mentions=(case.officer,), urgent=urgent, key=keys[1]),
    ]


def record_system_event(db: sqlite_utils.Database, case: Case, at: datetime, what: str, detail: str) -> None:
    """An event the bot itself did to a case (a reminder, a report to the leader)."""
    case_store.add_event(db, case.id, at, what, SYSTEM, detail)
    log.info("案件 %s：%s", case.label, detail)
