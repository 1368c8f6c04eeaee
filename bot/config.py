"""Load and validate `pingan.toml` into immutable objects.

Every problem is collected with its key path (`groups[2].officer: ...`) so that an
operator fixes the whole file in one pass instead of one error per run. Indices in
key paths count from 0, like the TOML array they point into.
"""
from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from datetime import date, time
from pathlib import Path
from typing import Any, Callable, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

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
    """Where the health endpoint (and later the dashboard) listens."""

    host: str = "127.0.0.1"
    port: int = 8080


@dataclass(frozen=True)
class WechatyConnection:
    endpoint: str
    token: str


ENV_TOKEN = "WECHATY_PUPPET_SERVICE_TOKEN"
ENV_ENDPOINT = "WECHATY_PUPPET_SERVICE_ENDPOINT"


def wechaty_connection(environ: Mapping[str, str]) -> WechatyConnection:
    """Read the puppet-service endpoint and token from the environment (the only place
    the bot reads it). Without an endpoint python-wechaty would go looking for one over
    the internet, so both are required."""
    missing = [name for name in (ENV_TOKEN, ENV_ENDPOINT) if not environ.get(name, "").strip()]
    if missing:
        raise ConfigError([f"缺少环境变量 {' 和 '.join(missing)}：请设置网关地址（host:port）和 token，见 README“连接微信”"])
    endpoint = environ[ENV_ENDPOINT].strip()
    if not re.fullmatch(r"[\w.\-]+:\d{1,5}", endpoint):
        raise ConfigError([f'{ENV_ENDPOINT} 应为 host:port，如 127.0.0.1:8788，实际是 "{endpoint}"'])
    return WechatyConnection(endpoint, environ[ENV_TOKEN].strip())


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


@dataclass(frozen=True)
class ContactGroup:
    room: str
    community: str
    station: str
    officer: str


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


# --------------------------------------------------------------------------- reading


