"""The plain sections of `pingan.toml`: the settings tables ([bot], [escalation],
[followup], [briefing], [outbox], [web], [calendar]) and the flat arrays ([[stations]],
[[officers]], [[groups]]). Schools, which nest terms and shifts, are in schools.py."""
from __future__ import annotations

from datetime import date, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.config.model import (
    ROLES,
    BotSettings,
    Briefing,
    ContactGroup,
    Escalation,
    Followup,
    Officer,
    OutboxSettings,
    StateCalendar,
    Station,
    WebSettings,
)
from bot.config.reader import Reader


def parse_bot(r: Reader, data: Any) -> BotSettings | None:
    if data is None:
        r.error("bot", "缺少必填项")
        return None
    d = r.table(data, "bot", {"name", "timezone", "database", "lexicon", "ack_in_group", "notify_reporter"})
    name = r.value(d, "name", "bot.name", str)
    tz = r.value(d, "timezone", "bot.timezone", str, "Asia/Shanghai", _check_timezone)
    database = r.value(d, "database", "bot.database", str, "pingan.db")
    lexicon = r.value(d, "lexicon", "bot.lexicon", str, "")
    if lexicon and not (r.path.parent / lexicon).is_file():
        r.error("bot.lexicon", f'词库文件 "{lexicon}" 不存在')
    ack = r.value(d, "ack_in_group", "bot.ack_in_group", bool, True)
    notify = r.value(d, "notify_reporter", "bot.notify_reporter", bool, True)
    if name is None:
        return None
    return BotSettings(name, tz, Path(database or "pingan.db"), Path(lexicon) if lexicon else None, ack, notify)


def parse_escalation(r: Reader, data: Any) -> Escalation:
    keys = {f.name for f in Escalation.__dataclass_fields__.values()}
    d = r.table(data, "escalation", keys)
    defaults = Escalation()
    values = {k: r.minutes(d, k, f"escalation.{k}", getattr(defaults, k)) for k in sorted(keys)}
    result = Escalation(**values)
    for sev in ("urgent", "high", "normal"):
        remind, leader = result.minutes(sev) or (0, 0)
        if leader < remind:
            r.error(f"escalation.{sev}_leader_minutes", f"上报所长的时间（{leader}分钟）不应早于提醒民警的时间（{remind}分钟）")
    return result


def parse_followup(r: Reader, data: Any) -> Followup:
    d = r.table(data, "followup", {"days", "at", "overdue_days"})
    days = r.value(d, "days", "followup.days", list, [7, 30])
    if not days or not all(isinstance(x, int) and not isinstance(x, bool) and x > 0 for x in days):
        r.error("followup.days", f"应为正整数列表，如 [7, 30]，实际是 {days!r}")
        days = [7, 30]
    elif sorted(set(days)) != list(days):
        r.error("followup.days", "天数应从小到大且不重复")
    at = r.time_value(d, "at", "followup.at", time(9, 0))
    overdue = r.minutes(d, "overdue_days", "followup.overdue_days", 3)
    return Followup(tuple(days), at or time(9, 0), overdue)


def parse_briefing(r: Reader, data: Any) -> Briefing:
    d = r.table(data, "briefing", {"day", "at"})
    day = r.value(d, "day", "briefing.day", int, 1, lambda v: None if 1 <= v <= 28 else "应为 1 到 28 之间的日期")
    at = r.time_value(d, "at", "briefing.at", time(9, 0))
    return Briefing(day, at or time(9, 0))


