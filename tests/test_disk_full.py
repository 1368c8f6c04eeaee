"""A full disk: nothing dropped, everything said loudly once, everything stored once.

The bot runs on the simulator and the virtual clock with the real handlers; the
database answers SQLITE_FULL ("database or disk is full") while `full` is set
(tests/storage_faults.py), or really runs out of pages (`limit_pages`).
"""
from __future__ import annotations

import asyncio
import sqlite3
from datetime import datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient, TestServer

import bot.run.app
import bot.run.pipeline
from bot.run.app import STORAGE_RETRY_INTERVAL
from bot.attempts import Attempt
from bot.config import Officer
from bot.events import Incoming, Outgoing
from bot.run.pipeline import Pipeline
from bot.run.scenario import ScenarioEvent
from bot.run.simulation import Simulation
from bot.run.storage_watch import admins
from bot.web.health import health_app
from storage.db import Database
from tests.storage_faults import FullDatabase, limit_pages

START = datetime.fromisoformat("2026-03-02T09:00:00+08:00")
ROOM = "官园社区警民联系群1"
FIRE = "三楼楼道里着火了，冒了好多烟"
DISPUTE = "楼下两个人吵起来了，快打架了"


@pytest.fixture
def full_disk(monkeypatch):
    monkeypatch.setattr(bot.run.app, "Database", FullDatabase)


async def started(config, detector, tmp_path) -> Simulation:
    sim = Simulation(config, START, detector, tmp_path / "pingan.db")
    await sim.start()
    return sim


async def say(sim: Simulation, at: datetime, text: str, sender: str = "张大妈", room: str | None = ROOM) -> None:
    await sim.say(ScenarioEvent(at=at, sender=sender, text=text, room=room, mentions=()))


async def health(sim: Simulation) -> tuple[int, dict]:
    async with TestClient(TestServer(health_app(sim.app))) as client:
        response = await client.get("/healthz")
        return response.status, await response.json()


def sent(sim: Simulation, since: int = 0) -> list[tuple[str, str]]:
    return [(m.message.room or m.message.contact, m.message.text) for m in sim.transport.sent[since:]]


async def count(db: Database, sql: str) -> int:
    return await db.read(lambda d: d.execute(sql).fetchone()[0])


async def test_disk_full_keeps_reports_alerts_once_and_stores_each_once_when_space_returns(full_disk, config, detector, tmp_path):
    sim = await started(config, detector, tmp_path)
    db = sim.app.db
    db.full = True
    await say(sim, START, FIRE)
    # The 119 reply went out at once, from memory; nothing else could be stored yet.
    assert sent(sim)[0] == (ROOM, "发生火情请立即拨打119！请先撤离到安全地带。已同时通知社区民警。")
    await say(sim, START + timedelta(seconds=2), DISPUTE, sender="王大爷", room="秀江社区警民联系群")
    await say(sim, START + timedelta(seconds=4), "认领 1", sender="李警官", room=None)
    assert len(sim.app.pipeline.pending) == 3

    status, body = await health(sim)
    assert status == 503 and body["storage"] == "failing"
    assert "database or disk is full" in body["reason"] and "3条消息未能保存" in body["reason"]
    alerts = [t for who, t in sent(sim) if who == "王所长"]
    assert len(alerts) == 1 and alerts[0].startswith("【系统告警】") and "磁盘" in alerts[0]

    # Still full at the first retries: no second alert, nothing lost.
    await sim.run_until(START + 3 * STORAGE_RETRY_INTERVAL)
    assert len([t for who, t in sent(sim) if who == "王所长"]) == 1 and len(sim.app.pipeline.pending) == 3

    db.full = False
    before = len(sim.transport.sent)
    await sim.run_until(START + 5 * STORAGE_RETRY_INTERVAL)
    after = sent(sim, before)
    assert not sim.app.pipeline.pending and sim.app.storage_problem() is None
    assert await count(db, "select count(*) from cases") == 2
    assert await count(db, "select count(*) from case_messages") == 2
    # The claim was kept too, and applied after the case it names was stored.
    assert await count(db, "select count(*) from cases where id = 1 and claimed_by = '李警官'") == 1
    assert [who for who, t in after if t.startswith("【新警情】")] == ["李警官", "陈警官"]
    assert not any("119" in t for _, t in after)  # the urgent reply is not sent twice
    assert [t[:6] for who, t in after if who == "王所长"] == ["【系统恢复】"]
    assert (await health(sim))[0] == 200

    # Later retries and restarts change nothing: stored once.
    total = len(sim.transport.sent)
    await sim.run_until(START + timedelta(hours=1))
    await sim.restart()
    assert await count(sim.app.db, "select count(*) from cases") == 2
    assert not [t for _, t in sent(sim, total) if t.startswith(("【新警情】", "发生火情"))]
    await sim.stop()


