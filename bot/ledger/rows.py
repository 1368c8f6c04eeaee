"""The ledger's columns (SPEC.md's contract) and its rows as people read them:
labels instead of codes, station names, local times, personal numbers masked."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Iterable

from nlp.detection import CATEGORIES, SEVERITIES
from bot.masking import mask_pii
from storage.ledger import LedgerCase

HEADERS = ("编号", "登记时间", "类别", "等级", "来源群", "社区", "派出所", "报告人", "责任民警", "状态", "认领时间", "办结时间", "办结结果", "回访次数", "内容摘要")
SUMMARY_CHARS = 200


@dataclass(frozen=True)
class LedgerRow:
    """One ledger line; its fields are HEADERS' columns, in that order."""

    id: int
    opened_at: datetime
    category: str
    severity: str
    room: str
    community: str
    station: str
    reporter: str
    officer: str
    status: str
    claimed_at: datetime | None
    closed_at: datetime | None
    outcome: str
    followups: int
    summary: str

    def values(self) -> tuple:
        return (
            self.id,
            self.opened_at,
            self.category,
            self.severity,
            self.room,
            self.community,
            self.station,
            self.reporter,
            self.officer,
            self.status,
            self.claimed_at,
            self.closed_at,
            self.outcome,
            self.followups,
            self.summary,
        )


def ledger_rows(
    cases: Iterable[LedgerCase],
    *,
    tz: tzinfo,
    station_names: dict[str, str],
    unmasked: bool = False,
) -> list[LedgerRow]:
    """The rows of `cases`, in their order. Phone and ID-card numbers in the
    summary and the outcome note are masked unless `unmasked`."""

    def mask(text: str) -> str:
        return text if unmasked else mask_pii(text)

    out = []
    for entry in cases:
        case = entry.case
        summary = mask(entry.first_text)
        if len(summary) > SUMMARY_CHARS:
            summary = summary[:SUMMARY_CHARS] + "…"
        if case.message_count > 1:
            summary += f"（共{case.message_count}条消息）"
        outcome = case.outcome or ""
        if outcome and case.outcome_note:
            outcome = f"{outcome}（{mask(case.outcome_note)}）"
        out.append(
            LedgerRow(
                id=case.id,
                opened_at=_local(case.opened_at, tz),
                category=CATEGORIES.get(case.category, case.category),
                severity=SEVERITIES.get(case.severity, case.severity),
                room=case.room,
                community=case.community,
                station=station_names.get(case.station, case.station),
                reporter=case.reporter,
                officer=case.officer,
                status=case.status,
                claimed_at=_local(case.claimed_at, tz) if case.claimed_at else None,
                closed_at=_local(case.closed_at, tz) if case.closed_at else None,
                outcome=outcome,
                followups=entry.followups_done,
                summary=summary,
            )
        )
    return out


def _local(moment: datetime, tz: tzinfo) -> datetime:
    # Naive local time: what a spreadsheet shows and sorts by.
    return moment.astimezone(tz).replace(tzinfo=None)
