"""What the tests share: the test configs, inline scenario events, the scenario
runner and transcript filters, so each test reads as "these messages arrive, these
are sent"."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta
from pathlib import Path

from bot.config import load_config
from bot.run.scenario import Scenario, ScenarioEvent, load_scenario
from bot.run.simulation import run_scenario

TESTS = Path(__file__).resolve().parents[1]
CONFIGS = TESTS / "configs"
SCENARIOS = TESTS / "scenarios"

GROUP1 = "官园社区警民联系群1"  # guanyuan, officer 李警官
GROUP2 = "秀江社区警民联系群"  # guanyuan, officer 陈警官
XIAPU = "下浦社区警民联系群"  # xiujiang, officer 孙警官
ROOM = "官园派出所工作群"
XJ_ROOM = "秀江派出所工作群"
DISPUTE = "楼下两个人吵起来了，快打架了"  # dispute · high
NORMAL_DISPUTE = "隔壁邻居为了漏水的事吵起来了"  # dispute · normal
KNIFE = "有人拿刀在小区门口砍人了！"  # urgent


def t(moment: str) -> str:
    """'09:15' (on 2026-03-02), '03-09 09:00' (in 2026) or '2027-02-20 07:00' -> a
    scenario timestamp in Beijing time; a timestamp already is one."""
    if "T" in moment:
        return moment
    if moment[:4].isdigit() and moment[4] == "-":
        day, clock = moment.split(" ")
        return f"{day}T{clock}:00+08:00"
    if " " in moment:
        day, clock = moment.split(" ")
        return f"2026-{day}T{clock}:00+08:00"
    return f"2026-03-02T{moment}:00+08:00"


Events = list[ScenarioEvent]


def _when(moment: str) -> datetime:
    return datetime.fromisoformat(t(moment))


def say(
    at: str, sender: str, text: str, room: str | None = None, mentions: tuple[str, ...] = (), sender_id: str = "", room_id: str | None = None,
    member_of: tuple[str, ...] = (),
) -> Events:
    """`sender` says `text` at `at` (`t` format), in `room` or privately to the bot;
    `sender_id` / `room_id` when they are not the names (an impostor, a room with a
    copied topic); `member_of`: the rooms a private sender is in. Events add up with `+`."""
    return [ScenarioEvent(at=_when(at), sender=sender, text=text, room=room, mentions=tuple(mentions), sender_id=sender_id, room_id=room_id,
                          member_of=tuple(member_of))]


def report(at: str, sender: str = "张大妈", text: str = DISPUTE, room: str = GROUP1) -> Events:
    return say(at, sender, text, room)


def restart(at: str, downtime_minutes: int = 0) -> Events:
    """The bot stops at `at` and starts again `downtime_minutes` later, on the same database."""
    return [ScenarioEvent(at=_when(at), restart=True, downtime=timedelta(minutes=downtime_minutes))]


def to(transcript: list[dict], contact: str) -> list[dict]:
    return [m for m in transcript if m.get("contact") == contact]


def in_room(transcript: list[dict], room: str) -> list[dict]:
    return [m for m in transcript if m.get("room") == room]


def sent_at(transcript: list[dict], moment: str) -> list[dict]:
    """The messages sent at this moment (`t` format)."""
    return [m for m in transcript if m["at"] == t(moment)]


def texts(messages: list[dict]) -> list[str]:
    return [m["text"] for m in messages]


def only(messages: list[dict]) -> dict:
    assert len(messages) == 1, messages
    return messages[0]


DAY_END = "2026-03-02T21:00:00+08:00"  # before the evening guard-post shift, whose messages are not ours


def run_inline(
    detector,
    events: Events,
    *,
    directory: Path,
    config: Path = CONFIGS / "pingan.toml",
    config_text: str | None = None,
    start: str = "2026-03-02T06:00:00+08:00",
    end: str = "2026-03-03T00:00:00+08:00",
    db_path: Path | None = None,
    bind_by_name: bool = True,
) -> list[dict]:
    """The one scenario runner: `events` (as `say` and `restart` make them) on the test
    config, or on `config_text`, through the simulator and the virtual clock, with
    the database at `db_path` (a temporary file if None). Returns the transcript, one
    dict per message sent."""
    if config_text is not None:
        config = directory / "pingan.toml"
        config.write_text(config_text, encoding="utf-8")
    # Stable, as the scenario loader: events at one moment keep their written order.
    ordered = tuple(sorted(events, key=lambda e: e.at))
    scenario = Scenario(directory / "inline", config, _when(start), _when(end), ordered)
    return asyncio.run(run_scenario(scenario, load_config(config), detector, db_path, bind_by_name=bind_by_name))


def run_file(name: str, detector, db_path: Path | None = None) -> list[dict]:
    """Run a scenario file under tests/scenarios, as `pingan simulate` does."""
    scenario = load_scenario(SCENARIOS / name)
    return asyncio.run(run_scenario(scenario, load_config(scenario.config_path), detector, db_path))


def config_with(replace: tuple[str, str], base: Path = CONFIGS / "pingan.toml") -> str:
    """The test config's text with one replacement (which must apply)."""
    text = base.read_text(encoding="utf-8")
    assert replace[0] in text, replace[0]
    return text.replace(*replace)


