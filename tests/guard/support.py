"""Helpers for the guard-post tests: scenarios written inline, run on the virtual clock
with the guard-post test config; and the feature itself, built on that config, for
tests of one handler's `match` and `handle`.

Guard-post words never reach the detector, so these runs use one that flags nothing:
the guard tests then neither wait for nor depend on the real lexicon.
"""
from __future__ import annotations

import asyncio
import json
from datetime import datetime
from pathlib import Path

import sqlite_utils

from bot.clock import VirtualClock
from bot.config import ContactGroup, load_config
from bot.events import Incoming
from bot.feature import DetectorLike, Services, Work
from bot.run.scenario import load_scenario
from bot.run.simulation import run_scenario
from handlers.guard import GuardPosts
from handlers.guard.room import GuardRoom
from nlp.detection import Detection
from storage.migrations import apply_migrations
from tests.conftest import CONFIGS

GUARD_CONFIG = CONFIGS / "guard_posts.toml"
YC1Z = "宜春一中护学岗工作群"
XJXX = "秀江小学护学岗工作群"


class NoDetector:
    def detect(self, text: str) -> Detection:
        return Detection(flagged=False)


def moment(local: str) -> str:
    """'2026-03-02 21:20' -> a TOML datetime in Beijing time."""
    day, clock = local.split(" ")
    return f"{day}T{clock}:00+08:00"


def say(local: str, sender: str, text: str, room: str | None = YC1Z) -> str:
    lines = ["[[events]]", f"at = {moment(local)}", f"from = {json.dumps(sender, ensure_ascii=False)}", f"text = {json.dumps(text, ensure_ascii=False)}"]
    if room is not None:
        lines.append(f"room = {json.dumps(room, ensure_ascii=False)}")
    return "\n".join(lines) + "\n"


def restart(local: str, downtime_minutes: int = 0) -> str:
    extra = f"\ndowntime_minutes = {downtime_minutes}" if downtime_minutes else ""
    return f"[[events]]\nat = {moment(local)}\nrestart = true{extra}\n"


def run(
    tmp_path: Path, *events: str, start: str, end: str, config: Path = GUARD_CONFIG, db: str = "guard.db", detector: DetectorLike | None = None
) -> list[dict]:
    """Run the scenario and return its transcript; the database stays at tmp_path/db."""
    path = tmp_path / "scenario.toml"
    path.write_text(
        f'config = "{config.as_posix()}"\nstart = {moment(start)}\nend = {moment(end)}\n' + "\n".join(events),
        encoding="utf-8",
    )
    scenario = load_scenario(path)
    return asyncio.run(run_scenario(scenario, load_config(scenario.config_path), detector or NoDetector(), tmp_path / db))


def database(tmp_path: Path, db: str = "guard.db") -> sqlite_utils.Database:
    return sqlite_utils.Database(tmp_path / db)


def in_room(transcript: list[dict], room: str) -> list[dict]:
    return [m for m in transcript if m.get("room") == room]


def to_contact(transcript: list[dict], name: str) -> list[dict]:
    return [m for m in transcript if m.get("contact") == name]


def at(message: dict) -> str:
    """'2026-03-02T21:15:00+08:00' -> '2026-03-02 21:15'"""
    return message["at"][:16].replace("T", " ")


def reminders(transcript: list[dict], room: str = YC1Z) -> list[dict]:
    return [m for m in in_room(transcript, room) if m["text"].startswith("【护学岗提醒】")]


def run_scenario_file(name: str, db_path: Path | None = None) -> list[dict]:
    """Run a file under tests/scenarios (as `pingan simulate` would) with no detector."""
    from tests.conftest import SCENARIOS

    scenario = load_scenario(SCENARIOS / name)
    return asyncio.run(run_scenario(scenario, load_config(scenario.config_path), NoDetector(), db_path))


# -- the feature on its own ---------------------------------------------------------------

def guard_posts(report=None, now: str = "2026-03-02 21:20") -> GuardPosts:
    """The feature on the guard-post test config, its clock standing at `now`."""
    clock = VirtualClock(datetime.fromisoformat(moment(now)))
    return GuardPosts(Services(load_config(GUARD_CONFIG), clock, NoDetector()), report=report)


def room(report=None) -> GuardRoom:
    """The handler of school rooms, on the guard-post test config."""
    return guard_posts(report).room


def memory_db() -> sqlite_utils.Database:
    """An empty database with the bot's tables, for running a Work's transaction."""
    db = sqlite_utils.Database(memory=True)
    apply_migrations(db)
    return db


def message(text: str, sender: str = "张老师", room: str | None = YC1Z, local: str = "2026-03-02 21:20", mentions_bot: bool = False) -> Incoming:
    """A message as the pipeline hands it to handlers."""
    return Incoming(id="test", at=datetime.fromisoformat(moment(local)), sender=sender, text=text, room=room, mentions_bot=mentions_bot)


class Reports:
    """A stand-in for the cases family's `report_in_room`: records what it is offered
    and answers with `work` (None: "not a report")."""

    def __init__(self, work: Work | None = None):
        self.work = work
        self.offered: list[tuple[Incoming, ContactGroup]] = []

    def __call__(self, msg: Incoming, place: ContactGroup) -> Work | None:
        self.offered.append((msg, place))
        return self.work
