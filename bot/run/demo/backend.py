"""The demo page's side of the simulator: what people type becomes a scenario event
at the virtual clock's time, what the bot sends is passed to the open pages as it
goes out, and the clock jumps on request, running everything due on the way.

One lock orders everything: a message and a clock jump never interleave, exactly
as in `pingan simulate`.
"""
from __future__ import annotations

import asyncio
import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Callable

from bot.config import Config
from bot.run.scenario import ScenarioEvent
from bot.run.simulation import Simulation
from bot.transports.simulator import SentMessage
from bot.web.chat import ChatError, Listener

log = logging.getLogger(__name__)
WEEKDAYS = "一二三四五六日"
# Scheduled jobs in people's words, for the "next event" button.
JOB_LABELS = {
    "cases.escalation.remind": "催办提醒",
    "cases.escalation.leader": "上报所长",
    "cases.followup.remind": "回访提醒",
    "cases.followup.overdue": "回访逾期上报",
    "guard.remind": "护学岗提醒",
    "guard.chase": "催促到岗",
    "guard.officer": "未到岗通知民警",
    "guard.close": "护学岗结束",
    "guard.table": "下周值班表",
}
RESIDENTS = ("张大妈", "赵大爷", "周女士", "吴先生", "刘阿姨")
MAX_NAME = 20
MAX_ENTRIES = 5000  # a long demo session: the page shows the latest
PHOTO_URL = "/static/photo.svg"  # what a resident's photo looks like in the demo


@dataclass(frozen=True)
class Sample:
    id: str
    label: str
    sender: str
    room: str | None
    text: str


def job_label(name: str) -> str:
    if name in JOB_LABELS:
        return JOB_LABELS[name]
    return "每月通报" if "briefing" in name else name


def clock_label(moment: datetime) -> str:
    return f"{moment.year}年{moment.month}月{moment.day}日 周{WEEKDAYS[moment.weekday()]} {moment:%H:%M}"


