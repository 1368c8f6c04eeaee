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


async def test_the_alarm_goes_to_the_admins_bound_ids_only(tmp_path, config, detector) -> None:
    """Never by name: with 王所长 bound to an id, the alarm is addressed to that id;
    an unbound leader's alarm goes to the officers' room instead."""
    import dataclasses

    officers = tuple(dataclasses.replace(o, wechat_id="wx-wang") if o.name == "王所长" else o for o in config.officers)
    bound = dataclasses.replace(config, officers=officers)
    clock = VirtualClock(START)
    transport = NoticingTransport(clock, bound.known_rooms)
    app = App(bound, clock, transport, detector, db_path=tmp_path / "p.db", names_are_ids=False)
    await app.start()
    try:
        await transport.on_problem(duplicate_topic_problem("官园派出所工作群", ["b@chatroom", "a@chatroom"]))
        await app.outbox.drain()
        alarms = [s.message for s in transport.sent if "发现两个同名群" in s.message.text]
        to_wang = [m for m in alarms if m.contact == "王所长"]
        assert len(to_wang) == 1 and to_wang[0].contact_id == "wx-wang"
        # 钱所长 is not bound: no private message by name, the room instead.
        assert not [m for m in alarms if m.contact == "钱所长"]
        assert [m.room for m in alarms if m.room is not None] == ["秀江派出所工作群"]
    finally:
        await app.stop()
