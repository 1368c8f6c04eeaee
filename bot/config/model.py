"""What a valid `pingan.toml` becomes: immutable settings objects, and the error
raised when the file cannot be used."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from zoneinfo import ZoneInfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
ROLES = ("officer", "leader", "admin")


class ConfigError(Exception):
    """The config cannot be used; `problems` lists every one found."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class BotSettings:
    name: str
    timezone: str = "Asia/Shanghai"
    database: Path = Path("pingan.db")
    lexicon: Path | None = None
    ack_in_group: bool = True
    notify_reporter: bool = True  # tell the reporter in the group when a case is claimed/closed

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True)
class Escalation:
    urgent_remind_minutes: int = 5
    urgent_leader_minutes: int = 15
    high_remind_minutes: int = 10
    high_leader_minutes: int = 30
    normal_remind_minutes: int = 120
    normal_leader_minutes: int = 480

    def minutes(self, severity: str) -> tuple[int, int] | None:
        """(remind, leader) minutes for a severity; None where it is not escalated (low)."""
        if severity not in ("urgent", "high", "normal"):
            return None
        return (getattr(self, f"{severity}_remind_minutes"), getattr(self, f"{severity}_leader_minutes"))


@dataclass(frozen=True)
class Followup:
    days: tuple[int, ...] = (7, 30)
    at: time = time(9, 0)
    overdue_days: int = 3


@dataclass(frozen=True)
class Briefing:
    day: int = 1
    at: time = time(9, 0)


@dataclass(frozen=True)
class OutboxSettings:
    """Send limits that keep a WeChat account from being throttled or banned."""

    room_interval_seconds: float = 3.0
    per_minute: int = 20
    daily_cap: int = 400
    daily_warn_ratio: float = 0.8


@dataclass(frozen=True)
class WebSettings:
    """Where the dashboard, /healthz and /metrics listen. Behind a TLS reverse proxy:
    `secure_cookies` sends the session cookie over HTTPS only, `trust_proxy` takes
    the client's address from the proxy's X-Forwarded-For (login limits per address)."""

    host: str = "127.0.0.1"
    port: int = 8080
    secure_cookies: bool = False
    trust_proxy: bool = False


@dataclass(frozen=True)
class Station:
    id: str
    name: str
    leader: str
    officers_room: str


@dataclass(frozen=True)
class Officer:
    name: str
    station: str
    role: str = "officer"
    # The WeChat contact id, when the operator knows it; otherwise bound with
    # `pingan invite` + `绑定` (SPEC.md "Identity").
    wechat_id: str | None = None


@dataclass(frozen=True)
class ContactGroup:
    room: str
    community: str
    station: str
    officer: str


@dataclass(frozen=True)
class StateCalendar:
    """`[calendar]`: the published holiday schedule of years the chinesecalendar
    package does not cover yet (SPEC.md "School days"), the same for every school.

    `holidays`: days off, including weekdays moved by 调休; `workdays`: 调休
    make-up working days on weekends."""

    holidays: frozenset[date] = frozenset()
    workdays: frozenset[date] = frozenset()

    @property
    def years(self) -> frozenset[int]:
        """The years it gives a schedule for."""
        return frozenset(d.year for d in self.holidays | self.workdays)


@dataclass(frozen=True)
class Shift:
    name: str
    start: time
    end: time
    remind_before_minutes: int = 15
    checkin_grace_minutes: int = 10
    roster: dict[str, tuple[str, ...]] = field(default_factory=dict)  # weekday key -> names

    def on_duty(self, day: date) -> tuple[str, ...]:
        return self.roster.get(WEEKDAYS[day.weekday()], ())


@dataclass(frozen=True)
class School:
    id: str
    name: str
    room: str
    station: str
    officer: str
    terms: tuple[tuple[date, date], ...]
    shifts: tuple[Shift, ...]
    closed: frozenset[date] = frozenset()
    open: frozenset[date] = frozenset()
    # The config's [calendar], shared by all schools: kept here so that every
    # school-day question needs only the school.
    calendar: StateCalendar = StateCalendar()


@dataclass(frozen=True)
class Config:
    path: Path
    bot: BotSettings
    escalation: Escalation
    followup: Followup
    briefing: Briefing
    outbox: OutboxSettings
    web: WebSettings
    stations: tuple[Station, ...]
    officers: tuple[Officer, ...]
    groups: tuple[ContactGroup, ...]
    schools: tuple[School, ...]
    calendar: StateCalendar = StateCalendar()

    # Lookups used on every message; built once because the config is immutable.
    def station(self, station_id: str) -> Station:
        return next(s for s in self.stations if s.id == station_id)

    def officer(self, name: str) -> Officer | None:
        return next((o for o in self.officers if o.name == name), None)

    def group(self, room: str) -> ContactGroup | None:
        return next((g for g in self.groups if g.room == room), None)

    def school_by_room(self, room: str) -> School | None:
        return next((s for s in self.schools if s.room == room), None)

    def station_by_officers_room(self, room: str) -> Station | None:
        return next((s for s in self.stations if s.officers_room == room), None)

    @property
    def known_rooms(self) -> frozenset[str]:
        return frozenset(
            [g.room for g in self.groups] + [s.room for s in self.schools] + [s.officers_room for s in self.stations]
        )

    def summary(self) -> str:
        shifts = sum(len(s.shifts) for s in self.schools)
        return (
            f"配置有效：{len(self.stations)}个派出所，{len(self.officers)}名民警，"
            f"{len(self.groups)}个警民联系群，{len(self.schools)}所学校（{shifts}个护学岗班次）"
        )