def next_month_first(moment: datetime, at: time) -> datetime:
    first = date(moment.year + moment.month // 12, moment.month % 12 + 1, 1)
    return datetime.combine(first, at, tzinfo=moment.tzinfo)


class DemoBackend:
    def __init__(self, sim: Simulation, config: Config, samples: list[Sample]):
        self.sim = sim
        self.config = config
        self.samples = {s.id: s for s in samples}
        self.entries: list[dict[str, Any]] = []
        self.files: dict[int, Path] = {}
        self._listeners: list[Listener] = []
        self._lock = asyncio.Lock()
        sim.transport.listeners.append(self._sent)

    # ---- what the page shows ---------------------------------------------------------
    def people(self) -> list[dict[str, str]]:
        roles = {"officer": "民警", "leader": "所长", "admin": "管理员"}
        cast = [{"name": n, "role": "居民"} for n in RESIDENTS]
        cast += [{"name": o.name, "role": roles.get(o.role, o.role)} for o in self.config.officers]
        staff = dict.fromkeys(name for school in self.config.schools for shift in school.shifts for names in shift.roster.values() for name in names)
        cast += [{"name": n, "role": "护学岗"} for n in staff]
        return cast

    def rooms(self) -> list[dict[str, str]]:
        out = [{"room": g.room, "kind": "contact", "note": g.community} for g in self.config.groups]
        out += [{"room": s.room, "kind": "school", "note": s.name} for s in self.config.schools]
        out += [{"room": s.officers_room, "kind": "officers", "note": s.name} for s in self.config.stations]
        return out

    def clock(self) -> dict[str, Any]:
        now = self.sim.clock.now()
        app = self.sim.app
        upcoming = app.scheduler.next_job() if app else None
        nxt = None
        if upcoming is not None:
            at, job = upcoming
            at = at.astimezone(now.tzinfo)
            nxt = {"at": at.isoformat(), "label": f"{at:%m-%d %H:%M} {job_label(job.name)}"}
        return {"now": now.isoformat(), "label": clock_label(now), "next": nxt}

    def snapshot(self) -> dict[str, Any]:
        return {
            "bot": self.config.bot.name,
            "clock": self.clock(),
            "rooms": self.rooms(),
            "people": self.people(),
            "samples": [{"id": s.id, "label": s.label} for s in self.samples.values()],
            "entries": self.entries[-MAX_ENTRIES:],
        }

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener) if listener in self._listeners else None

    def file_path(self, entry_id: int) -> Path | None:
        return self.files.get(entry_id)

    # ---- what the page does ----------------------------------------------------------
    def _check(self, sender: str, room: str | None) -> None:
        if len(sender) > MAX_NAME or any(c in sender for c in "@\n\r\t"):
            raise ChatError("名字不对：最多20个字，不能含 @ 或换行。")
        if room is not None and room not in self.config.known_rooms:
            raise ChatError(f"没有这个群：{room[:40]}")

    async def say(self, sender: str, room: str | None, text: str) -> None:
        self._check(sender, room)
        async with self._lock:
            now = self.sim.clock.now()
            mentions = self._mentions(text)
            self._add(now, room, sender, text, mentions, from_bot=False)
            await self.sim.say(ScenarioEvent(at=now, sender=sender, text=text, room=room, mentions=mentions))
            self._broadcast({"type": "clock", "clock": self.clock()})

    async def jump(self, how: str) -> None:
        async with self._lock:
            now = self.sim.clock.now()
            app = self.sim.app
            if how == "next":
                target = app.scheduler.next_fire_time() if app else None
                if target is None:
                    raise ChatError("没有待执行的定时任务。")
            elif how == "hour":
                target = now + timedelta(hours=1)
            elif how == "day":
                target = now + timedelta(days=1)
            else:
                target = next_month_first(now, self.config.briefing.at)
            await self.sim.run_until(max(target, now))
            self._broadcast({"type": "clock", "clock": self.clock()})

    async def picture(self, sender: str, room: str | None) -> None:
        """A photo in the chat. The bot reads only text (the Wechaty transport drops
        images, voice and the like), so it is shown and never delivered: the demo
        behaves as WeChat will."""
        self._check(sender, room)
        async with self._lock:
            entry = self._add(self.sim.clock.now(), room, sender, "", (), from_bot=False, file="照片.svg")
            entry["file_url"] = PHOTO_URL

    async def sample(self, sample_id: str) -> None:
        found = self.samples.get(sample_id)
        if found is None:
            raise ChatError("不认识的示例。")
        await self.say(found.sender, found.room, found.text)

    # ---- plumbing ----------------------------------------------------------------------
    def _mentions(self, text: str) -> tuple[str, ...]:
        """@-mentions of known names, as WeChat would list them with the message."""
        known = {self.config.bot.name, *(p["name"] for p in self.people())}
        found = [name for name in re.findall(r"@([^\s@]+)", text) if name in known]
        return tuple(dict.fromkeys(found))

    def _sent(self, item: SentMessage) -> None:
        m = item.message
        entry = self._add(item.at, m.room, self.config.bot.name, m.text, m.mentions, from_bot=True, contact=m.contact, file=m.file)
        if m.file:
            self.files[entry["id"]] = Path(m.file)

    def _add(self, at: datetime, room: str | None, sender: str, text: str, mentions: tuple[str, ...], *, from_bot: bool, contact: str | None = None, file: str | None = None) -> dict[str, Any]:
        local = at.astimezone(self.config.bot.tz)
        entry: dict[str, Any] = {
            "id": len(self.entries) + 1,
            "at": local.isoformat(),
            "time": f"{local.month}月{local.day}日 {local:%H:%M}",
            "chat": f"room:{room}" if room is not None else f"dm:{contact or sender}",
            "sender": sender,
            "from_bot": from_bot,
            "text": text,
            "mentions": list(mentions),
            "file": Path(file).name if file else None,
            "image": bool(file) and Path(file).suffix.lower() in (".png", ".jpg", ".jpeg", ".gif", ".svg"),
        }
        if file:
            entry["file_url"] = f"/api/chat/files/{entry['id']}"
        self.entries.append(entry)
        self._broadcast({"type": "entry", "entry": entry})
        return entry

    def _broadcast(self, event: dict) -> None:
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - one broken page must not stop the others
                log.exception("演示页推送失败")