async def test_retry_queue_is_bounded_and_keeps_the_oldest(full_disk, monkeypatch, config, detector, tmp_path):
    monkeypatch.setattr(bot.run.pipeline, "MAX_PENDING", 2)
    sim = await started(config, detector, tmp_path)
    sim.app.db.full = True
    texts = [f"举报 第{i}件事：小区门口有人占道摆摊" for i in range(4)]
    for i, text in enumerate(texts):  # 31 minutes apart: four cases, not one
        await say(sim, START + timedelta(minutes=31 * i), text)
    assert [a.msg.text for a in sim.app.pipeline.pending] == texts[:2]
    assert "2条消息因重试队列已满而丢失" in (sim.app.storage_problem() or "")
    sim.app.db.full = False
    await sim.run_until(START + timedelta(hours=3))
    cases = await sim.app.db.read(lambda d: [r[0] for r in d.execute("select text from case_messages order by id")])
    assert cases == [t for t in texts[:2]]
    await sim.stop()


async def test_a_real_sqlite_full_is_survived(config, detector, tmp_path):
    """SQLite itself refuses to grow the file (max_page_count): whichever writes fail,
    after space returns every report has exactly one case and one notice."""
    sim = await started(config, detector, tmp_path)
    await limit_pages(sim.app.db, 0)
    for i in range(12):
        await say(sim, START + timedelta(minutes=31 * i), f"举报 第{i}件事：小区门口有人占道摆摊，堵住了消防通道")
    assert sim.app.db.failed_writes > 0
    # SQLite rolled the transaction back itself: the reason is the disk, not a failed ROLLBACK.
    assert "database or disk is full" in (sim.app.storage_problem() or "")
    await limit_pages(sim.app.db, None)
    await sim.run_until(START + timedelta(hours=7))
    db = sim.app.db
    assert await count(db, "select count(*) from cases") == 12
    assert await count(db, "select count(distinct text) from case_messages") == 12
    notices = [t for who, t in sent(sim) if who == "李警官" and t.startswith("【新警情】")]
    assert len(notices) == 12 and len(set(notices)) == 12
    assert sim.app.storage_problem() is None
    await sim.stop()


class _Writes:
    """A handler that writes `before` times, then fails as a full disk does."""

    def __init__(self, db: Database, before: int):
        self.db, self.before, self.calls = db, before, 0

    def matches(self, msg: Incoming) -> bool:
        return True

    async def handle(self, msg: Incoming) -> None:
        self.calls += 1
        for _ in range(self.before):
            await self.db.write(lambda d: d.execute("select 1"))
        raise sqlite3.OperationalError("database or disk is full")


@pytest.mark.parametrize("before, kept", [(0, True), (1, False)])
async def test_only_work_with_nothing_stored_is_retried(config, tmp_path, before, kept):
    db = Database(tmp_path / "p.db")
    await db.open()
    handler = _Writes(db, before)
    pipeline = Pipeline(config, [handler])
    await pipeline.handle(Incoming(id="m1", at=START, sender="张大妈", text="举报", room=ROOM))
    # Half-stored work is not redone: a retry would open a second case.
    assert (len(pipeline.pending) == 1) is kept
    await db.close()


def test_admins_are_the_admin_role_else_the_station_leaders(config):
    import dataclasses

    assert admins(config) == ("王所长", "钱所长")  # no admin: every station's leader
    with_admin = dataclasses.replace(config, officers=config.officers + (Officer("赵主任", "guanyuan", "admin"),))
    assert admins(with_admin) == ("赵主任",)


async def test_a_reminder_due_while_the_disk_is_full_is_sent_and_recorded_once(full_disk, config, detector, tmp_path):
    sim = await started(config, detector, tmp_path)
    await say(sim, START, "举报 小区门口有人占道摆摊，堵住了消防通道")  # normal: reminded after 120 min
    sim.app.db.full = True
    await sim.run_until(START + timedelta(minutes=121))
    reminders = [t for who, t in sent(sim) if who == "李警官" and t.startswith("【催办】")]
    assert len(reminders) == 1  # sent from memory, on time
    sim.app.db.full = False
    await sim.run_until(START + timedelta(minutes=130))
    events = await sim.app.db.read(lambda d: [r[0] for r in d.execute("select kind from case_events where kind = 'reminded'")])
    assert events == ["reminded"]  # the job was done again for its write, not its message
    assert len([t for who, t in sent(sim) if t.startswith("【催办】")]) == 1
    await sim.stop()
