"""Scenario files for `pingan simulate` (SPEC.md "`pingan simulate`").

An extension beyond SPEC.md: an event with `restart = true` (and no text) stops the
bot and starts it again on the same database at that moment, to rehearse a crash;
with `downtime_minutes = N` the bot stays down N minutes first (the clock moves on,
nothing runs), to rehearse work missed while it was down.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path


class ScenarioError(Exception):
    """The scenario cannot be run; the message is one line naming file and key."""


@dataclass(frozen=True)
class ScenarioEvent:
    at: datetime
    sender: str = ""
    text: str = ""
    room: str | None = None
    mentions: tuple[str, ...] = ()
    restart: bool = False
    downtime: timedelta = timedelta(0)
    # The sender's id, when it is not their name (the simulator's ids are names): an
    # impostor showing an officer's name, a resident called 平安助手.
    sender_id: str = ""
    room_id: str | None = None  # the room's id, when not its topic (a copied topic)
    # For a private message: the rooms (topics) the sender is a member of, which the
    # real transport reads from the rooms' member lists (`member_of = [...]`).
    member_of: tuple[str, ...] = ()


@dataclass(frozen=True)
class Scenario:
    path: Path
    config_path: Path
    start: datetime
    end: datetime
    events: tuple[ScenarioEvent, ...]


def _moment(value: object, where: str, path: Path) -> datetime:
    if isinstance(value, datetime) and value.tzinfo is not None:
        return value
    raise ScenarioError(f"{path}: {where} 应为带时区的时间，如 2026-03-02T09:15:00+08:00，实际是 {value!r}")


def load_scenario(path: Path | str) -> Scenario:
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ScenarioError(f"{path}: 场景文件不存在") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: 无法读取场景文件（{exc}）") from None
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(f"{path}: TOML 格式错误：{exc}") from None
    unknown = sorted(set(data) - {"config", "start", "end", "events"})
    if unknown:
        raise ScenarioError(f"{path}: {unknown[0]}: 未知的配置项")
    if not isinstance(data.get("config"), str):
        raise ScenarioError(f"{path}: config: 缺少配置文件路径")
    start = _moment(data.get("start"), "start", path)
    end = _moment(data.get("end"), "end", path)
    if end <= start:
        raise ScenarioError(f"{path}: end: 结束时间应晚于开始时间")
    raw_events = data.get("events", [])
    if not isinstance(raw_events, list):
        raise ScenarioError(f"{path}: events: 应为 [[events]] 表数组")
    events = [_event(e, i, path, start, end) for i, e in enumerate(raw_events)]
    # Stable sort: events at the same moment keep the order they were written in.
    events.sort(key=lambda e: e.at)
    for down in (e for e in events if e.restart and e.downtime):
        back = down.at + down.downtime
        if back >= end:
            raise ScenarioError(f"{path}: downtime_minutes: 重启时间 {back.isoformat()} 不早于 end")
        lost = next((e for e in events if not e.restart and down.at < e.at < back), None)
        if lost is not None:
            raise ScenarioError(f"{path}: {lost.at.isoformat()} 的消息落在机器人停机期间（{down.at.isoformat()} 起 {down.downtime}）")
    return Scenario(path, (path.parent / data["config"]).resolve(), start, end, tuple(events))


def _event(raw: object, i: int, path: Path, start: datetime, end: datetime) -> ScenarioEvent:
    where = f"events[{i}]"
    if not isinstance(raw, dict):
        raise ScenarioError(f"{path}: {where}: 应为表")
    unknown = sorted(set(raw) - {"at", "room", "room_id", "from", "from_id", "text", "mentions", "restart", "downtime_minutes", "member_of"})
    if unknown:
        raise ScenarioError(f"{path}: {where}.{unknown[0]}: 未知的配置项")
    at = _moment(raw.get("at"), f"{where}.at", path)
    if not start <= at < end:
        raise ScenarioError(f"{path}: {where}.at: {at.isoformat()} 不在 start 与 end 之间")
    if raw.get("restart") is True:
        downtime = raw.get("downtime_minutes", 0)
        if isinstance(downtime, bool) or not isinstance(downtime, int) or downtime < 0:
            raise ScenarioError(f"{path}: {where}.downtime_minutes: 应为不小于0的整数分钟")
        return ScenarioEvent(at=at, restart=True, downtime=timedelta(minutes=downtime))
    if "downtime_minutes" in raw:
        raise ScenarioError(f"{path}: {where}.downtime_minutes: 只能用于 restart = true 的事件")
    sender, text = raw.get("from"), raw.get("text")
    if not isinstance(sender, str) or not sender:
        raise ScenarioError(f"{path}: {where}.from: 缺少发送人")
    if not isinstance(text, str):
        raise ScenarioError(f"{path}: {where}.text: 缺少消息内容")
    room = raw.get("room")
    if room is not None and not isinstance(room, str):
        raise ScenarioError(f"{path}: {where}.room: 应为群名")
    mentions = raw.get("mentions", [])
    if not isinstance(mentions, list) or not all(isinstance(m, str) for m in mentions):
        raise ScenarioError(f"{path}: {where}.mentions: 应为名字列表")
    member_of = raw.get("member_of", [])
    if not isinstance(member_of, list) or not all(isinstance(m, str) for m in member_of):
        raise ScenarioError(f"{path}: {where}.member_of: 应为群名列表")
    sender_id, room_id = raw.get("from_id", ""), raw.get("room_id")
    if not isinstance(sender_id, str) or not (room_id is None or isinstance(room_id, str)):
        raise ScenarioError(f"{path}: {where}.{'from_id' if not isinstance(sender_id, str) else 'room_id'}: 应为字符串")
    return ScenarioEvent(at=at, sender=sender, text=text, room=room, mentions=tuple(mentions), sender_id=sender_id, room_id=room_id,
                         member_of=tuple(member_of))
