"""The ledger's filters as read from a query string: what the ledger page, its
paging links and the CSV/XLSX exports share. A value that is not one of the known
choices is dropped with a one-line notice instead of an error page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from multidict import MultiMapping

from bot.config import Config
from bot.months import parse_month
from nlp.detection import CATEGORIES
from storage import cases as case_store

STATUSES = (
    case_store.UNVERIFIED,
    case_store.PENDING,
    case_store.IN_PROGRESS,
    case_store.AWAITING_FOLLOWUP,
    case_store.ARCHIVED,
    case_store.CLOSED,
    case_store.FALSE_POSITIVE,
)


@dataclass(frozen=True)
class LedgerFilter:
    station: str | None = None
    community: str | None = None
    category: str | None = None
    status: str | None = None
    month: tuple[int, int] | None = None
    page: int = 1

    @property
    def month_text(self) -> str:
        return f"{self.month[0]}-{self.month[1]:02d}" if self.month else ""

    def query(self, **changes: object) -> str:
        """The query string of these filters with `changes` (for links), empty values left out."""
        values = {
            "station": self.station,
            "community": self.community,
            "category": self.category,
            "status": self.status,
            "month": self.month_text or None,
            "page": self.page if self.page != 1 else None,
        }
        values.update(changes)
        if values["page"] == 1:
            values["page"] = None
        return urlencode({k: v for k, v in values.items() if v not in (None, "")})


def communities(config: Config, stations: tuple[str, ...]) -> list[str]:
    """Communities (and schools, whose cases carry the school's name) of these stations."""
    names = [g.community for g in config.groups if g.station in stations]
    names += [s.name for s in config.schools if s.station in stations]
    return list(dict.fromkeys(names))


def read_filter(query: MultiMapping[str], config: Config, stations: tuple[str, ...]) -> tuple[LedgerFilter, list[str]]:
    """The filters asked for, restricted to what the viewer may see; and a notice
    for each value that was dropped."""
    notices: list[str] = []

    def pick(key: str, allowed: object, label: str) -> str | None:
        value = (query.get(key) or "").strip()
        if not value:
            return None
        if value not in allowed:  # type: ignore[operator]
            notices.append(f"没有这个{label}：{value[:40]}，已忽略。")
            return None
        return value

    station = pick("station", stations, "派出所")
    community = pick("community", communities(config, (station,) if station else stations), "社区")
    category = pick("category", CATEGORIES, "类别")
    status = pick("status", STATUSES, "状态")
    month = None
    raw_month = (query.get("month") or "").strip()
    if raw_month:
        parsed = parse_month(raw_month)
        if parsed is None or parsed[0] is None:
            notices.append(f"月份应写成 YYYY-MM（如 2026-03），“{raw_month[:20]}”已忽略。")
        else:
            month = (parsed[0], parsed[1])
    try:
        page = max(1, min(100_000, int(query.get("page") or 1)))
    except ValueError:
        page = 1
    return LedgerFilter(station, community, category, status, month, page), notices


def month_of(moment: datetime) -> tuple[int, int]:
    return moment.year, moment.month
