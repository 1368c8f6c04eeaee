"""How cases look on an officer's phone: short lines, local times, pages (the
month's figures are month_text.py).

Pure formatting, no I/O: every function takes values and returns text, so the
wording is tested without a database.
"""
from __future__ import annotations

import re
from datetime import datetime, tzinfo

from handlers.text import clip
from nlp.detection import CATEGORIES, SEVERITIES
from storage import cases as case_store
from storage.cases import Case
from storage.followups import FollowUp

SYSTEM = "系统"  # the actor of what the bot itself does to a case
PAGE_CHARS = 700  # one phone screen of Chinese text, roughly
MESSAGE_CHARS = 80  # each message in 详情 is clipped to this

EVENT_LABELS = {
    "opened": "登记",
    "message_joined": "并入消息",
    "notified": "通知民警",
    "reminded": "催办提醒",
    "escalated": "上报所长",
    "claimed": "认领",
    "transferred": "转办",
    "resolved": "办结",
    "followup_reminded": "回访提醒",
    "followup_overdue": "回访逾期上报",
    "followup": "回访",
    "reopened": "反弹重办",
    "archived": "归档",
    "false_positive": "误报",
    "verified": "核实",
    "backfilled": "补录",
    "reclassified": "改类",
}

FOLLOWUP_STATUS = {"pending": "待回访", "done": "已回访", "cancelled": "已取消"}

# What an officer can do next from each state: the second half of every refusal.
NEXT_STEP = {
    case_store.UNVERIFIED: "请先核实：属实发送“核实 {id}”，不属实发送“误报 {id}”。",
    case_store.PENDING: "请先发送“认领 {id}”。",
    case_store.IN_PROGRESS: "办结请发送“办结 {id} 调解成功／调解不成／已处置”。",
    case_store.AWAITING_FOLLOWUP: "回访后请发送“回访 {id} 无反弹”或“回访 {id} 反弹”。",
    case_store.ARCHIVED: "已归档；如纠纷反弹，请发送“回访 {id} 反弹”。",
    case_store.CLOSED: "案件已结束，可发送“详情 {id}”查看。",
    case_store.FALSE_POSITIVE: "案件已结束，可发送“详情 {id}”查看。",
}

# What a reporter may know: the state, never the details.
REPORTER_STATUS = {
    case_store.UNVERIFIED: "已转告社区民警，等待民警核实",
    case_store.PENDING: "已转告社区民警，等待民警受理",
    case_store.IN_PROGRESS: "民警已受理，正在处理",
    case_store.AWAITING_FOLLOWUP: "已调解处理，民警会进行回访",
    case_store.ARCHIVED: "已办结",
    case_store.CLOSED: "已办结",
    case_store.FALSE_POSITIVE: "经民警核实，无需进一步处理",
}

def local(moment: datetime, tz: tzinfo, with_year: bool = False) -> str:
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M" if with_year else "%m-%d %H:%M")


def category_severity(case: Case) -> str:
    """矛盾纠纷·高: category and severity in officers' words."""
    return f"{CATEGORIES.get(case.category, case.category)}·{SEVERITIES.get(case.severity, case.severity)}"


def category_name(category: str) -> str:
    return CATEGORIES.get(category, category)


def duration(minutes: int) -> str:
    if minutes < 60:
        return f"{minutes}分钟"
    hours, rest = divmod(minutes, 60)
    return f"{hours}小时{rest}分钟" if rest else f"{hours}小时"


def wrong_state(case: Case, action: str) -> str:
    return f"{case.label}当前状态为“{case.status}”，不能{action}。{NEXT_STEP[case.status].format(id=case.id)}"


def not_found(case_id: int) -> str:
    return f"没有找到案件#{case_id}，请核对编号。发送“待办”可查看您的案件。"


def case_line(case: Case, tz: tzinfo, show_officer: bool) -> str:
    who = f" {case.officer}" if show_officer else ""
    return f"{case.label} {case.status} {category_severity(case)} {case.community}{who} {local(case.opened_at, tz)}"


