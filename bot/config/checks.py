"""Checks across sections of `pingan.toml`: ids and names that must be unique, and
references (a group's station, a school's officer) that must point somewhere; and
warnings about settings that are valid but rarely meant (short shifts)."""
from __future__ import annotations

from bot.config.model import ContactGroup, Officer, School, Station
from bot.config.reader import Reader


def cross_check(r: Reader, data: dict, stations: list[Station], officers: list[Officer], groups: list[ContactGroup], schools: list[School]) -> None:
    station_ids = {s.id for s in stations}
    by_name = {o.name: o for o in officers}

    def check_station(path: str, station_id: str) -> None:
        if station_id not in station_ids:
            r.error(path, f'没有 id 为"{station_id}"的派出所')

    def check_officer(path: str, name: str, station_id: str) -> None:
        officer = by_name.get(name)
        if officer is None:
            r.error(path, f'没有名为"{name}"的民警')
        elif officer.station != station_id and officer.role != "admin":
            r.error(path, f'民警"{name}"属于派出所"{officer.station}"，不属于"{station_id}"')

    _duplicates(r, "stations", [(f"stations[{i}].id", s.id) for i, s in enumerate(stations)], "派出所 id")
    _duplicates(r, "officers", [(f"officers[{i}].name", o.name) for i, o in enumerate(officers)], "民警")
    _duplicates(r, "schools", [(f"schools[{i}].id", s.id) for i, s in enumerate(schools)], "学校 id")
    for i, s in enumerate(stations):
        check_officer(f"stations[{i}].leader", s.leader, s.id)
        leader = by_name.get(s.leader)
        if leader is not None and leader.role not in ("leader", "admin"):
            r.error(f"stations[{i}].leader", f'"{s.leader}"在 officers 中的 role 应为 leader')
    for i, o in enumerate(officers):
        check_station(f"officers[{i}].station", o.station)
    for i, g in enumerate(groups):
        check_station(f"groups[{i}].station", g.station)
        check_officer(f"groups[{i}].officer", g.officer, g.station)
    for i, s in enumerate(schools):
        check_station(f"schools[{i}].station", s.station)
        check_officer(f"schools[{i}].officer", s.officer, s.station)
    if isinstance(data.get("stations"), list) and not data["stations"]:
        r.error("stations", "至少需要一个派出所")
    if isinstance(data.get("officers"), list) and not data["officers"]:
        r.error("officers", "至少需要一名民警")

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
                r.error(path, f'群"{room}"重复（已在 {other_path} 中配置）')
            else:
                r.error(path, f'群"{room}"已在 {other_path} 中作为{other_kind}配置，不能同时作为{kind}')
        else:
            first[room] = (path, kind)


def _duplicates(r: Reader, section: str, items: list[tuple[str, str]], what: str) -> None:
    seen: dict[str, str] = {}
    for path, value in items:
        if value in seen:
            r.error(path, f'{what}"{value}"重复（已在 {seen[value]} 中出现）')
        else:
            seen[value] = path


def shift_warnings(schools: tuple[School, ...] | list[School]) -> list[str]:
    """Shifts shorter than twice their check-in grace: the officer's notice of who is
    missing cannot come at start + 2×grace and comes at the shift's end instead (and
    with grace ≥ the length, nobody is chased in the room). Valid, but rarely meant."""
    warnings = []
    for i, school in enumerate(schools):
        for j, shift in enumerate(school.shifts):
            minutes = (shift.end.hour * 60 + shift.end.minute) - (shift.start.hour * 60 + shift.start.minute)
            grace = shift.checkin_grace_minutes
            if 2 * grace <= minutes:
                continue
            text = (
                f"警告：schools[{i}].shifts[{j}]: {school.name}“{shift.name}”只有{minutes}分钟，短于2倍签到宽限（2×{grace}分钟），"
                f"未到岗人员将在班次结束时（{shift.end:%H:%M}）通知{school.officer}"
            )
            text += "，群里不会催到岗。" if grace >= minutes else "。"
            warnings.append(text + "如需更早通知，请把 checkin_grace_minutes 调小。")
    return warnings
