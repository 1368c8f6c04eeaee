"""The ledger's (台账) cases as stored: one row per case, with the few figures the
ledger shows beside it (its first message, follow-ups done).

Only the selection lives here. Labels, local times, masking of personal numbers
and the CSV/XLSX files are presentation, done by `bot/ledger/` from these rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlite_utils

from storage.cases import Case, case_from_row
from storage.sql import in_clause, utc_text


@dataclass(frozen=True)
class LedgerCase:
    """A case as stored (codes, not labels; times with their offsets), with the
    figures the ledger shows beside it."""

    case: Case
    followups_done: int
    first_text: str  # the message that opened the case, unmasked


def ledger_cases(
    db: sqlite_utils.Database,
    *,
    opened: tuple[datetime, datetime] | None = None,
    stations: tuple[str, ...] | None = None,
    community: str | None = None,
    category: str | None = None,
    status: str | None = None,
    limit: int | None = None,
    offset: int = 0,
) -> list[LedgerCase]:
    """Cases opened in [start, end) of `opened` (all when None), of `stations` (all
    when None) and of the given community, category and status, oldest first;
    `limit` and `offset` page through them (the dashboard)."""
    where, params = _where(opened, stations, community, category, status)
    page, page_params = ("", []) if limit is None else (" limit ? offset ?", [limit, offset])
    rows = db.query(
        f"""select c.*,
              (select text from case_messages m where m.case_id = c.id order by m.id limit 1) as first_text,
              (select count(*) from followups f where f.case_id = c.id and f.status = 'done') as visits
            from cases c where {where} order by datetime(c.opened_at), c.id{page}""",
        params + page_params,
    )
    return [LedgerCase(case_from_row(r), r["visits"], r["first_text"] or "") for r in rows]


def ledger_count(
    db: sqlite_utils.Database,
    *,
    opened: tuple[datetime, datetime] | None = None,
    stations: tuple[str, ...] | None = None,
    community: str | None = None,
    category: str | None = None,
    status: str | None = None,
) -> int:
    """How many cases `ledger_cases` would list without a limit."""
    where, params = _where(opened, stations, community, category, status)
    return db.execute(f"select count(*) from cases c where {where}", params).fetchone()[0]


def _where(opened, stations, community, category, status) -> tuple[str, list]:
    where, params = ["1 = 1"], []
    if opened is not None:
        # Stored times carry their offsets; datetime() compares them in UTC.
        where.append("datetime(c.opened_at) >= ? and datetime(c.opened_at) < ?")
        params += [utc_text(opened[0]), utc_text(opened[1])]
    if stations is not None:
        where.append(in_clause("c.station", stations))
        params += list(stations)
    for column, value in (("community", community), ("category", category), ("status", status)):
        if value is not None:
            where.append(f"c.{column} = ?")
            params.append(value)
    return " and ".join(where), params