def parse_outbox(r: Reader, data: Any) -> OutboxSettings:
    d = r.table(data, "outbox", {"room_interval_seconds", "per_minute", "daily_cap", "daily_warn_ratio"})
    defaults = OutboxSettings()
    interval = d.get("room_interval_seconds", defaults.room_interval_seconds)
    if isinstance(interval, bool) or not isinstance(interval, (int, float)) or interval < 0:
        r.error("outbox.room_interval_seconds", f"应为不小于0的秒数，实际是 {interval!r}")
        interval = defaults.room_interval_seconds
    ratio = d.get("daily_warn_ratio", defaults.daily_warn_ratio)
    if isinstance(ratio, bool) or not isinstance(ratio, (int, float)) or not 0 < ratio <= 1:
        r.error("outbox.daily_warn_ratio", f"应为 0 到 1 之间的小数，实际是 {ratio!r}")
        ratio = defaults.daily_warn_ratio
    return OutboxSettings(
        float(interval),
        r.minutes(d, "per_minute", "outbox.per_minute", defaults.per_minute),
        r.minutes(d, "daily_cap", "outbox.daily_cap", defaults.daily_cap),
        float(ratio),
    )


def parse_web(r: Reader, data: Any) -> WebSettings:
    d = r.table(data, "web", {"host", "port", "secure_cookies", "trust_proxy"})
    host = r.value(d, "host", "web.host", str, "127.0.0.1")
    port = r.value(d, "port", "web.port", int, 8080, lambda v: None if 0 <= v <= 65535 else "端口应在 0 到 65535 之间")
    secure = r.value(d, "secure_cookies", "web.secure_cookies", bool, False)
    proxy = r.value(d, "trust_proxy", "web.trust_proxy", bool, False)
    return WebSettings(host, port, bool(secure), bool(proxy))


def parse_calendar(r: Reader, data: Any) -> StateCalendar:
    """[calendar]: dates as the State Council publishes them each year."""
    d = r.table(data, "calendar", {"holidays", "workdays"})
    lists: dict[str, list[date]] = {}
    for key in ("holidays", "workdays"):
        raw = r.value(d, key, f"calendar.{key}", list, []) or []
        dates = [r.date_value(v, f"calendar.{key}[{i}]") for i, v in enumerate(raw)]
        lists[key] = [x for x in dates if x]
        for dup in sorted({x for x in lists[key] if lists[key].count(x) > 1}):
            r.error(f"calendar.{key}", f"日期 {dup} 重复")
    for day in sorted(set(lists["holidays"]) & set(lists["workdays"])):
        r.error("calendar", f"{day} 不能既是放假日又是调休上班日")
    for i, day in enumerate(lists["workdays"]):
        if day.weekday() < 5:
            r.error(f"calendar.workdays[{i}]", f"{day} 是周{'一二三四五'[day.weekday()]}，本来就上班；workdays 只填周末调休上班的日期")
    return StateCalendar(frozenset(lists["holidays"]), frozenset(lists["workdays"]))


def parse_station(r: Reader, path: str, data: dict) -> Station | None:
    d = r.table(data, path, {"id", "name", "leader", "officers_room"})
    vals = [r.value(d, k, f"{path}.{k}", str) for k in ("id", "name", "leader", "officers_room")]
    return Station(*vals) if None not in vals else None


def parse_officer(r: Reader, path: str, data: dict) -> Officer | None:
    d = r.table(data, path, {"name", "station", "role", "wechat_id"})
    name = r.value(d, "name", f"{path}.name", str)
    station = r.value(d, "station", f"{path}.station", str)
    role = r.value(d, "role", f"{path}.role", str, "officer", lambda v: None if v in ROLES else f'应为 officer、leader 或 admin，实际是 "{v}"')
    wechat_id = r.value(d, "wechat_id", f"{path}.wechat_id", str, None, lambda v: None if v.strip() else "不能为空")
    return Officer(name, station, role, wechat_id) if name and station else None


def parse_group(r: Reader, path: str, data: dict) -> ContactGroup | None:
    d = r.table(data, path, {"room", "community", "station", "officer"})
    vals = [r.value(d, k, f"{path}.{k}", str) for k in ("room", "community", "station", "officer")]
    return ContactGroup(*vals) if None not in vals else None


def _check_timezone(value: str) -> str | None:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        return f'未知的时区 "{value}"'
    return None