def todo_text(title: str, cases: list[Case], total: int, page: int, page_size: int, tz: tzinfo, show_officer: bool) -> str:
    if total == 0:
        return f"{title}：没有未结案件。"
    pages = (total + page_size - 1) // page_size
    if not cases:
        return f"{title}共{total}件，只有{pages}页，请发送“待办”或“待办 {pages}”。"
    header = f"{title}（共{total}件" + (f"，第{page}/{pages}页）：" if pages > 1 else "）：")
    lines = [header, *(case_line(c, tz, show_officer) for c in cases)]
    shown = (page - 1) * page_size + len(cases)
    if shown < total:
        lines.append(f"还有{total - shown}件，发送“待办 {page + 1}”查看下一页。")
    else:
        lines.append("发送“详情 编号”查看案件。")
    return "\n".join(lines)


def detail_pages(case: Case, messages: list[dict], events: list[dict], followups: list[FollowUp], tz: tzinfo) -> list[str]:
    """The case file, split into phone-sized pages; page 1 starts with the summary."""
    lines = [
        f"【案件{case.label}】{category_severity(case)} · {case.status}",
        f"社区：{case.community}（{case.room}）",
        f"报告人：{case.reporter}　责任民警：{case.officer}",
        f"登记：{local(case.opened_at, tz, with_year=True)}",
    ]
    if case.outcome:
        lines.append(f"结果：{case.outcome}" + (f"（{case.outcome_note}）" if case.outcome_note else ""))
    if case.keywords:
        lines.append(f"关键词：{'、'.join(case.keywords)}")
    lines.append(f"— 消息（{len(messages)}条）—")
    for m in messages:
        lines.append(f"{local(datetime.fromisoformat(m['at']), tz)} {m['sender']}：{clip(m['text'], MESSAGE_CHARS)}")
    lines.append(f"— 经过（{len(events)}项）—")
    for e in events:
        detail = f"：{clip(readable(e['detail']), 40)}" if e["detail"] else ""
        lines.append(f"{local(datetime.fromisoformat(e['at']), tz)} {EVENT_LABELS.get(e['kind'], e['kind'])} {e['actor']}{detail}")
    if followups:
        lines.append("— 回访 —")
        rounds = max(f.round for f in followups)  # after 反弹 and a second mediation
        for f in followups:
            state = FOLLOWUP_STATUS.get(f.status, f.status)
            if f.status == "done":
                state = f"{f.result}（{f.actor} {local(f.done_at or f.due_at, tz)}）" + (f" {clip(f.note, 30)}" if f.note else "")
            round_label = f"第{f.round}轮" if rounds > 1 else ""
            lines.append(f"{round_label}第{f.seq}次 {local(f.due_at, tz)} {state}")
    return paginate(lines, PAGE_CHARS)


def readable(detail: str) -> str:
    """Event details store category and severity ids (dispute/high); officers read names."""
    return re.sub(r"[a-z]+", lambda m: CATEGORIES.get(m.group(), SEVERITIES.get(m.group(), m.group())), detail)


def paginate(lines: list[str], limit: int) -> list[str]:
    pages: list[list[str]] = [[]]
    size = 0
    for line in lines:
        if pages[-1] and size + len(line) + 1 > limit:
            pages.append([])
            size = 0
        pages[-1].append(line)
        size += len(line) + 1
    return ["\n".join(p) for p in pages]


def detail_text(case: Case, pages: list[str], page: int) -> str:
    if page > len(pages):
        return f"{case.label}的档案只有{len(pages)}页，请发送“详情 {case.id}”或“详情 {case.id} {len(pages)}”。"
    text = pages[page - 1]
    if len(pages) > 1:
        text = (f"（第{page}/{len(pages)}页）\n" if page > 1 else "") + text
        if page < len(pages):
            text += f"\n（第{page}/{len(pages)}页，发送“详情 {case.id} {page + 1}”看下一页）"
    return text


def summary(case: Case, first_text: str, tz: tzinfo) -> str:
    """The handover note for 转办: enough to act on without opening 详情."""
    return "\n".join(
        [
            f"{case.label} {category_severity(case)} · {case.status}",
            f"社区：{case.community}（{case.room}）",
            f"报告人：{case.reporter}　登记：{local(case.opened_at, tz)}",
            f"原文：{clip(first_text, 120)}",
        ]
    )


def officer_progress(case: Case, tz: tzinfo) -> str:
    claimed = f"，{case.claimed_by}于{local(case.claimed_at, tz)}认领" if case.claimed_at and case.claimed_by else ""
    return f"{case.label} {category_severity(case)}（{case.community}）：{case.status}，责任民警{case.officer}{claimed}。"


def reporter_progress(case: Case) -> str:
    return f"您反映的{case.label}：{REPORTER_STATUS.get(case.status, case.status)}。"