def load_config(path: Path | str) -> Config:
    """Read and validate the file; raise ConfigError listing every problem."""
    path = Path(path)
    try:
        raw_text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: 配置文件不存在"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: 配置文件不是 UTF-8 编码"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: 无法读取配置文件（{exc.strerror}）"]) from None
    try:
        data = tomllib.loads(raw_text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: TOML 格式错误：{_toml_message(str(exc))}"]) from None
    return _Parser(path).parse(data)


def _toml_message(message: str) -> str:
    """tomllib says '... (at line 3, column 5)'; say it in Chinese, line first."""
    m = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if not m:
        return message
    reason = message[: m.start()].strip()
    return f"第{m.group(1)}行第{m.group(2)}列：{reason}"


_TYPE_NAMES = {str: "文本", int: "整数", bool: "true/false", list: "列表", dict: "表"}


class _Parser:
    """Walks the TOML data once, collecting problems instead of stopping at the first."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[str] = []

    def error(self, key: str, message: str) -> None:
        self.problems.append(f"{key}: {message}")

    # -- generic readers ---------------------------------------------------------

    def table(self, data: Any, key: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.error(key, "应为表（[...] 段）")
            return {}
        for unknown in sorted(set(data) - allowed):
            self.error(f"{key}.{unknown}" if key else unknown, "未知的配置项")
        return data

    def value(self, data: dict, key: str, path: str, kind: type, default: Any = ..., check: Callable[[Any], str | None] | None = None) -> Any:
        if key not in data:
            if default is ...:
                self.error(path, "缺少必填项")
                return None
            return default
        value = data[key]
        # bool is an int subclass in Python; a config value true is not a number.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.error(path, f"应为{_TYPE_NAMES.get(kind, kind.__name__)}，实际是 {value!r}")
            return None if default is ... else default
        if kind is str and not value.strip() and default is ...:
            self.error(path, "不能为空")
            return None
        if check is not None:
            problem = check(value)
            if problem:
                self.error(path, problem)
                return None if default is ... else default
        return value

    def time_value(self, data: dict, key: str, path: str, default: time | None = None) -> time | None:
        raw = self.value(data, key, path, str, ... if default is None else None)
        if raw is None:
            return default
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", raw.strip())
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            self.error(path, f'时间格式应为"HH:MM"，实际是 "{raw}"')
            return default
        return time(int(m.group(1)), int(m.group(2)))

    def date_value(self, raw: Any, path: str) -> date | None:
        if isinstance(raw, date) and not hasattr(raw, "hour"):
            return raw
        if isinstance(raw, str):
            try:
                return date.fromisoformat(raw.strip())
            except ValueError:
                pass
        self.error(path, f'日期格式应为"YYYY-MM-DD"，实际是 {raw!r}')
        return None

    def array_of_tables(self, data: dict, key: str, required: bool, prefix: str = "") -> list[tuple[str, dict]]:
        path = f"{prefix}{key}"
        if key not in data:
            if required:
                self.error(path, "缺少必填项")
            return []
        items = data[key]
        if not isinstance(items, list):
            self.error(path, f"应为 [[{path}]] 表数组")
            return []
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                self.error(f"{path}[{i}]", "应为表")
                continue
            out.append((f"{path}[{i}]", item))
        return out

    # -- sections ------------------------------------------------------------------

    def parse(self, data: dict) -> Config:
        self.table(data, "", {"bot", "escalation", "followup", "briefing", "outbox", "web", "stations", "officers", "groups", "schools"})
        bot = self.bot(data.get("bot"))
        escalation = self.escalation(data.get("escalation", {}))
        followup = self.followup(data.get("followup", {}))
        briefing = self.briefing(data.get("briefing", {}))
        outbox = self.outbox(data.get("outbox", {}))
        web = self.web(data.get("web", {}))
        stations = [s for s in (self.station(p, d) for p, d in self.array_of_tables(data, "stations", True)) if s]
        officers = [o for o in (self.officer(p, d) for p, d in self.array_of_tables(data, "officers", True)) if o]
        groups = [g for g in (self.group(p, d) for p, d in self.array_of_tables(data, "groups", False)) if g]
        schools = [s for s in (self.school(p, d) for p, d in self.array_of_tables(data, "schools", False)) if s]
        self.cross_check(data, stations, officers, groups, schools)
        if self.problems:
            raise ConfigError(self.problems)
        assert bot is not None
        base = self.path.parent
        bot = BotSettings(
            name=bot.name,
            timezone=bot.timezone,
            database=base / bot.database,
            lexicon=(base / bot.lexicon) if bot.lexicon else None,
            ack_in_group=bot.ack_in_group,
            notify_reporter=bot.notify_reporter,
        )
        return Config(self.path, bot, escalation, followup, briefing, outbox, web, tuple(stations), tuple(officers), tuple(groups), tuple(schools))

    def bot(self, data: Any) -> BotSettings | None:
        if data is None:
            self.error("bot", "缺少必填项")
            return None
        d = self.table(data, "bot", {"name", "timezone", "database", "lexicon", "ack_in_group", "notify_reporter"})
        name = self.value(d, "name", "bot.name", str)
        tz = self.value(d, "timezone", "bot.timezone", str, "Asia/Shanghai", _check_timezone)
        database = self.value(d, "database", "bot.database", str, "pingan.db")
        lexicon = self.value(d, "lexicon", "bot.lexicon", str, "")
        if lexicon and not (self.path.parent / lexicon).is_file():
            self.error("bot.lexicon", f'词库文件 "{lexicon}" 不存在')
        ack = self.value(d, "ack_in_group", "bot.ack_in_group", bool, True)
        notify = self.value(d, "notify_reporter", "bot.notify_reporter", bool, True)
        if name is None:
            return None
        return BotSettings(name, tz, Path(database or "pingan.db"), Path(lexicon) if lexicon else None, ack, notify)

    def minutes(self, d: dict, key: str, path: str, default: int) -> int:
        return self.value(d, key, path, int, default, lambda v: None if v > 0 else "应为正整数")

    def escalation(self, data: Any) -> Escalation:
        keys = {f.name for f in Escalation.__dataclass_fields__.values()}
        d = self.table(data, "escalation", keys)
        defaults = Escalation()
        values = {k: self.minutes(d, k, f"escalation.{k}", getattr(defaults, k)) for k in sorted(keys)}
        result = Escalation(**values)
        for sev in ("urgent", "high", "normal"):
            remind, leader = result.minutes(sev) or (0, 0)
            if leader < remind:
                self.error(f"escalation.{sev}_leader_minutes", f"上报所长的时间（{leader}分钟）不应早于提醒民警的时间（{remind}分钟）")
        return result

    def followup(self, data: Any) -> Followup:
        d = self.table(data, "followup", {"days", "at", "overdue_days"})
        days = self.value(d, "days", "followup.days", list, [7, 30])
        if not days or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in days):
            self.error("followup.days", f"应为正整数列表，如 [7, 30]，实际是 {days!r}")
            days = [7, 30]
        elif sorted(set(days)) != list(days):
            self.error("followup.days", "天数应从小到大且不重复")
        at = self.time_value(d, "at", "followup.at", time(9, 0))
        overdue = self.minutes(d, "overdue_days", "followup.overdue_days", 3)
        return Followup(tuple(days), at or time(9, 0), overdue)

    def briefing(self, data: Any) -> Briefing:
        d = self.table(data, "briefing", {"day", "at"})
        day = self.value(d, "day", "briefing.day", int, 1, lambda v: None if 1 <= v <= 28 else "应为 1 到 28 之间的日期")
        at = self.time_value(d, "at", "briefing.at", time(9, 0))
        return Briefing(day, at or time(9, 0))

    def outbox(self, data: Any) -> OutboxSettings:
        d = self.table(data, "outbox", {"room_interval_seconds", "per_minute", "daily_cap", "daily_warn_ratio"})
        defaults = OutboxSettings()
        interval = d.get("room_interval_seconds", defaults.room_interval_seconds)
        if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval < 0:
            self.error("outbox.room_interval_seconds", f"应为不小于0的秒数，实际是 {interval!r}")
            interval = defaults.room_interval_seconds
        ratio = d.get("daily_warn_ratio", defaults.daily_warn_ratio)
        if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio <= 1:
            self.error("outbox.daily_warn_ratio", f"应为 0 到 1 之间的小数，实际是 {ratio!r}")
            ratio = defaults.daily_warn_ratio
        return OutboxSettings(
            float(interval),
            self.minutes(d, "per_minute", "outbox.per_minute", defaults.per_minute),
            self.minutes(d, "daily_cap", "outbox.daily_cap", defaults.daily_cap),
            float(ratio),
        )

    def web(self, data: Any) -> WebSettings:
        d = self.table(data, "web", {"host", "port"})
        host = self.value(d, "host", "web.host", str, "127.0.0.1")
        port = self.value(d, "port", "web.port", int, 8080, lambda v: None if 0 <= v <= 65535 else "端口应在 0 到 65535 之间")
        return WebSettings(host, port)

    def station(self, path: str, data: dict) -> Station | None:
        d = self.table(data, path, {"id", "name", "leader", "officers_room"})
        vals = [self.value(d, k, f"{path}.{k}", str) for k in ("id", "name", "leader", "officers_room")]
        return Station(*vals) if None not in vals else None

    def officer(self, path: str, data: dict) -> Officer | None:
        d = self.table(data, path, {"name", "station", "role"})
        name = self.value(d, "name", f"{path}.name", str)
        station = self.value(d, "station", f"{path}.station", str)
        role = self.value(d, "role", f"{path}.role", str, "officer", lambda v: None if v in ROLES else f'应为 officer、leader 或 admin，实际是 "{v}"')
        return Officer(name, station, role) if name and station else None

    def group(self, path: str, data: dict) -> ContactGroup | None:
        d = self.table(data, path, {"room", "community", "station", "officer"})
        vals = [self.value(d, k, f"{path}.{k}", str) for k in ("room", "community", "station", "officer")]
        return ContactGroup(*vals) if None not in vals else None

    def school(self, path: str, data: dict) -> School | None:
        d = self.table(data, path, {"id", "name", "room", "station", "officer", "terms", "closed", "open", "shifts"})
        vals = [self.value(d, k, f"{path}.{k}", str) for k in ("id", "name", "room", "station", "officer")]
        terms = self.terms(d, path)
        closed = self.date_list(d, "closed", path)
        opened = self.date_list(d, "open", path)
        shifts = [s for s in (self.shift(p, t) for p, t in self.array_of_tables(d, "shifts", True, f"{path}.")) if s]
        names = [s.name for s in shifts]
        for dup in sorted({n for n in names if names.count(n) > 1}):
            self.error(f"{path}.shifts", f'班次名称 "{dup}" 重复')
        if None in vals:
            return None
        return School(*vals, terms=tuple(terms), shifts=tuple(shifts), closed=frozenset(closed), open=frozenset(opened))

    def terms(self, d: dict, path: str) -> list[tuple[date, date]]:
        raw = self.value(d, "terms", f"{path}.terms", list)
        if raw is None:
            return []
        terms: list[tuple[date, date]] = []
        for i, term in enumerate(raw):
            tpath = f"{path}.terms[{i}]"
            if not isinstance(term, list) or len(term) != 2:
                self.error(tpath, '学期应写成 ["开始日期", "结束日期"]')
                continue
            start, end = self.date_value(term[0], f"{tpath}[0]"), self.date_value(term[1], f"{tpath}[1]")
            if start and end:
                if end < start:
                    self.error(tpath, f"学期结束日期 {end} 早于开始日期 {start}")
                else:
                    terms.append((start, end))
        ordered = sorted(terms)
        for (s1, e1), (s2, e2) in zip(ordered, ordered[1:]):
            if s2 <= e1:
                self.error(f"{path}.terms", f"学期 {s1}～{e1} 与 {s2}～{e2} 重叠")
        return terms

    def date_list(self, d: dict, key: str, path: str) -> list[date]:
        raw = self.value(d, key, f"{path}.{key}", list, [])
        dates = [self.date_value(v, f"{path}.{key}[{i}]") for i, v in enumerate(raw)]
        return [x for x in dates if x]

    def shift(self, path: str, data: dict) -> Shift | None:
        d = self.table(data, path, {"name", "start", "end", "remind_before_minutes", "checkin_grace_minutes", "roster"})
        name = self.value(d, "name", f"{path}.name", str)
        start = self.time_value(d, "start", f"{path}.start")
        end = self.time_value(d, "end", f"{path}.end")
        if start and end and end <= start:
            self.error(f"{path}.end", f"结束时间 {end:%H:%M} 应晚于开始时间 {start:%H:%M}")
        remind = self.value(d, "remind_before_minutes", f"{path}.remind_before_minutes", int, 15, lambda v: None if 0 <= v <= 720 else "应为 0 到 720 之间的分钟数")
        grace = self.value(d, "checkin_grace_minutes", f"{path}.checkin_grace_minutes", int, 10, lambda v: None if v > 0 else "应为正整数")
        roster = self.roster(d, f"{path}.roster")
        if None in (name, start, end, roster):
            return None
        return Shift(name, start, end, remind, grace, roster)

    def roster(self, d: dict, path: str) -> dict[str, tuple[str, ...]] | None:
        raw = self.value(d, "roster", path, dict)
        if raw is None:
            return None
        roster: dict[str, tuple[str, ...]] = {}
        for day, names in raw.items():
            if day not in WEEKDAYS:
                self.error(f"{path}.{day}", "未知的星期，应为 mon tue wed thu fri sat sun 之一")
                continue
            if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
                self.error(f"{path}.{day}", "应为人员名字列表，如 [\"张老师\"]")
                continue
            for dup in sorted({n for n in names if names.count(n) > 1}):
                self.error(f"{path}.{day}", f'"{dup}" 重复出现')
            roster[day] = tuple(names)
        if not any(roster.values()):
            self.error(path, "值班表为空：至少要安排一个人")
            return None
        return roster

    # -- references between sections ------------------------------------------------

    def cross_check(self, data: dict, stations: list[Station], officers: list[Officer], groups: list[ContactGroup], schools: list[School]) -> None:
        station_ids = {s.id for s in stations}
        by_name = {o.name: o for o in officers}

        def check_station(path: str, station_id: str) -> None:
            if station_id not in station_ids:
                self.error(path, f'没有 id 为"{station_id}"的派出所')

        def check_officer(path: str, name: str, station_id: str) -> None:
            officer = by_name.get(name)
            if officer is None:
                self.error(path, f'没有名为"{name}"的民警')
            elif officer.station != station_id and officer.role != "admin":
                self.error(path, f'民警"{name}"属于派出所"{officer.station}"，不属于"{station_id}"')

        self._duplicates("stations", [(f"stations[{i}].id", s.id) for i, s in enumerate(stations)], "派出所 id")
        self._duplicates("officers", [(f"officers[{i}].name", o.name) for i, o in enumerate(officers)], "民警")
        self._duplicates("schools", [(f"schools[{i}].id", s.id) for i, s in enumerate(schools)], "学校 id")
        for i, s in enumerate(stations):
            check_officer(f"stations[{i}].leader", s.leader, s.id)
            leader = by_name.get(s.leader)
            if leader is not None and leader.role not in ("leader", "admin"):
                self.error(f"stations[{i}].leader", f'"{s.leader}"在 officers 中的 role 应为 leader')
        for i, o in enumerate(officers):
            check_station(f"officers[{i}].station", o.station)
        for i, g in enumerate(groups):
            check_station(f"groups[{i}].station", g.station)
            check_officer(f"groups[{i}].officer", g.officer, g.station)
        for i, s in enumerate(schools):
            check_station(f"schools[{i}].station", s.station)
            check_officer(f"schools[{i}].officer", s.officer, s.station)
        if isinstance(data.get("stations"), list) and not data["stations"]:
            self.error("stations", "至少需要一个派出所")
        if isinstance(data.get("officers"), list) and not data["officers"]:
            self.error("officers", "至少需要一名民警")

        # A room can play only one part: the bot would not know how to treat its messages.
        rooms: list[tuple[str, str, str]] = (
            [(f"groups[{i}].room", g.room, "警民联系群") for i, g in enumerate(groups)]
            + [(f"schools[{i}].room", s.room, "护学岗群") for i, s in enumerate(schools)]
            + [(f"stations[{i}].officers_room", s.officers_room, "民警工作群") for i, s in enumerate(stations)]
        )
        first: dict[str, tuple[str, str]] = {}
        for path, room, kind in rooms:
            if room in first:
                other_path, other_kind = first[room]
                if other_kind == kind:
                    self.error(path, f'群"{room}"重复（已在 {other_path} 中配置）')
                else:
                    self.error(path, f'群"{room}"已在 {other_path} 中作为{other_kind}配置，不能同时作为{kind}')
            else:
                first[room] = (path, kind)

    def _duplicates(self, section: str, items: list[tuple[str, str]], what: str) -> None:
        seen: dict[str, str] = {}
        for path, value in items:
            if value in seen:
                self.error(path, f'{what}"{value}"重复（已在 {seen[value]} 中出现）')
            else:
                seen[value] = path


def _check_timezone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f'未知的时区 "{value}"'
    return None
