"""`WechatyTransport`: the Transport the bot uses, composed of the connection, the
inbound and outbound sides and the directory they share."""
from __future__ import annotations

import asyncio
import os
from datetime import datetime
from typing import Callable, Iterable

from bot.events import Outgoing
from bot.transports.base import IncomingHandler, ProblemHandler, TransportError
from bot.transports.log_secrets import register_secret
from bot.transports.wechaty.connection import STATE_ONLINE, Connection
from bot.transports.wechaty.directory import Directory, DirectoryLoader
from bot.transports.wechaty.inbound import Inbound
from bot.transports.wechaty.outbound import Outbound
from bot.transports.wechaty.sdk import import_wechaty
from bot.transports.wechaty.topics import TopicWatch


class WechatyTransport:
    """A Transport (see bot.transports.base) over a Wechaty puppet-service gateway.

    `start` returns once the account is logged in, or raises TransportStartError
    after `login_timeout` seconds (at once for a rejected token). Afterwards the
    connection is kept up: when the gateway drops or restarts, the transport
    reconnects with exponential backoff (`reconnect_initial` doubling up to
    `reconnect_max` seconds) and logs each state change; `send` raises
    TransportError while it is not online. Every `heartbeat_interval` seconds it
    pings the gateway, so a frozen gateway or a silently dead link (no TCP reset)
    is noticed too.

    `watch_topics`: the configured room topics. When two rooms the account is in
    share one of them, the transport logs it and tells `on_problem` (once per
    topic), and refuses sends to that topic unless they give the room id.
    """

    def __init__(
        self,
        endpoint: str,
        token: str,
        bot_name: str,
        clock_now: Callable[[], datetime],
        login_timeout: float = 30.0,
        *,
        reconnect_initial: float = 1.0,
        reconnect_max: float = 30.0,
        connect_timeout: float = 5.0,
        heartbeat_interval: float | None = 30.0,
        send_timeout: float = 30.0,
        watch_topics: Iterable[str] = (),
    ) -> None:
        self._watch = TopicWatch(watch_topics)
        loader = DirectoryLoader(Directory(), self._watch)
        self._inbound = Inbound(loader, bot_name, clock_now)
        self._outbound = Outbound(loader)
        # Checks the endpoint first: a malformed one raises ValueError here.
        self._connection = Connection(
            endpoint, token, bot_name, loader, self._inbound.handle_message,
            login_timeout=login_timeout,
            reconnect_initial=reconnect_initial,
            reconnect_max=reconnect_max,
            connect_timeout=connect_timeout,
            heartbeat_interval=heartbeat_interval,
        )
        # python-wechaty logs the token itself (at warn and below): mask it everywhere.
        register_secret(token)
        self._send_timeout = send_timeout

    @property
    def state(self) -> str:
        return self._connection.state

    @property
    def on_problem(self) -> ProblemHandler | None:
        """Told (one line, Chinese) about rooms sharing a watched topic; set by the App."""
        return self._watch.on_problem

    @on_problem.setter
    def on_problem(self, handler: ProblemHandler | None) -> None:
        self._watch.on_problem = handler

    async def start(self, on_message: IncomingHandler) -> None:
        if self._connection.running:
            raise RuntimeError("WechatyTransport.start() called twice")
        import_wechaty()
        self._inbound.on_message = on_message
        await self._connection.start()

    async def send(self, message: Outgoing) -> None:
        """Send one message: text (with @-mentions in rooms), then the file if any.

        Raises TransportError when it may work later (not connected, connection lost,
        no answer within `send_timeout`, recipient not found), UndeliverableError
        (AmbiguousRecipient) when sent by a topic or name that several rooms or
        people have, FileNotFoundError when the file to send does not exist (checked
        first, so nothing is half-sent).
        """
        if message.file is not None and not os.path.isfile(message.file):
            raise FileNotFoundError(f"file to send does not exist: {message.file}")
        session = self._connection.session
        if session is None or self._connection.state != STATE_ONLINE:
            raise TransportError(f"微信未连接 / WeChat not connected (state: {self._connection.state})")
        wechaty = import_wechaty()
        try:
            async with asyncio.timeout(self._send_timeout):
                await self._outbound.send(session, message)
        except TransportError:
            raise
        except TimeoutError as error:
            raise TransportError(
                f"发送超时 / send timed out after {self._send_timeout:g}s") from error
        except (wechaty.GRPCError, wechaty.StreamTerminatedError, wechaty.WechatyPuppetError,
                ConnectionError, OSError) as error:
            # WechatyPuppetError: the session closed under us (its stub is gone).
            raise TransportError(f"发送失败 / send failed: {error!r}") from error

    async def stop(self) -> None:
        await self._connection.stop()
