"""One case's file: its facts, every message, every event with who and when, and its
follow-ups, as one timeline in time order. Another station's case is refused
without a word of its contents."""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils
from aiohttp import web

from bot.web.access import login_required, may_see, viewer_of
from bot.web.deps import deps
from bot.web.render import error_page, page
from nlp.detection import CATEGORIES, SEVERITIES
from storage import followups as followup_store
from storage.cases import Case, case_events, case_messages, get_case

FOLLOWUP_STATUS = {"pending": "待回访", "done": "已回访", "cancelled": "已取消"}


@dataclass(frozen=True)
class Entry:
    """One line of the timeline."""

    at: datetime
    kind: str  # message | event | followup: how the page styles it
    label: str
    actor: str
    text: str
    keywords: tuple[str, ...] = ()


def readable(detail: str) -> str:
    """Event details store category and severity ids (dispute/high); people read names."""
    return re.sub(r"[a-z]+", lambda m: CATEGORIES.get(m.group(), SEVERITIES.get(m.group(), m.group())), detail)


def _file(db: sqlite_utils.Database, case_id: int) -> tuple[Case | None, list[dict], list[dict], list]:
    case = get_case(db, case_id)
    if case is None:
        return None, [], [], []
    return case, case_messages(db, case_id), case_events(db, case_id), followup_store.for_case(db, case_id)


def timeline(messages: list[dict], events: list[dict], followups: list, labels: dict) -> list[Entry]:
    entries = [
        Entry(datetime.fromisoformat(m["at"]), "message", "消息", m["sender"], m["text"], tuple(json.loads(m["keywords"] or "[]")))
        for m in messages
    ]
    entries += [
        Entry(datetime.fromisoformat(e["at"]), "event", labels.get(e["kind"], e["kind"]), e["actor"], readable(e["detail"] or ""))
        for e in events
    ]
    for f in followups:
        state = FOLLOWUP_STATUS.get(f.status, f.status)
        text = f"第{f.round}轮第{f.seq}次回访（计划 {f.due_at:%Y-%m-%d}）：{state}"
        if f.status == "done":
            text += f"，{f.result or ''}" + (f"（{f.note}）" if f.note else "")
        entries.append(Entry(f.done_at or f.due_at, "followup", "回访", f.actor or "", text))
    # Stable: a message and the event it caused at the same minute keep that order.
    return sorted(entries, key=lambda e: e.at)


@login_required
async def case_view(request: web.Request) -> web.StreamResponse:
    d = deps(request)
    try:
        case_id = int(request.match_info["case_id"].lstrip("#"))
    except ValueError:
        return error_page(request, 404, "案件编号应为数字，如 /cases/12。")
    case, messages, events, followups = await d.db.read(lambda db: _file(db, case_id))
    viewer = viewer_of(request)
    # Unknown and not-yours read differently, but neither shows anything of the case.
    if case is None:
        return error_page(request, 404, f"没有找到案件#{case_id}。")
    if not may_see(viewer, d.config, case.station):
        return error_page(request, 403, f"案件#{case_id}不属于您的派出所，无权查看。")
    names = {s.id: s.name for s in d.config.stations}
    return page(
        request,
        "case.html",
        title=f"案件#{case.id}",
        case=case,
        category=CATEGORIES.get(case.category, case.category),
        severity=SEVERITIES.get(case.severity, case.severity),
        station=names.get(case.station, case.station),
        entries=timeline(messages, events, followups, dict(d.event_labels)),
    )
