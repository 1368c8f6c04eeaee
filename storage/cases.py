"""Cases (一纠纷一档案): rows, messages and the audit trail of events.

Plain functions over a `sqlite_utils.Database`, run through `Database.write`/`read`.
Only flagged messages are ever passed here; ordinary chat never reaches storage.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from storage import corrections
from storage.sql import in_clause

# Status names are what officers see and type about, so they are stored in Chinese.
UNVERIFIED = "待核实"  # a suspected report (the learned model alone): an officer checks it first
PENDING = "待认领"
IN_PROGRESS = "处理中"
AWAITING_FOLLOWUP = "待回访"
ARCHIVED = "已归档"
CLOSED = "已办结"
FALSE_POSITIVE = "误报"
OPEN_STATUSES = (UNVERIFIED, PENDING, IN_PROGRESS)

MAX_STORED_TEXT = 2000
SUSPECTED_RULE = "tier:suspected"  # in a case's rules: opened by the learned model alone  # a case keeps the report, not a pasted novel


@dataclass(frozen=True)
class Case:
    id: int
    room: str
    community: str
    station: str
    officer: str
    category: str
    severity: str
    status: str
    reporter: str
    opened_at: datetime
    last_message_at: datetime
    message_count: int
    keywords: tuple[str, ...]
    rules: tuple[str, ...]
    explicit: bool
    claimed_by: str | None
    claimed_at: datetime | None
    closed_at: datetime | None
    outcome: str | None
    outcome_note: str | None
    escalate_from: datetime | None = None  # start of the current escalation clock
    escalation_round: int = 1
    # The id of the room the report came from (None: reported privately or entered by
    # an officer): replies go there, and only its messages join the case.
    room_id: str | None = None

    @property
    def label(self) -> str:
        return f"#{self.id}"

    @property
    def escalation_base(self) -> datetime:
        return self.escalate_from or self.opened_at


def _dt(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def case_from_row(row: dict) -> Case:
    """A `cases` row (as selected with `select *` or `c.*`) as a Case."""
    return Case(
        id=row["id"],
        room=row["room"],
        community=row["community"] or "",
        station=row["station"],
        officer=row["officer"],
        category=row["category"],
        severity=row["severity"],
        status=row["status"],
        reporter=row["reporter"],
        opened_at=datetime.fromisoformat(row["opened_at"]),
        last_message_at=datetime.fromisoformat(row["last_message_at"]),
        message_count=row["message_count"],
        keywords=tuple(json.loads(row["keywords"] or "[]")),
        rules=tuple(json.loads(row["rules"] or "[]")),
        explicit=bool(row["explicit"]),
        claimed_by=row["claimed_by"],
        claimed_at=_dt(row["claimed_at"]),
        closed_at=_dt(row["closed_at"]),
        outcome=row["outcome"],
        outcome_note=row["outcome_note"],
        escalate_from=_dt(row.get("escalate_from")),
        escalation_round=row.get("escalation_round") or 1,
        room_id=row.get("room_id"),
    )


def get_case(db: sqlite_utils.Database, case_id: int) -> Case | None:
    rows = list(db.query("select * from cases where id = ?", [case_id]))
    return case_from_row(rows[0]) if rows else None


def find_mergeable(db: sqlite_utils.Database, room: str, room_id: str | None, category: str, since: datetime) -> Case | None:
    """The open case of this room and category whose last message is at or after
    `since`: the same room id (a copied topic is another room), or, for reports
    without one (private), the same configured room and no id."""
    same_room = "room_id = ?" if room_id is not None else "room = ? and room_id is null"
    rows = list(
        db.query(
            f"select * from cases where {same_room} and category = ? and {in_clause('status', OPEN_STATUSES)}"
            " and last_message_at >= ? order by last_message_at desc limit 1",
            [room_id if room_id is not None else room, category, *OPEN_STATUSES, since.isoformat()],
        )
    )
    return case_from_row(rows[0]) if rows else None


def open_case(
    db: sqlite_utils.Database,
    *,
    at: datetime,
    room: str,
    community: str,
    station: str,
    officer: str,
    category: str,
    severity: str,
    reporter: str,
    text: str,
    keywords: tuple[str, ...],
    rules: tuple[str, ...],
    explicit: bool,
    status: str = PENDING,
    room_id: str | None = None,
) -> Case:
    case_id = db["cases"].insert(
        {
            "room": room,
            "room_id": room_id,
            "community": community,
            "station": station,
            "officer": officer,
            "category": category,
            "severity": severity,
            "status": status,
            "reporter": reporter,
            "opened_at": at.isoformat(),
            "last_message_at": at.isoformat(),
            "message_count": 1,
            "keywords": json.dumps(list(keywords), ensure_ascii=False),
            "rules": json.dumps(list(rules), ensure_ascii=False),
            "explicit": int(explicit),
        }
    ).last_pk
    _insert_message(db, case_id, at, reporter, text, keywords)
    add_event(db, case_id, at, "opened", reporter, f"{category}/{severity}")
    case = get_case(db, case_id)
    assert case is not None
    return case


def join_case(db: sqlite_utils.Database, case: Case, *, at: datetime, sender: str, text: str, keywords: tuple[str, ...], severity: str) -> Case:
    """Add a further report to an open case; the severity only ever rises."""
    merged_keywords = list(dict.fromkeys([*case.keywords, *keywords]))
    db["cases"].update(
        case.id,
        {
            "last_message_at": at.isoformat(),
            "message_count": case.message_count + 1,
            "keywords": json.dumps(merged_keywords, ensure_ascii=False),
            "severity": severity,
        },
    )
    _insert_message(db, case.id, at, sender, text, keywords)
    detail = "" if severity == case.severity else f"等级升为{severity}"
    if severity != case.severity:
        # A rise in severity restarts the escalation clock at the new, shorter pace.
        restart_escalation(db, case.id, at)
    add_event(db, case.id, at, "message_joined", sender, detail)
    joined = get_case(db, case.id)
    assert joined is not None
    return joined


def _insert_message(db: sqlite_utils.Database, case_id: int, at: datetime, sender: str, text: str, keywords: tuple[str, ...]) -> None:
    db["case_messages"].insert(
        {
            "case_id": case_id,
            "at": at.isoformat(),
            "sender": sender,
            "text": text[:MAX_STORED_TEXT],
            "keywords": json.dumps(list(keywords), ensure_ascii=False),
        }
    )


def add_event(db: sqlite_utils.Database, case_id: int, at: datetime, kind: str, actor: str, detail: str = "") -> None:
    db["case_events"].insert({"case_id": case_id, "at": at.isoformat(), "kind": kind, "actor": actor, "detail": detail})


def case_messages(db: sqlite_utils.Database, case_id: int) -> list[dict]:
    return list(db.query("select at, sender, text, keywords from case_messages where case_id = ? order by id", [case_id]))


def case_events(db: sqlite_utils.Database, case_id: int) -> list[dict]:
    return list(db.query("select at, kind, actor, detail from case_events where case_id = ? order by id", [case_id]))


# --------------------------------------------------------------------------- workflow
# The handlers check permissions and legal transitions inside the same write
# transaction that applies them, so two officers racing to claim see one winner.

# Outcomes of 办结 and the status each leads to.
MEDIATED = "调解成功"
NOT_MEDIATED = "调解不成"
HANDLED = "已处置"
OUTCOME_STATUS = {MEDIATED: AWAITING_FOLLOWUP, NOT_MEDIATED: CLOSED, HANDLED: CLOSED}
UNFINISHED_STATUSES = (UNVERIFIED, PENDING, IN_PROGRESS, AWAITING_FOLLOWUP)  # someone still has work to do
RESOLVED_STATUSES = (AWAITING_FOLLOWUP, ARCHIVED, CLOSED)

# Which states each action may start from (SPEC.md "States").
ALLOWED_FROM: dict[str, tuple[str, ...]] = {
    "verify": (UNVERIFIED,),
    "claim": (PENDING,),
    "resolve": (IN_PROGRESS,),
    "false_positive": OPEN_STATUSES,
    "transfer": UNFINISHED_STATUSES,
    "followup": (AWAITING_FOLLOWUP,),
    "rebound": (AWAITING_FOLLOWUP, ARCHIVED),
    # A wrong category distorts the figures whatever the state, closed cases included.
    "reclassify": (UNVERIFIED, PENDING, IN_PROGRESS, AWAITING_FOLLOWUP, ARCHIVED, CLOSED, FALSE_POSITIVE),
}


def _reload(db: sqlite_utils.Database, case_id: int) -> Case:
    case = get_case(db, case_id)
    assert case is not None
    return case


def restart_escalation(db: sqlite_utils.Database, case_id: int, at: datetime) -> None:
    db.execute(
        "update cases set escalate_from = ?, escalation_round = coalesce(escalation_round, 1) + 1 where id = ?",
        [at.isoformat(), case_id],
    )


def verify(db: sqlite_utils.Database, case_id: int, actor: str, at: datetime, detail: str = "") -> Case:
    """待核实 → 待认领: the report is real; its escalation clock starts now."""
    db["cases"].update(case_id, {"status": PENDING, "escalate_from": at.isoformat()})
    add_event(db, case_id, at, "verified", actor, detail)
    return _reload(db, case_id)


def record_feedback(db: sqlite_utils.Database, kind: str, case: Case | None, text: str, at: datetime, actor: str) -> None:
    """Keep a judged text for training: kind "missed" (补录) or "false_alarm" (误报)."""
    db["detector_feedback"].insert(
        {
            "kind": kind,
            "case_id": case.id if case else None,
            "category": case.category if case else None,
            "text": text[:MAX_STORED_TEXT],
            "at": at.isoformat(),
            "actor": actor,
        }
    )


def feedback_rows(db: sqlite_utils.Database) -> list[dict]:
    if "detector_feedback" not in db.table_names():
        return []
    return list(db.query("select kind, category, text, at, actor, case_id from detector_feedback order by id"))


def claim(db: sqlite_utils.Database, case_id: int, officer: str, at: datetime) -> Case:
    # The claimer becomes the responsible officer: follow-up reminders go to them.
    db["cases"].update(case_id, {"status": IN_PROGRESS, "claimed_by": officer, "claimed_at": at.isoformat(), "officer": officer})
    add_event(db, case_id, at, "claimed", officer)
    return _reload(db, case_id)


def transfer(db: sqlite_utils.Database, case: Case, to_officer: str, actor: str, at: datetime) -> Case:
    db["cases"].update(case.id, {"officer": to_officer})
    if case.status == PENDING:
        # The new officer gets a full escalation clock of their own.
        restart_escalation(db, case.id, at)
    add_event(db, case.id, at, "transferred", actor, f"{case.officer}→{to_officer}")
    return _reload(db, case.id)


def resolve(db: sqlite_utils.Database, case_id: int, outcome: str, note: str, actor: str, at: datetime) -> Case:
    db["cases"].update(case_id, {"status": OUTCOME_STATUS[outcome], "outcome": outcome, "outcome_note": note or None, "closed_at": at.isoformat()})
    add_event(db, case_id, at, "resolved", actor, f"{outcome}：{note}" if note else outcome)
    return _reload(db, case_id)


def mark_false_positive(db: sqlite_utils.Database, case: Case, actor: str, at: datetime) -> Case:
    """Close as 误报 and count it against every lexicon word that fired, so the
    noisiest words can be tuned."""
    db["cases"].update(case.id, {"status": FALSE_POSITIVE, "outcome": FALSE_POSITIVE, "closed_at": at.isoformat()})
    if SUSPECTED_RULE not in case.rules:  # a suspected case's keywords are model n-grams, not lexicon words
        db["keyword_feedback"].insert_all(
            [{"case_id": case.id, "keyword": word, "category": case.category, "at": at.isoformat(), "actor": actor} for word in case.keywords]
        )
    for message in case_messages(db, case.id):
        record_feedback(db, "false_alarm", case, message["text"], at, actor)
    add_event(db, case.id, at, "false_positive", actor, "、".join(case.keywords))
    corrections.note_correction(db, case.id, corrections.FALSE_POSITIVE, at, actor)
    return _reload(db, case.id)


def reopen(db: sqlite_utils.Database, case_id: int, actor: str, at: datetime, note: str) -> Case:
    """回访 反弹: the dispute is back, so the case is open again and no longer resolved."""
    db["cases"].update(case_id, {"status": IN_PROGRESS, "outcome": None, "outcome_note": None, "closed_at": None})
    add_event(db, case_id, at, "reopened", actor, note)
    corrections.note_correction(db, case_id, corrections.REBOUND, at, actor)
    return _reload(db, case_id)


def reclassify(db: sqlite_utils.Database, case: Case, category: str, actor: str, at: datetime) -> Case:
    """改类: a wrong category corrected, audited as an event (`dispute→security`);
    a month whose briefing already counted the case gets a correction."""
    db["cases"].update(case.id, {"category": category})
    add_event(db, case.id, at, "reclassified", actor, f"{case.category}→{category}")
    corrections.note_correction(db, case.id, corrections.RECLASSIFY, at, actor, category_from=case.category, category_to=category)
    return _reload(db, case.id)


def archive(db: sqlite_utils.Database, case_id: int, at: datetime) -> Case:
    db["cases"].update(case_id, {"status": ARCHIVED})
    add_event(db, case_id, at, "archived", "系统", "回访完毕")
    return _reload(db, case_id)


def list_cases(
    db: sqlite_utils.Database,
    statuses: tuple[str, ...],
    *,
    stations: tuple[str, ...] | None = None,
    officer: str | None = None,
    limit: int = 10,
    offset: int = 0,
) -> tuple[list[Case], int]:
    """Cases in these states, oldest first, one page of them and the total count."""
    where = [in_clause("status", statuses)]
    params: list = list(statuses)
    if stations is not None:
        where.append(in_clause("station", stations))
        params += list(stations)
    if officer is not None:
        where.append("officer = ?")
        params.append(officer)
    clause = " and ".join(where)
    total = db.execute(f"select count(*) from cases where {clause}", params).fetchone()[0]
    rows = db.query(f"select * from cases where {clause} order by datetime(opened_at), id limit ? offset ?", [*params, limit, offset])
    return [case_from_row(r) for r in rows], total


def pending_cases(db: sqlite_utils.Database) -> list[Case]:
    """Unclaimed cases: the escalation clock runs for these."""
    return [case_from_row(r) for r in db.query("select * from cases where status = ? order by id", [PENDING])]


def has_event(db: sqlite_utils.Database, case_id: int, kind: str) -> bool:
    return bool(list(db.query("select 1 from case_events where case_id = ? and kind = ? limit 1", [case_id, kind])))
