"""A transport's `on_problem` (two rooms with one configured topic) reaches the admins."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from bot.clock import VirtualClock
from bot.run.app import App
from bot.run.storage_watch import admins
from bot.transports.base import ProblemHandler
from bot.transports.simulator import SimulatorTransport
from bot.transports.wechaty.topics import duplicate_topic_problem

START = datetime(2026, 3, 2, 9, 0, tzinfo=timezone(timedelta(hours=8)))


class NoticingTransport(SimulatorTransport):
    """The simulator with the hook the Wechaty transport has."""

    on_problem: ProblemHandler | None = None


async def test_the_app_tells_every_admin_urgently(tmp_path, config, detector) -> None:
    clock = VirtualClock(START)
    transport = NoticingTransport(clock, config.known_rooms)
    app = App(config, clock, transport, detector, db_path=tmp_path / "p.db")
    assert transport.on_problem is not None
    await app.start()
    try:
        problem = duplicate_topic_problem("官园派出所工作群", ["b@chatroom", "a@chatroom"])
        await transport.on_problem(problem)
        await app.outbox.drain()
        sent = [s.message for s in transport.sent]
        assert sorted(m.contact for m in sent) == sorted(admins(config))
        for message in sent:
            assert message.urgent and "\n" not in message.text
            assert message.text.startswith("【系统告警】发现两个同名群“官园派出所工作群”：a@chatroom、b@chatroom。")
    finally:
        await app.stop()


def test_a_plain_transport_is_left_alone(tmp_path, config, detector) -> None:
    transport = SimulatorTransport(VirtualClock(START), config.known_rooms)
    App(config, transport.clock, transport, detector, db_path=tmp_path / "p.db")
    assert not hasattr(transport, "on_problem")
