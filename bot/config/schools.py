"""The [[schools]] sections of `pingan.toml`: a school's terms, closed and open days,
and its guard-post shifts with their weekly rosters."""
from __future__ import annotations

from datetime import date

from bot.config.model import WEEKDAYS, School, Shift
from bot.config.reader import Reader


def parse_school(r: Reader, path: str, data: dict) -> School | None:
    d = r.table(data, path, {"id", "name", "room", "station", "officer", "terms", "closed", "open", "shifts"})
    vals = [r.value(d, k, f"{path}.{k}", str) for k in ("id", "name", "room", "station", "officer")]
    terms = _terms(r, d, path)
    closed = _date_list(r, d, "closed", path)
    opened = _date_list(r, d, "open", path)
    shifts = [s for s in (_shift(r, p, t) for p, t in r.array_of_tables(d, "shifts", True, f"{path}.")) if s]
    names = [s.name for s in shifts]
    for dup in sorted({n for n in names if names.count(n) > 1}):
        r.error(f"{path}.shifts", f'班次名称 "{dup}" 重复')
    if None in vals:
        return None
    return School(*vals, terms=tuple(terms), shifts=tuple(shifts), closed=frozenset(closed), open=frozenset(opened))


def _terms(r: Reader, d: dict, path: str) -> list[tuple[date, date]]:
    raw = r.value(d, "terms", f"{path}.terms", list)
    if raw is None:
        return []
    terms: list[tuple[date, date]] = []
    for i, term in enumerate(raw):
        tpath = f"{path}.terms[{i}]"
        if not isinstance(term, list) or len(term) != 2:
            r.error(tpath, '学期应写成 ["开始日期", "结束日期"]')
            continue
        start, end = r.date_value(term[0], f"{tpath}[0]"), r.date_value(term[1], f"{tpath}[1]")
        if start and end:
            if end < start:
                r.error(tpath, f"学期结束日期 {end} 早于开始日期 {start}")
            else:
                terms.append((start, end))
    ordered = sorted(terms)
    for (s1, e1), (s2, e2) in zip(ordered, ordered[1:]):
        if s2 <= e1:
            r.error(f"{path}.terms", f"学期 {s1}～{e1} 与 {s2}～{e2} 重叠")
    return terms


def _date_list(r: Reader, d: dict, key: str, path: str) -> list[date]:
    raw = r.value(d, key, f"{path}.{key}", list, [])
    dates = [r.date_value(v, f"{path}.{key}[{i}]") for i, v in enumerate(raw)]
    return [x for x in dates if x]


def _shift(r: Reader, path: str, data: dict) -> Shift | None:
    d = r.table(data, path, {"name", "start", "end", "remind_before_minutes", "checkin_grace_minutes", "roster"})
    name = r.value(d, "name", f"{path}.name", str)
    start = r.time_value(d, "start", f"{path}.start")
    end = r.time_value(d, "end", f"{path}.end")
    if start and end and end <= start:
        r.error(f"{path}.end", f"结束时间 {end:%H:%M} 应晚于开始时间 {start:%H:%M}")
    remind = r.value(d, "remind_before_minutes", f"{path}.remind_before_minutes", int, 15, lambda v: None if 0 <= v <= 720 else "应为 0 到 720 之间的分钟数")
    grace = r.value(d, "checkin_grace_minutes", f"{path}.checkin_grace_minutes", int, 10, lambda v: None if v > 0 else "应为正整数")
    roster = _roster(r, d, f"{path}.roster")
    if None in (name, start, end, roster):
        return None
    return Shift(name, start, end, remind, grace, roster)


def _roster(r: Reader, d: dict, path: str) -> dict[str, tuple[str, ...]] | None:
    raw = r.value(d, "roster", path, dict)
    if raw is None:
        return None
    roster: dict[str, tuple[str, ...]] = {}
    for day, names in raw.items():
        if day not in WEEKDAYS:
            r.error(f"{path}.{day}", "未知的星期，应为 mon tue wed thu fri sat sun 之一")
            continue
        if not isinstance(names, list) or not all(isinstance(n, str) and n.strip() for n in names):
            r.error(f"{path}.{day}", "应为人员名字列表，如 [\"张老师\"]")
            continue
        for dup in sorted({n for n in names if names.count(n) > 1}):
            r.error(f"{path}.{day}", f'"{dup}" 重复出现')
        roster[day] = tuple(names)
    if not any(roster.values()):
        r.error(path, "值班表为空：至少要安排一个人")
        return None
    return roster
