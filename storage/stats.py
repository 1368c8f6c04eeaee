"""Monthly figures of one or more stations: what `统计` shows and the monthly
briefing (每月通报) sends.

Definitions (SPEC.md "Monthly briefing"), all over the cases *opened* in the month:
- received: cases opened, false positives (误报) excluded;
- disputes: category 矛盾纠纷, or any case an officer closed as 调解成功/调解不成;
- 调处率: disputes whose outcome is 调解成功 ÷ disputes received;
- resolved: 待回访, 已归档 or 已办结; open: 待核实, 待认领 or 处理中;
- follow-ups done: recorded in the month; overdue: still not recorded although
  their deadline (reminder + overdue_days) passed in the month;
- false-positive rate per category: 误报 ÷ all cases opened of that category;
- suspected reports (the learned model's tier): confirmed, dismissed (误报), pending;
- guard-post attendance: on-time check-ins ÷ people on duty, per school and in all.
Times are stored as ISO strings with offsets; SQLite's datetime() turns them into
UTC, so month bounds are compared in UTC.

The figures that depend on cases are computed from `CaseFacts`, one per case as it
stands, by the pure `case_figures`: so the frozen month of a briefing
(storage/months.py) can be recounted from the facts it kept, with corrections
applied, by the same definitions.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, time, timedelta, tzinfo
from typing import Any, Iterable

import sqlite_utils

from storage import cases as cs
from storage.guard_posts import attendance_for_month
from storage.sql import in_clause, utc_text


@dataclass(frozen=True)
class Attendance:
    """Guard-post attendance: on-time check-ins ÷ people on duty."""

    on_time: int
    on_duty: int

    @property
    def rate(self) -> str:
        return percent(self.on_time, self.on_duty)


@dataclass(frozen=True)
class CaseFacts:
    """What the month's figures need to know of one case."""

    case_id: int
    category: str
    community: str
    status: str
    outcome: str | None
    suspected: bool  # opened by the learned model alone (待核实 at first)

    @property
    def is_dispute(self) -> bool:
        return self.category == "dispute" or (self.outcome or "").startswith("调解")


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
    attendance: Attendance | None = None  # None: these stations have no schools
    attendance_by_school: dict[str, Attendance] = field(default_factory=dict)  # school id -> figures
    suspected_confirmed: int = 0
    suspected_dismissed: int = 0
    suspected_pending: int = 0
    resolved_by_category: dict[str, int] = field(default_factory=dict)
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def mediation_rate(self) -> str:
        """调处率 as officers write it: 626/628 -> '99.68%'; '—' with no disputes."""
        return percent(self.disputes_mediated, self.disputes_received)

    @property
    def suspected(self) -> int:
        return self.suspected_confirmed + self.suspected_dismissed + self.suspected_pending

    @property
    def label(self) -> str:
        """'2026-03': how months are keyed in storage and written by officers."""
        return month_label(self.year, self.month)

    def to_json(self) -> str:
        return json.dumps(asdict(self), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> "MonthlyFigures":
        """The inverse of `to_json` (JSON has no tuples: they are rebuilt here)."""
        d: dict[str, Any] = json.loads(text)
        d["stations"] = tuple(d["stations"])
        d["false_positives"] = {c: (fp, n) for c, (fp, n) in d["false_positives"].items()}
        d["noisy_keywords"] = [(w, n) for w, n in d["noisy_keywords"]]
        d["attendance"] = Attendance(**d["attendance"]) if d.get("attendance") else None
        d["attendance_by_school"] = {s: Attendance(**a) for s, a in d.get("attendance_by_school", {}).items()}
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in d.items() if k in known})

    def with_cases(self, facts: Iterable[CaseFacts]) -> "MonthlyFigures":
        """These figures with the case-derived ones recounted from `facts` (a frozen
        month with its corrections applied)."""
        return replace(self, **case_figures(facts))


def month_label(year: int, month: int) -> str:
    return f"{year:04d}-{month:02d}"


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


def previous_month(day: date) -> tuple[int, int]:
    """(year, month) of the month before `day`'s."""
    return (day.year, day.month - 1) if day.month > 1 else (day.year - 1, 12)


def month_case_facts(db: sqlite_utils.Database, *, stations: tuple[str, ...], year: int, month: int, tz: tzinfo) -> list[CaseFacts]:
    """Every case of `stations` opened in the month (local time), as it stands now."""
    start, end = month_bounds(year, month, tz)
    rows = db.query(
        f"select id, category, community, status, outcome, rules from cases where {in_clause('station', stations)}"
        " and datetime(opened_at) >= ? and datetime(opened_at) < ? order by id",
        [*stations, utc_text(start), utc_text(end)],
    )
    return [
        CaseFacts(r["id"], r["category"], r["community"] or "", r["status"], r["outcome"], cs.SUSPECTED_RULE in json.loads(r["rules"] or "[]"))
        for r in rows
    ]


