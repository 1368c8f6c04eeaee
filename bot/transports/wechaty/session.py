"""One connection to the gateway, from connect to disconnect: how it is opened, how
its puppet events are queued, how it is kept alive and how it is closed. The
reconnect loop around it is in connection.py."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from bot.transports.wechaty.sdk import import_wechaty

log = logging.getLogger(__package__)  # the package's logger (see sdk.py)


@dataclass
class Session:
    """One connection to the gateway, from connect to disconnect."""

    bot: Any
    events: asyncio.Queue[tuple[str, Any]] = field(default_factory=asyncio.Queue)
    self_id: str | None = None
    self_name: str = ""
    # Work started by an event (listing rooms after login), cancelled with the session.
    background: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def puppet(self) -> Any:
        return self.bot.puppet


async def open_session(endpoint: str, token: str) -> Session:
    """A Wechaty object bound to a new puppet for `endpoint`, its events queued.

    `Wechaty.start()` is never called (see the package docstring): the puppet is
    driven directly, and the Wechaty object is kept for its Room/Contact helpers.
    """
    wechaty = import_wechaty()
    options = wechaty.WechatyOptions(
        # A fresh PuppetOptions each time: the dataclass default is one shared instance.
        puppet_options=wechaty.PuppetOptions(end_point=endpoint, token=token),
        # An in-memory scheduler: the default one keeps jobs in .wechaty/job.db.
        scheduler=wechaty.AsyncIOScheduler(),
    )
    bot = wechaty.Wechaty(options)
    await bot.init_puppet()  # binds bot.Room/bot.Contact to this connection's puppet
    # wechaty caches Room/Contact objects in process-wide pools, each object bound to
    # the puppet that made it; after a reconnect they would talk to a closed channel.
    for user_class in (bot.Room, bot.Contact, bot.ContactSelf, bot.Tag):
        user_class._pool = {}
    session = Session(bot=bot)
    _listen(session)
    return session


def _listen(session: Session) -> None:
    """Queue the puppet events we use; the connection's pump handles them one at a
    time, in order."""
    def enqueue(kind: str) -> Callable[[Any], None]:
        return lambda payload: session.events.put_nowait((kind, payload))

    for kind in ("login", "logout", "message", "room-topic"):
        session.puppet.on(kind, enqueue(kind))
    session.puppet.on("error", lambda payload: log.warning("wechaty error event: %s", payload))


async def heartbeat(session: Session, interval_seconds: float | None) -> None:
    """Ping the gateway now and then; raise (ending the session) when it stops answering."""
    if interval_seconds is None:
        await asyncio.Event().wait()  # disabled: never ends the session
    interval = float(interval_seconds or 0)
    while True:
        await asyncio.sleep(interval)
        try:
            async with asyncio.timeout(interval):
                await session.puppet.ding("pingan-heartbeat")
        except TimeoutError:
            raise ConnectionError(f"the gateway did not answer a ping within {interval:g}s") from None


async def close(session: Session, graceful: bool) -> None:
    """Release the gRPC channel. On stop(), also tell the gateway (as wechaty's
    own stop() does); after a lost connection that call could only hang."""
    puppet = session.puppet
    if graceful:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(3.0):
                await puppet.stop()
    channel = getattr(puppet, "channel", None)
    if channel is not None:
        channel.close()
        puppet.channel = None
