"""Monthly figures of one or more stations: what `统计` shows and the monthly
briefing (每月通报) sends.

Definitions (SPEC.md "Monthly briefing"), all over the cases *opened* in the month:
- received: cases opened, false positives (误报) excluded;
- disputes: category 矛盾纠纷, or any case an officer closed as 调解成功/调解不成;
- 调处率: disputes whose outcome is 调解成功 ÷ disputes received;
- resolved: 待回访, 已归档 or 已办结; open: 待认领 or 处理中;
- follow-ups done: recorded in the month; overdue: still not recorded although
  their deadline (reminder + overdue_days) passed in the month;
- false-positive rate per category: 误报 ÷ all cases opened of that category.
Times are stored as ISO strings with offsets; SQLite's datetime() turns them into
UTC, so month bounds are compared in UTC.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, tzinfo

import sqlite_utils

from storage import cases as cs
from storage.sql import in_clause, utc_text


@dataclass(frozen=True)
class Attendance:
    """Guard-post attendance: on-time check-ins ÷ people on duty."""

    on_time: int
    on_duty: int


@dataclass(frozen=True)
class MonthlyFigures:
    year: int
    month: int
    stations: tuple[str, ...]
    received: int
    by_category: dict[str, int]
    by_community: dict[str, int]
    resolved: int
    open: int
    disputes_received: int
    disputes_mediated: int
    followups_done: int
    followups_overdue: int
    false_positives: dict[str, tuple[int, int]]  # category -> (误报, all cases opened)
    noisy_keywords: list[tuple[str, int]]
    attendance: Attendance | None = None  # filled in by the guard-post feature
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def mediation_rate(self) -> str:
        """调处率 as officers write it: 626/628 -> '99.68%'; '—' with no disputes."""
        return percent(self.disputes_mediated, self.disputes_received)


def percent(numerator: int, denominator: int) -> str:
    if denominator == 0:
        return "—"
    # Round half up on exact integers: float formatting would round 0.125 to 0.12.
    hundredths = (numerator * 10000 * 2 + denominator) // (denominator * 2)
    return f"{hundredths // 100}.{hundredths % 100:02d}%"


def month_bounds(year: int, month: int, tz: tzinfo) -> tuple[datetime, datetime]:
    start = datetime.combine(date(year, month, 1), time(0), tzinfo=tz)
    nxt = date(year + month // 12, month % 12 + 1, 1)
    return start, datetime.combine(nxt, time(0), tzinfo=tz)


def monthly_figures(
    db: sqlite_utils.Database,
    *,
    stations: tuple[str, ...],
    year: int,
    month: int,
    tz: tzinfo,
    now: datetime,
    overdue_days: int,
    keyword_limit: int = 5,
) -> MonthlyFigures:
    start, end = month_bounds(year, month, tz)
    rows = list(
        db.query(
            f"select category, community, status, outcome from cases where {in_clause('station', stations)}"
            " and datetime(opened_at) >= ? and datetime(opened_at) < ?",
            [*stations, utc_text(start), utc_text(end)],
        )
    )
    real = [r for r in rows if r["status"] != cs.FALSE_POSITIVE]
    disputes = [r for r in real if r["category"] == "dispute" or (r["outcome"] or "").startswith("调解")]
    all_by_category = Counter(r["category"] for r in rows)
    fp_by_category = Counter(r["category"] for r in rows if r["status"] == cs.FALSE_POSITIVE)

    # Follow-ups: done in the month, or overdue with the deadline passed in the month.
    done = db.execute(
        f"select count(*) from followups f join cases c on c.id = f.case_id where {in_clause('c.station', stations)}"
        " and f.status = 'done' and datetime(f.done_at) >= ? and datetime(f.done_at) < ?",
        [*stations, utc_text(start), utc_text(end)],
    ).fetchone()[0]
    deadline_end = min(end, now)
    overdue = 0
    for r in db.query(
        f"select f.due_at from followups f join cases c on c.id = f.case_id where {in_clause('c.station', stations)} and f.status = 'pending'",
        list(stations),
    ):
        deadline = datetime.fromisoformat(r["due_at"]) + timedelta(days=overdue_days)
        if start <= deadline <= deadline_end:
            overdue += 1

    noisy = noisy_keywords(db, stations=stations, since=start, until=end, limit=keyword_limit)
    return MonthlyFigures(
        year=year,
        month=month,
        stations=stations,
        received=len(real),
        by_category=_ranked(Counter(r["category"] for r in real)),
        by_community=_ranked(Counter(r["community"] or "" for r in real)),
        resolved=sum(1 for r in real if r["status"] in cs.RESOLVED_STATUSES),
        open=sum(1 for r in real if r["status"] in cs.OPEN_STATUSES),
        disputes_received=len(disputes),
        disputes_mediated=sum(1 for r in disputes if r["outcome"] == cs.MEDIATED),
        followups_done=done,
        followups_overdue=overdue,
        false_positives={c: (fp_by_category[c], n) for c, n in _ranked(all_by_category).items() if fp_by_category[c]},
        noisy_keywords=noisy,
        # Guard posts: compute Attendance for these stations and month here.
        attendance=None,
    )


def _ranked(counts: Counter[str]) -> dict[str, int]:
    """Most first, ties by name, so the same month always reads the same."""
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def noisy_keywords(
    db: sqlite_utils.Database,
    *,
    stations: tuple[str, ...] | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 10,
) -> list[tuple[str, int]]:
    """Lexicon words most often behind a case an officer marked 误报, most first."""
    where, params = ["1 = 1"], []
    if stations is not None:
        where.append(in_clause("c.station", stations))
        params += list(stations)
    if since is not None:
        where.append("datetime(k.at) >= ?")
        params.append(utc_text(since))
    if until is not None:
        where.append("datetime(k.at) < ?")
        params.append(utc_text(until))
    rows = db.query(
        f"select k.keyword, count(*) as n from keyword_feedback k join cases c on c.id = k.case_id where {' and '.join(where)}"
        " group by k.keyword order by n desc, k.keyword limit ?",
        [*params, limit],
    )
    return [(r["keyword"], r["n"]) for r in rows]


def keyword_feedback(db: sqlite_utils.Database) -> list[dict]:
    """Per lexicon word: cases it fired in and how many of them were 误报 (for tuning)."""
    fired: Counter[str] = Counter()
    for r in db.query("select keywords from cases"):
        fired.update(set(json.loads(r["keywords"] or "[]")))
    false = dict(db.execute("select keyword, count(*) from keyword_feedback group by keyword").fetchall())
    words = sorted(fired, key=lambda w: (-false.get(w, 0), -fired[w], w))
    return [{"keyword": w, "cases": fired[w], "false_positives": false.get(w, 0)} for w in words]
