"""Keeping the account connected: the first login, then sessions one after another,
reconnecting with backoff, and the connection state reported to /healthz."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Awaitable, Callable

from bot.transports.wechaty.directory import DirectoryLoader
from bot.transports.wechaty.sdk import import_wechaty
from bot.transports.wechaty.session import Session, close, heartbeat, open_session

log = logging.getLogger(__package__)  # the package's logger (see sdk.py)

# A stop waits this long for the connection to close; a gateway that does not
# answer must not keep SIGTERM from ending the process.
STOP_TIMEOUT_SECONDS = 5.0

STATE_CONNECTING = "connecting"
STATE_ONLINE = "online"
STATE_OFFLINE = "offline"
STATE_STOPPED = "stopped"

# Handles one message of a session, by its id (see inbound.py).
MessageHandler = Callable[[Session, str], Awaitable[None]]


class TransportStartError(Exception):
    """The transport could not get a logged-in WeChat account within the login timeout.

    `reason` is one of "bad_token", "unreachable", "not_logged_in"; the message is one
    line, Chinese then English, fit to print to an operator as is.
    """

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


class _LoggedOut(Exception):
    """The gateway reported a logout: the session ends and the transport reconnects."""


def parse_endpoint(endpoint: str) -> tuple[str, int]:
    """Split "host:port" (the WECHATY_PUPPET_SERVICE_ENDPOINT format)."""
    host, sep, port = endpoint.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"endpoint must be host:port, got {endpoint!r}")
    return host.strip("[]"), int(port)


class Connection:
    """Connects, serves one session until it ends, backs off, and again, until stopped.

    Every puppet event of a session goes through one queue and is handled in arrival
    order: logins here, messages by `on_message`, room renames into the directory.
    """

    def __init__(
        self,
        endpoint: str,
        token: str,
        bot_name: str,
        loader: DirectoryLoader,
        on_message: MessageHandler,
        *,
        login_timeout: float,
        reconnect_initial: float,
        reconnect_max: float,
        connect_timeout: float,
        heartbeat_interval: float | None,
    ) -> None:
        self._host, self._port = parse_endpoint(endpoint)
        self._endpoint = endpoint
        self._token = token
        self._bot_name = bot_name
        self._loader = loader
        self._on_message = on_message
        self._login_timeout = login_timeout
        self._reconnect_initial = reconnect_initial
        self._reconnect_max = reconnect_max
        self._connect_timeout = connect_timeout
        self._heartbeat_interval = heartbeat_interval
        self._state = STATE_STOPPED
        self._runner: asyncio.Task[None] | None = None
        self._session: Session | None = None
        self._first_login: asyncio.Future[None] | None = None
        self._last_failure: TransportStartError | None = None

    @property
    def state(self) -> str:
        return self._state

    @property
    def session(self) -> Session | None:
        """The logged-in session, or None while there is none to send through."""
        return self._session

    @property
    def running(self) -> bool:
        return self._runner is not None

    async def start(self) -> None:
        """Start the connection loop; return once logged in, or raise TransportStartError
        after the login timeout (at once for a rejected token)."""
        self._last_failure = None
        self._first_login = asyncio.get_running_loop().create_future()
        self._set_state(STATE_CONNECTING, f"connecting to {self._endpoint}")
        self._runner = asyncio.create_task(self._run(), name="wechaty-transport")
        try:
            async with asyncio.timeout(self._login_timeout):
                await asyncio.shield(self._first_login)
        except TimeoutError:
            await self.stop()
            raise self._timeout_error() from None
        except TransportStartError:
            await self.stop()
            raise

    async def stop(self) -> None:
        # Cancel the runner first: it owns the session and closes it on the way out.
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                async with asyncio.timeout(STOP_TIMEOUT_SECONDS):
                    await runner
        if self._state != STATE_STOPPED:
            self._set_state(STATE_STOPPED, "stop() called")

    # ---- connection loop ----------------------------------------------------------

    async def _run(self) -> None:
        """Connect, serve until the connection ends, back off, and again, until stopped."""
        delay = self._reconnect_initial
        while True:
            self._set_state(STATE_CONNECTING, f"connecting to {self._endpoint}")
            session_logged_in = False
            try:
                session_logged_in = await self._serve_one_connection()
                why = "the gateway closed the event stream"
            except TransportStartError as error:
                self._last_failure = error
                why = str(error)
                if error.reason == "bad_token" and not self._first_login_done():
                    self._first_login.set_exception(error)  # type: ignore[union-attr]
                    return
            except _LoggedOut as error:
                session_logged_in, why = True, str(error)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # noqa: BLE001 - the loop must survive anything the wire does
                why = f"connection lost: {error!r}"
            if session_logged_in:
                delay = self._reconnect_initial  # it worked for a while: retry promptly
            self._set_state(STATE_OFFLINE, f"{why}; retrying in {delay:g}s")
            await asyncio.sleep(delay)
            delay = min(delay * 2, self._reconnect_max)

    async def _serve_one_connection(self) -> bool:
        """One session, from connect to disconnect: returns whether the account logged in."""
        await self._probe_endpoint()
        self._last_failure = None
        session = await open_session(self._endpoint, self._token)
        tasks = {
            asyncio.create_task(self._open_stream(session), name="wechaty-stream"),
            asyncio.create_task(self._pump(session), name="wechaty-events"),
            asyncio.create_task(heartbeat(session, self._heartbeat_interval), name="wechaty-heartbeat"),
        }
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # re-raise whatever ended the session
            return session.self_id is not None
        finally:
            if self._session is session:
                self._session = None  # no sends through a dying connection
            tasks |= session.background
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            # stop() clears _runner before cancelling us: that is the graceful case.
            await close(session, graceful=self._runner is None)

    async def _probe_endpoint(self) -> None:
        """Fail fast (and without blocking the loop) when nothing listens at the endpoint.

        The client's own check is a blocking telnet with a 3 s timeout, which would
        freeze the whole bot on every retry while the gateway is down.
        """
        try:
            async with asyncio.timeout(self._connect_timeout):
                _, writer = await asyncio.open_connection(self._host, self._port)
        except (OSError, TimeoutError) as error:
            raise TransportStartError(
                "unreachable",
                f"无法连接 Wechaty 服务 {self._endpoint} / puppet-service endpoint unreachable: "
                f"{error.__class__.__name__}: {error}",
            ) from error
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    async def _open_stream(self, session: Session) -> None:
        """Run the puppet's start(): it connects, then listens until the stream ends."""
        wechaty = import_wechaty()
        try:
            await session.puppet.start()
        except wechaty.GRPCError as error:
            if error.status == wechaty.Status.UNAUTHENTICATED:
                raise TransportStartError(
                    "bad_token",
                    f"Wechaty 令牌无效 / puppet-service token rejected by {self._endpoint}: "
                    # The gateway quotes the token; a wrong one is often a near-miss
                    # of the real one, so it stays out of the logs too.
                    f"{(error.message or '').replace(self._token, '***')}",
                ) from error
            raise

    async def _pump(self, session: Session) -> None:
        """Handle queued events in arrival order; returns (ending the session) on logout."""
        while True:
            kind, payload = await session.events.get()
            if kind == "logout":
                # Reconnecting is the one reliable way to see the next login: the client
                # replays `login` to a new stream, and ids may have changed meanwhile.
                raise _LoggedOut("the WeChat account logged out")
            try:
                if kind == "login":
                    await self._handle_login(session, payload.contact_id)
                elif kind == "message":
                    await self._on_message(session, payload.message_id)
                elif kind == "room-topic":
                    await self._loader.renamed(payload.room_id, payload.new_topic)
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one bad message must not stop the rest
                log.exception("wechaty transport: failed to handle %s event %r", kind, payload)

    async def _handle_login(self, session: Session, contact_id: str) -> None:
        # Ids may differ after a re-login (another account, another gateway): start afresh.
        self._loader.directory.clear()
        session.self_id = contact_id
        session.self_name = await self._loader.contact_name(session.puppet, contact_id)
        if session.self_name != self._bot_name:
            log.warning("logged in as %r, but the config names the bot %r",
                        session.self_name, self._bot_name)
        self._session = session
        self._set_state(STATE_ONLINE, f"logged in as {session.self_name!r} via {self._endpoint}")
        if not self._first_login_done():
            self._first_login.set_result(None)  # type: ignore[union-attr]
        # Every room, so that two with one configured topic are noticed before anyone
        # speaks; in the background: messages that arrive meanwhile are not held up.
        session.background.add(asyncio.create_task(self._list_rooms(session), name="wechaty-rooms"))

    async def _list_rooms(self, session: Session) -> None:
        try:
            await self._loader.complete_rooms(session.puppet)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - a send by topic lists them again
            log.warning("could not list the rooms after login: %r", error)

    # ---- state --------------------------------------------------------------------

    def _set_state(self, state: str, why: str) -> None:
        if state == self._state:
            return
        level = logging.WARNING if state == STATE_OFFLINE else logging.INFO
        log.log(level, "wechaty transport %s -> %s: %s", self._state, state, why)
        self._state = state

    def _first_login_done(self) -> bool:
        return self._first_login is None or self._first_login.done()

    def _timeout_error(self) -> TransportStartError:
        if self._last_failure is not None:
            return self._last_failure
        return TransportStartError(
            "not_logged_in",
            f"已连接 {self._endpoint} 但微信账号未在 {self._login_timeout:g} 秒内登录 / "
            f"connected to {self._endpoint} but the WeChat account did not log in within "
            f"{self._login_timeout:g}s (scan the QR code on the gateway?)",
        )
