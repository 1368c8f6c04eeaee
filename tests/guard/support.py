"""Helpers for the guard-post tests: scenarios written inline, run on the virtual clock
with the guard-post test config; and the feature itself, built on that config, for
tests of one handler's `match` and `handle`.

Guard-post words never reach the detector, so these runs use one that flags nothing:
the guard tests then neither wait for nor depend on the real lexicon.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path

import sqlite_utils

from bot.clock import VirtualClock
from bot.config import ContactGroup, load_config
from bot.events import Incoming
from bot.feature import DetectorLike, Services, Work
from bot.identity import People
from handlers.guard import GuardPosts
from handlers.guard.room import GuardRoom
from nlp.detection import Detection
from storage.migrations import apply_migrations
from tests import support
from tests.support import CONFIGS, in_room, restart, t  # noqa: F401 - re-exported for the guard tests
from tests.support import to as to_contact

GUARD_CONFIG = CONFIGS / "guard_posts.toml"
YC1Z = "宜春一中护学岗工作群"
XJXX = "秀江小学护学岗工作群"


class NoDetector:
    def detect(self, text: str) -> Detection:
        return Detection(flagged=False)


def say(local: str, sender: str, text: str, room: str | None = YC1Z, mentions: tuple[str, ...] = ()) -> support.Events:
    """A message in the school's room unless told otherwise."""
    return support.say(local, sender, text, room, mentions)


def run(
    tmp_path: Path, *events: str, start: str, end: str, config: Path = GUARD_CONFIG, db: str = "guard.db", detector: DetectorLike | None = None
) -> list[dict]:
    """Run the scenario on the guard-post config; the database stays at tmp_path/db."""
    return support.run_inline(detector or NoDetector(), [e for group in events for e in group], directory=tmp_path, config=config, start=start, end=end, db_path=tmp_path / db)


def database(tmp_path: Path, db: str = "guard.db") -> sqlite_utils.Database:
    return sqlite_utils.Database(tmp_path / db)


def local_time(message: dict) -> str:
    """When a transcript message was sent: '2026-03-02T21:15:00+08:00' -> '2026-03-02 21:15'"""
    return message["at"][:16].replace("T", " ")


def reminders(transcript: list[dict], room: str = YC1Z) -> list[dict]:
    return [m for m in in_room(transcript, room) if m["text"].startswith("【护学岗提醒】")]


def run_scenario_file(name: str, db_path: Path | None = None) -> list[dict]:
    """Run a file under tests/scenarios (as `pingan simulate` would) with no detector."""
    return support.run_file(name, NoDetector(), db_path)


# -- the feature on its own ---------------------------------------------------------------

def guard_posts(report=None, now: str = "2026-03-02 21:20") -> GuardPosts:
    """The feature on the guard-post test config, its clock standing at `now`."""
    clock = VirtualClock(datetime.fromisoformat(t(now)))
    config = load_config(GUARD_CONFIG)
    return GuardPosts(Services(config, clock, NoDetector(), People(config, names_are_ids=True)), report=report)


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
    return Incoming(id="test", at=datetime.fromisoformat(t(local)), sender=sender, text=text, room=room, mentions_bot=mentions_bot)


class Reports:
    """A stand-in for the cases family's `report_in_room`: records what it is offered
    and answers with `work` (None: "not a report")."""

    def __init__(self, work: Work | None = None):
        self.work = work
        self.offered: list[tuple[Incoming, ContactGroup]] = []

    def __call__(self, msg: Incoming, place: ContactGroup) -> Work | None:
        self.offered.append((msg, place))
        return self.work