def case_figures(facts: Iterable[CaseFacts]) -> dict[str, Any]:
    """The figures that depend only on the month's cases, by SPEC.md's definitions."""
    facts = list(facts)
    real = [f for f in facts if f.status != cs.FALSE_POSITIVE]
    disputes = [f for f in real if f.is_dispute]
    all_by_category = Counter(f.category for f in facts)
    fp_by_category = Counter(f.category for f in facts if f.status == cs.FALSE_POSITIVE)
    suspected = [f for f in facts if f.suspected]
    return {
        "received": len(real),
        "by_category": _ranked(Counter(f.category for f in real)),
        "by_community": _ranked(Counter(f.community for f in real)),
        "resolved": sum(1 for f in real if f.status in cs.RESOLVED_STATUSES),
        "resolved_by_category": dict(Counter(f.category for f in real if f.status in cs.RESOLVED_STATUSES)),
        "open": sum(1 for f in real if f.status in cs.OPEN_STATUSES),
        "disputes_received": len(disputes),
        "disputes_mediated": sum(1 for f in disputes if f.outcome == cs.MEDIATED),
        "false_positives": {c: (fp_by_category[c], n) for c, n in _ranked(all_by_category).items() if fp_by_category[c]},
        "suspected_confirmed": sum(1 for f in suspected if f.status not in (cs.UNVERIFIED, cs.FALSE_POSITIVE)),
        "suspected_dismissed": sum(1 for f in suspected if f.status == cs.FALSE_POSITIVE),
        "suspected_pending": sum(1 for f in suspected if f.status == cs.UNVERIFIED),
    }


def monthly_figures(
    db: sqlite_utils.Database,
    *,
    stations: tuple[str, ...],
    year: int,
    month: int,
    tz: tzinfo,
    now: datetime,
    overdue_days: int,
    school_ids: tuple[str, ...] = (),
    keyword_limit: int = 5,
    facts: list[CaseFacts] | None = None,
) -> MonthlyFigures:
    """The month's figures as they stand now. `school_ids`: the stations' schools,
    for guard-post attendance (none: no attendance figure). `facts`: the month's
    cases if the caller already read them."""
    start, end = month_bounds(year, month, tz)
    if facts is None:
        facts = month_case_facts(db, stations=stations, year=year, month=month, tz=tz)

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

    attendance, by_school = _attendance(db, year, month, school_ids)
    return MonthlyFigures(
        year=year,
        month=month,
        stations=stations,
        followups_done=done,
        followups_overdue=overdue,
        noisy_keywords=noisy_keywords(db, stations=stations, since=start, until=end, limit=keyword_limit),
        attendance=attendance,
        attendance_by_school=by_school,
        **case_figures(facts),
    )


def _attendance(db: sqlite_utils.Database, year: int, month: int, school_ids: tuple[str, ...]) -> tuple[Attendance | None, dict[str, Attendance]]:
    """In all and per school (every school listed, in the order given, also one
    without a shift that month); None in all when there are no schools."""
    if not school_ids:
        return None, {}
    summary = attendance_for_month(db, year, month, school_ids)
    by_school = {s: Attendance(0, 0) for s in school_ids}
    for row in summary.rows:
        a = by_school[row.school]
        by_school[row.school] = Attendance(a.on_time + row.on_time, a.on_duty + row.on_duty)
    return Attendance(summary.on_time, summary.on_duty), by_school


def combine(parts: list[MonthlyFigures]) -> MonthlyFigures:
    """Several stations' figures of one month as one (an admin's 统计)."""
    assert parts, "nothing to combine"
    if len(parts) == 1:
        return parts[0]

    def add(name: str) -> dict[str, int]:
        total: Counter[str] = Counter()
        for p in parts:
            total.update(getattr(p, name))
        return _ranked(total)

    fps: dict[str, tuple[int, int]] = {}
    for p in parts:
        for c, (fp, n) in p.false_positives.items():
            old = fps.get(c, (0, 0))
            fps[c] = (old[0] + fp, old[1] + n)
    words: Counter[str] = Counter()
    for p in parts:
        words.update(dict(p.noisy_keywords))
    schools: dict[str, Attendance] = {}
    for p in parts:
        schools.update(p.attendance_by_school)
    with_schools = [p.attendance for p in parts if p.attendance is not None]
    attendance = Attendance(sum(a.on_time for a in with_schools), sum(a.on_duty for a in with_schools)) if with_schools else None
    first = parts[0]
    return MonthlyFigures(
        year=first.year,
        month=first.month,
        stations=tuple(s for p in parts for s in p.stations),
        received=sum(p.received for p in parts),
        by_category=add("by_category"),
        by_community=add("by_community"),
        resolved=sum(p.resolved for p in parts),
        resolved_by_category=add("resolved_by_category"),
        open=sum(p.open for p in parts),
        disputes_received=sum(p.disputes_received for p in parts),
        disputes_mediated=sum(p.disputes_mediated for p in parts),
        followups_done=sum(p.followups_done for p in parts),
        followups_overdue=sum(p.followups_overdue for p in parts),
        false_positives=dict(sorted(fps.items(), key=lambda item: (-item[1][1], item[0]))),
        noisy_keywords=sorted(words.items(), key=lambda item: (-item[1], item[0]))[: max(len(p.noisy_keywords) for p in parts)],
        attendance=attendance,
        attendance_by_school=schools,
        suspected_confirmed=sum(p.suspected_confirmed for p in parts),
        suspected_dismissed=sum(p.suspected_dismissed for p in parts),
        suspected_pending=sum(p.suspected_pending for p in parts),
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