def run_with_config(tmp_path, detector, events: str, replace: tuple[str, str], *, start: str = "2026-03-02T06:00:00+08:00", end: str = DAY_END) -> list[dict]:
    """Run inline events on a variant of the test config (one text replacement)."""
    return run_inline(detector, events, directory=tmp_path, config_text=config_with(replace), start=start, end=end)


async def power_cut_while_queuing(monkeypatch, config, detector, db_path, text: str, room: str):
    """A resident's message arrives; the case is written, then the disk fails while its
    notices are queued (an I/O error inside the one transaction). Returns the running
    simulation and how many cases were stored at that moment (the case must have
    been rolled back with its notices: there is never a case nobody was told of)."""
    import sqlite3
    from datetime import datetime, timedelta, timezone

    from bot.events import Incoming
    from bot.run.simulation import Simulation
    from storage import outbox as outbox_store

    start = datetime(2026, 3, 2, 9, tzinfo=timezone(timedelta(hours=8)))
    real_enqueue = outbox_store.enqueue

    def power_cut(db, msg, now, sent_at=None):
        if not msg.urgent:
            raise sqlite3.OperationalError("disk I/O error")
        return real_enqueue(db, msg, now, sent_at)

    monkeypatch.setattr(outbox_store, "enqueue", power_cut)
    sim = Simulation(config, start, detector, db_path)
    await sim.start()
    await sim.transport.deliver(Incoming(id="1", at=start, sender="张大妈", text=text, room=room))
    stored = await sim.app.db.read(lambda d: d.execute("select count(*) from cases").fetchone()[0])
    monkeypatch.setattr(outbox_store, "enqueue", real_enqueue)
    return sim, stored


# ---- the web pages (tests/web) --------------------------------------------------------
WEB_PASSWORD = "test-pass-1234"
DEMO_CONFIG = Path(__file__).resolve().parents[2] / "bot" / "run" / "demo" / "pingan.toml"


def csrf_of(html: str) -> str:
    """The CSRF token a page carries (its meta tag or a form's hidden field)."""
    import re

    found = re.search(r'name="csrf-token" content="([^"]+)"', html) or re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def web_login(client, name: str, password: str = WEB_PASSWORD):
    """Log `client` in as `name` through the login form; returns the response."""
    page = await client.get("/login")
    token = csrf_of(await page.text())
    return await client.post("/login", data={"name": name, "password": password, "csrf_token": token}, allow_redirects=False)


async def page_token(client, path: str = "/ledger") -> str:
    return csrf_of(await (await client.get(path)).text())
