"""Deterministic runs on a virtual clock: `pingan simulate`, the demo and the tests.

The virtual clock jumps from one moment of interest (a scenario event or a scheduled
job) to the next, so a month of schedule runs in seconds, and every step waits for its
handlers, writes and sends to finish, so two runs print identical transcripts.
"""
from __future__ import annotations

import tempfile
from datetime import datetime, timedelta
from pathlib import Path

from bot.run.app import App
from bot.clock import VirtualClock
from bot.config import Config
from bot.events import Incoming, MemberRoom
from bot.run.scenario import Scenario, ScenarioEvent
from bot.transports.simulator import SimulatorTransport
from bot.feature import DetectorLike


class Simulation:
    def __init__(self, config: Config, start: datetime, detector: DetectorLike, db_path: Path, *, bind_by_name: bool = True):
        self.config = config
        # SPEC.md "Identity": the simulator binds configured people by name; off, they
        # are bound only by config ids and 绑定 (to try the unbound paths).
        self.bind_by_name = bind_by_name
        self.clock = VirtualClock(start)
        self.detector = detector
        self.db_path = db_path
        self.transport = SimulatorTransport(self.clock, config.known_rooms)
        self.app: App | None = None
        self._count = 0
        # (number of messages sent before it, event): lets the demo interleave
        # what residents said with what the bot answered.
        self.inputs: list[tuple[int, ScenarioEvent]] = []

    async def start(self) -> None:
        self.app = App(self.config, self.clock, self.transport, self.detector, db_path=self.db_path, names_are_ids=self.bind_by_name)
        await self.app.start()
        await self.app.outbox.drain()

    async def stop(self) -> None:
        if self.app is not None:
            await self.app.stop()
            self.app = None

    async def restart(self, downtime: timedelta = timedelta(0)) -> None:
        """Stop and start again on the same database and clock, as after a crash;
        the clock moves on by `downtime` while nothing runs."""
        await self.stop()
        self.clock.advance_to(self.clock.now() + downtime)
        await self.start()

    async def run_until(self, moment: datetime, *, inclusive: bool = True) -> None:
        """Fire every job due up to `moment`, in order, then stand the clock there."""
        app = self._running()
        while True:
            nxt = app.scheduler.next_fire_time()
            if nxt is None or nxt > moment or (nxt == moment and not inclusive):
                break
            self.clock.advance_to(nxt)
            await app.scheduler.run_due(nxt)
            await app.outbox.drain()
        self.clock.advance_to(moment)

    async def say(self, event: ScenarioEvent) -> None:
        """Deliver one event at its time (jobs due at that moment run first)."""
        await self.run_until(event.at)
        self._count += 1
        self.inputs.append((len(self.transport.sent), event))
        mentions = tuple(event.mentions)
        text = event.text
        mentions_bot = self.config.bot.name in mentions or text.lstrip().startswith(f"@{self.config.bot.name}")
        sender_id = event.sender_id or event.sender
        msg = Incoming(
            id=f"sim-{self._count}",
            at=self.clock.now(),
            sender=event.sender,
            text=text,
            room=event.room,
            mentions=mentions,
            mentions_bot=mentions_bot,
            # Ids are names here: the bot's id is its name.
            is_self=sender_id == self.config.bot.name,
            sender_id=sender_id,
            room_id=event.room_id or event.room,
            # What the real transport reads from member lists, for private messages
            # only; a room's id is its topic here.
            sender_rooms=tuple(MemberRoom(topic, topic) for topic in event.member_of) if event.room is None else (),
        )
        await self.transport.deliver(msg)
        await self._running().outbox.drain()

    def transcript(self) -> list[dict]:
        return [m.as_json() for m in self.transport.sent]

    def _running(self) -> App:
        if self.app is None:
            raise RuntimeError("simulation not started")
        return self.app


async def run_scenario(scenario: Scenario, config: Config, detector: DetectorLike, db_path: Path | None = None, *, bind_by_name: bool = True) -> list[dict]:
    """Run a whole scenario and return its transcript (one dict per message sent)."""
    return (await simulate(scenario, config, detector, db_path, bind_by_name=bind_by_name)).transcript()


async def simulate(scenario: Scenario, config: Config, detector: DetectorLike, db_path: Path | None = None, *, bind_by_name: bool = True) -> Simulation:
    """Run a whole scenario; the stopped Simulation keeps what was said and sent."""
    with tempfile.TemporaryDirectory(prefix="pingan-sim-") as tmp:
        sim = Simulation(config, scenario.start, detector, db_path or Path(tmp) / "simulate.db", bind_by_name=bind_by_name)
        await sim.start()
        try:
            for event in scenario.events:
                if event.restart:
                    await sim.run_until(event.at)
                    await sim.restart(event.downtime)
                else:
                    await sim.say(event)
            await sim.run_until(scenario.end, inclusive=False)
        finally:
            await sim.stop()
        return sim
