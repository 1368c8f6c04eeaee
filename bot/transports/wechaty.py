"""The Wechaty transport: real WeChat through a Wechaty puppet-service gateway.

This is the only module that imports wechaty. The python client (PyPI `wechaty`
0.10.7, the last release) needs help to run well inside a long-lived bot:

* it does not import on Python 3.11 without a hash shim, rejects unknown
  `WECHATY_LOG` values at import, and writes `.wechaty/` into the working
  directory (see `_import_wechaty`);
* `Wechaty.start()` swallows auth errors, sleeps 60 s and restarts on network
  errors, and stops the whole event loop on puppet errors. So this module never
  calls it: it drives the `PuppetService` directly (connect, listen, reconnect)
  and uses the `Wechaty` object only for its room/contact `say()` helpers;
* its message listener handles each message in a separate task, so two quick
  messages can reach the bot out of order. Here every puppet event goes through
  one queue and is handled in arrival order (a report and its follow-up must open
  one case, not race to open two).

Incoming messages become `bot.events.Incoming` (room topic, sender name, text,
mention names, `mentions_bot`, `is_self`); only text messages are delivered.
Rooms are found by topic and people by display name through a cached directory,
refreshed when a lookup misses or a room is renamed.
"""
from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import re
import tempfile
import warnings
from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any, Callable, Iterable

from bot.events import Incoming, Outgoing, bounded_text
from bot.transports.base import IncomingHandler, TransportError
from bot.transports.log_secrets import apply_wechaty_level, register_secret

log = logging.getLogger(__name__)

# The values python-wechaty accepts for WECHATY_LOG; anything else makes its import raise.
_WECHATY_LOG_LEVELS = {"silly", "verbose", "info", "warn", "error", "silent"}
# How WeChat separates an @-mention from the text after it (U+2005 FOUR-PER-EM SPACE).
_AT_SEPARATOR = "\u2005"
# Message types as numbered on the wire (wechaty-puppet's MessageType, which the
# gateway sends as is); only text is read. Newer gateways add types (Post = 16).
_WIRE_TYPE_TEXT = 7
# A stop waits this long for the connection to close; a gateway that does not
# answer must not keep SIGTERM from ending the process.
STOP_TIMEOUT_SECONDS = 5.0
_WIRE_TYPE_NAMES = {
    0: "unknown", 1: "attachment", 2: "audio", 3: "contact card", 4: "chat history",
    5: "emoticon", 6: "image", 7: "text", 8: "location", 9: "mini program",
    10: "group note", 11: "transfer", 12: "red envelope", 13: "recalled", 14: "url",
    15: "video", 16: "post",
}

STATE_CONNECTING = "connecting"
STATE_ONLINE = "online"
STATE_OFFLINE = "offline"
STATE_STOPPED = "stopped"


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


class RecipientNotFound(TransportError):
    """No room with that topic, or no person with that name, is visible to the account.

    A TransportError because it can heal (the bot is added to the room later, a
    rename is undone); an outbox may still choose to give up on it sooner.
    """


@functools.lru_cache(maxsize=1)
def _import_wechaty() -> SimpleNamespace:
    """Import wechaty once, with the shims it needs on this Python.

    Done lazily, not at module import, so the rest of the bot (and its tests) never
    pays for wechaty's heavy imports or its side effects unless Wechaty is used.
    """
    level = os.environ.get("WECHATY_LOG", "").lower()
    if level not in _WECHATY_LOG_LEVELS:
        # Unset or invalid: use "error". Its INFO logs print message texts (residents'
        # reports) and its WARNING logs print the service token (masked: log_secrets).
        if level:
            log.warning("WECHATY_LOG=%r is not one of %s; using 'error'",
                        level, sorted(_WECHATY_LOG_LEVELS))
        os.environ["WECHATY_LOG"] = "error"
    # wechaty creates its cache dir (`.wechaty/` in the cwd by default) at import;
    # put it in the temp dir instead of the operator's working directory.
    os.environ.setdefault(
        "CACHE_DIR", os.path.join(tempfile.gettempdir(), f"pingan-wechaty-{os.getuid()}"))

    import wechaty_puppet.schemas.puppet as puppet_schema

    # Python 3.11 rejects a dataclass field whose default is an unhashable dataclass
    # instance; WechatyOptions has `puppet_options: PuppetOptions = PuppetOptions()`.
    puppet_schema.PuppetOptions.__hash__ = object.__hash__  # type: ignore[assignment]

    with warnings.catch_warnings():
        # Third-party import-time deprecations (quart, apscheduler) are not ours to fix.
        warnings.simplefilter("ignore", DeprecationWarning)
        from apscheduler.schedulers.asyncio import AsyncIOScheduler
        from grpclib.const import Status
        from grpclib.exceptions import GRPCError, StreamTerminatedError
        from wechaty import Wechaty, WechatyOptions
        from wechaty_puppet import FileBox, MessageType, PuppetOptions
        from wechaty_puppet.exceptions import WechatyPuppetError

    # Its loggers read WECHATY_LOG at import with an odd mapping ("silent" logs all).
    apply_wechaty_level(os.environ["WECHATY_LOG"])
    return SimpleNamespace(
        AsyncIOScheduler=AsyncIOScheduler, FileBox=FileBox, GRPCError=GRPCError,
        MessageType=MessageType, PuppetOptions=PuppetOptions, Status=Status,
        StreamTerminatedError=StreamTerminatedError, Wechaty=Wechaty,
        WechatyOptions=WechatyOptions, WechatyPuppetError=WechatyPuppetError,
    )


def _file_box_json(path: str) -> str:
    """A FileBox of the file's bytes, serialised for the wire (bytes inline: the
    gateway may run on another host).

    Serialised here rather than inside `room.say()`: FileBox logs through the
    deprecated `Logger.warn` on every access to its mimeType, and that warning must
    be silenced around the calls without touching global state across an await.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return str(_import_wechaty().FileBox.from_file(path).to_json_str())


def parse_endpoint(endpoint: str) -> tuple[str, int]:
    """Split "host:port" (the WECHATY_PUPPET_SERVICE_ENDPOINT format)."""
    host, sep, port = endpoint.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"endpoint must be host:port, got {endpoint!r}")
    return host.strip("[]"), int(port)


@dataclass
class Directory:
    """What the account can see: rooms (id -> topic, members) and people (id -> name).

    Names and topics are what operators write in the config; ids are what the wire
    needs. Filled lazily, refreshed wholesale when a lookup misses (rate-limited, so
    a typo in the config does not cost a full refresh on every send).
    """

    min_refresh_interval: float = 60.0
    topics: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    friends: set[str] = field(default_factory=set)
    members: dict[str, tuple[str, ...]] = field(default_factory=dict)
    last_refresh: float | None = None

    def clear(self) -> None:
        self.topics.clear()
        self.names.clear()
        self.friends.clear()
        self.members.clear()
        self.last_refresh = None

    def can_refresh(self, now: float) -> bool:
        return self.last_refresh is None or now - self.last_refresh >= self.min_refresh_interval

    def room_id(self, topic: str) -> str | None:
        matches = [rid for rid, t in self.topics.items() if t == topic]
        if not matches and topic in self.topics:
            return topic  # a room without a topic is known by its id
        if len(matches) > 1:
            log.warning("several rooms have the topic %r; using %s", topic, matches[0])
        return matches[0] if matches else None

    def contact_id(self, name: str, among: Iterable[str] | None = None) -> str | None:
        """The id of the person called `name`: among `among` if given, friends first."""
        pool = list(among) if among is not None else list(self.names)
        matches = [cid for cid in pool if self.names.get(cid) == name]
        if not matches and name in pool:
            return name  # a person without a name is known by their id
        matches.sort(key=lambda cid: cid not in self.friends)
        if len(matches) > 1:
            log.warning("several people are called %r; using %s", name, matches[0])
        return matches[0] if matches else None


@dataclass
class _Session:
    """One connection to the gateway, from connect to disconnect."""

    bot: Any
    events: asyncio.Queue[tuple[str, Any]] = field(default_factory=asyncio.Queue)
    self_id: str | None = None
    self_name: str = ""

    @property
    def puppet(self) -> Any:
        return self.bot.puppet


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
    ) -> None:
        self._host, self._port = parse_endpoint(endpoint)
        self._endpoint = endpoint
        self._token = token
        # python-wechaty logs the token itself (at warn and below): mask it everywhere.
        register_secret(token)
        self._bot_name = bot_name
        self._now = clock_now
        self._login_timeout = login_timeout
        self._reconnect_initial = reconnect_initial
        self._reconnect_max = reconnect_max
        self._connect_timeout = connect_timeout
        self._heartbeat_interval = heartbeat_interval
        self._send_timeout = send_timeout
        self._state = STATE_STOPPED
        self._on_message: IncomingHandler | None = None
        self._runner: asyncio.Task[None] | None = None
        self._session: _Session | None = None
        self._directory = Directory()
        self._refresh_lock = asyncio.Lock()
        self._first_login: asyncio.Future[None] | None = None
        self._last_failure: TransportStartError | None = None

    # ---- Transport protocol -------------------------------------------------------

    @property
    def state(self) -> str:
        return self._state

    async def start(self, on_message: IncomingHandler) -> None:
        if self._runner is not None:
            raise RuntimeError("WechatyTransport.start() called twice")
        _import_wechaty()
        self._on_message = on_message
        self._last_failure = None
        self._first_login = asyncio.get_running_loop().create_future()
        self._set_state(STATE_CONNECTING, f"connecting to {self._endpoint}")
        self._runner = asyncio.create_task(self._run(), name="wechaty-transport")
        try:
            await asyncio.wait_for(asyncio.shield(self._first_login), self._login_timeout)
        except asyncio.TimeoutError:
            await self.stop()
            raise self._timeout_error() from None
        except TransportStartError:
            await self.stop()
            raise

    async def send(self, message: Outgoing) -> None:
        """Send one message: text (with @-mentions in rooms), then the file if any.

        Raises TransportError when it may work later (not connected, connection lost,
        no answer within `send_timeout`, recipient not found), FileNotFoundError when
        the file to send does not exist (checked first, so nothing is half-sent).
        """
        if message.file is not None and not os.path.isfile(message.file):
            raise FileNotFoundError(f"file to send does not exist: {message.file}")
        session = self._session
        if session is None or self._state != STATE_ONLINE:
            raise TransportError(f"微信未连接 / WeChat not connected (state: {self._state})")
        wechaty = _import_wechaty()
        send = self._send_to_room if message.room is not None else self._send_to_contact
        try:
            await asyncio.wait_for(send(session, message), self._send_timeout)
        except TransportError:
            raise
        except asyncio.TimeoutError as error:
            raise TransportError(
                f"发送超时 / send timed out after {self._send_timeout:g}s") from error
        except (wechaty.GRPCError, wechaty.StreamTerminatedError, wechaty.WechatyPuppetError,
                ConnectionError, OSError) as error:
            # WechatyPuppetError: the session closed under us (its stub is gone).
            raise TransportError(f"发送失败 / send failed: {error!r}") from error

    async def stop(self) -> None:
        # Cancel the runner first: it owns the session and closes it on the way out.
        runner, self._runner = self._runner, None
        if runner is not None:
            runner.cancel()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(runner, STOP_TIMEOUT_SECONDS)
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
        wechaty = _import_wechaty()
        options = wechaty.WechatyOptions(
            # A fresh PuppetOptions each time: the dataclass default is one shared instance.
            puppet_options=wechaty.PuppetOptions(end_point=self._endpoint, token=self._token),
            # An in-memory scheduler: the default one keeps jobs in .wechaty/job.db.
            scheduler=wechaty.AsyncIOScheduler(),
        )
        bot = wechaty.Wechaty(options)
        await bot.init_puppet()  # binds bot.Room/bot.Contact to this connection's puppet
        # wechaty caches Room/Contact objects in process-wide pools, each object bound to
        # the puppet that made it; after a reconnect they would talk to a closed channel.
        for user_class in (bot.Room, bot.Contact, bot.ContactSelf, bot.Tag):
            user_class._pool = {}
        session = _Session(bot=bot)
        self._listen(session)
        tasks = {
            asyncio.create_task(self._open_stream(session), name="wechaty-stream"),
            asyncio.create_task(self._pump(session), name="wechaty-events"),
            asyncio.create_task(self._heartbeat(session), name="wechaty-heartbeat"),
        }
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # re-raise whatever ended the session
            return session.self_id is not None
        finally:
            if self._session is session:
                self._session = None  # no sends through a dying connection
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            # stop() clears _runner before cancelling us: that is the graceful case.
            await self._close(session, graceful=self._runner is None)

    async def _probe_endpoint(self) -> None:
        """Fail fast (and without blocking the loop) when nothing listens at the endpoint.

        The client's own check is a blocking telnet with a 3 s timeout, which would
        freeze the whole bot on every retry while the gateway is down.
        """
        try:
            _, writer = await asyncio.wait_for(
                asyncio.open_connection(self._host, self._port), self._connect_timeout)
        except (OSError, asyncio.TimeoutError) as error:
            raise TransportStartError(
                "unreachable",
                f"无法连接 Wechaty 服务 {self._endpoint} / puppet-service endpoint unreachable: "
                f"{error.__class__.__name__}: {error}",
            ) from error
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()

    async def _open_stream(self, session: _Session) -> None:
        """Run the puppet's start(): it connects, then listens until the stream ends."""
        wechaty = _import_wechaty()
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

    async def _heartbeat(self, session: _Session) -> None:
        """Ping the gateway now and then; raise (ending the session) when it stops answering."""
        if self._heartbeat_interval is None:
            await asyncio.Event().wait()  # disabled: never ends the session
        interval = float(self._heartbeat_interval or 0)
        while True:
            await asyncio.sleep(interval)
            try:
                await asyncio.wait_for(session.puppet.ding("pingan-heartbeat"), interval)
            except asyncio.TimeoutError:
                raise ConnectionError(f"the gateway did not answer a ping within {interval:g}s") from None

    def _listen(self, session: _Session) -> None:
        """Queue the puppet events we use; `_pump` handles them one at a time, in order."""
        def enqueue(kind: str) -> Callable[[Any], None]:
            return lambda payload: session.events.put_nowait((kind, payload))

        for kind in ("login", "logout", "message", "room-topic"):
            session.puppet.on(kind, enqueue(kind))
        session.puppet.on("error", lambda payload: log.warning("wechaty error event: %s", payload))

    async def _pump(self, session: _Session) -> None:
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
                    await self._handle_message(session, payload.message_id)
                elif kind == "room-topic":
                    self._directory.topics[payload.room_id] = payload.new_topic
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - one bad message must not stop the rest
                log.exception("wechaty transport: failed to handle %s event %r", kind, payload)

    async def _close(self, session: _Session, graceful: bool) -> None:
        """Release the gRPC channel. On stop(), also tell the gateway (as wechaty's
        own stop() does); after a lost connection that call could only hang."""
        puppet = session.puppet
        if graceful:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(puppet.stop(), 3.0)
        channel = getattr(puppet, "channel", None)
        if channel is not None:
            channel.close()
            puppet.channel = None

    # ---- incoming -----------------------------------------------------------------

    async def _handle_login(self, session: _Session, contact_id: str) -> None:
        # Ids may differ after a re-login (another account, another gateway): start afresh.
        self._directory.clear()
        session.self_id = contact_id
        session.self_name = await self._contact_name(session, contact_id)
        if session.self_name != self._bot_name:
            log.warning("logged in as %r, but the config names the bot %r",
                        session.self_name, self._bot_name)
        self._session = session
        self._set_state(STATE_ONLINE, f"logged in as {session.self_name!r} via {self._endpoint}")
        if not self._first_login_done():
            self._first_login.set_result(None)  # type: ignore[union-attr]

    async def _handle_message(self, session: _Session, message_id: str) -> None:
        incoming = await self._to_incoming(session, message_id)
        if incoming is None or self._on_message is None:
            return
        try:
            await self._on_message(incoming)
        except Exception:  # noqa: BLE001 - a handler bug must not drop the connection
            log.exception("wechaty transport: message handler failed on %s", message_id)

    async def _to_incoming(self, session: _Session, message_id: str) -> Incoming | None:
        # The raw payload, not `puppet.message_payload()`: the client maps the wire's
        # type through a fixed list and raises IndexError on any type newer than it
        # (Post = 16), which used to cost a traceback per message.
        payload = await session.puppet.puppet_stub.message_payload(id=message_id)
        wire_type = int(payload.type or 0)
        if wire_type != _WIRE_TYPE_TEXT:
            # Voice, images, locations, mini programs, recalls...: nothing to read.
            # One line, never a traceback: a group can send hundreds of these.
            name = _WIRE_TYPE_NAMES.get(wire_type)
            if name is None:
                log.info("ignoring message %s of unknown type %d", message_id, wire_type)
            else:
                log.debug("ignoring %s message %s", name, message_id)
            return None
        room_id = (payload.room_id or "").strip()
        talker_id = (payload.from_id or "").strip()
        text = bounded_text(payload.text or "")  # the wire's copy is dropped with `payload`
        mention_ids = tuple(payload.mention_ids or ())
        sender = await self._contact_name(session, talker_id) if talker_id else ""
        return Incoming(
            id=message_id,
            at=self._now(),
            sender=sender,
            text=text,
            room=await self._room_topic(session, room_id) if room_id else None,
            mentions=tuple([await self._mention_name(session, cid) for cid in mention_ids]),
            mentions_bot=self._mentions_bot(session, mention_ids, text),
            is_self=bool(talker_id) and talker_id == session.self_id,
        )

    async def _mention_name(self, session: _Session, contact_id: str) -> str:
        """The name of a mentioned person, or their id when the gateway cannot say.

        A mention of someone who left WeChat (or whom the gateway cannot look up)
        must not drop the message around it, an explicit 举报 least of all. The id
        is not cached as a name: the gateway may know the person next time.
        """
        if contact_id == session.self_id:
            return session.self_name or contact_id
        try:
            return await self._contact_name(session, contact_id)
        except asyncio.CancelledError:
            raise
        except Exception as error:  # noqa: BLE001 - any wire error: keep the message
            log.info("mentioned contact %s cannot be looked up (%s); kept as its id",
                     contact_id, error.__class__.__name__)
            return contact_id

    def _mentions_bot(self, session: _Session, mention_ids: tuple[str, ...], text: str) -> bool:
        if session.self_id in mention_ids:
            return True
        # Some gateways leave the mention list empty; the text still shows "@name ".
        name = session.self_name or self._bot_name
        return bool(name) and re.search(
            "@" + re.escape(name) + f"(?:{_AT_SEPARATOR}| |$)", text) is not None

    async def _contact_name(self, session: _Session, contact_id: str) -> str:
        """A person's display name; a person without one is known by their id."""
        if contact_id not in self._directory.names:
            payload = await session.puppet.contact_payload(contact_id)
            self._directory.names[contact_id] = payload.name or ""
        return self._directory.names[contact_id] or contact_id

    async def _room_topic(self, session: _Session, room_id: str) -> str:
        """A room's topic; a room without one is known by its id (never a config topic)."""
        if room_id not in self._directory.topics:
            payload = await session.puppet.room_payload(room_id)
            self._directory.topics[room_id] = payload.topic or ""
            self._directory.members[room_id] = tuple(payload.member_ids or ())
        return self._directory.topics[room_id] or room_id

    # ---- outgoing -----------------------------------------------------------------

    async def _send_to_room(self, session: _Session, message: Outgoing) -> None:
        assert message.room is not None
        room_id = await self._resolve(session, lambda: self._directory.room_id(message.room))
        if room_id is None:
            raise RecipientNotFound(f"找不到群 / no room with topic {message.room!r}")
        room = session.bot.Room.load(room_id)
        if message.text or message.mentions:
            mention_ids, text = await self._mention_ids(session, room_id, message)
            # room.say() silently drops an empty text, even one that only mentions people.
            await room.say(text or " ", mention_ids=mention_ids or None)
        if message.file:
            await self._send_file(session, room_id, message.file)

    async def _send_to_contact(self, session: _Session, message: Outgoing) -> None:
        assert message.contact is not None
        contact_id = await self._resolve(
            session, lambda: self._directory.contact_id(message.contact))
        if contact_id is None:
            raise RecipientNotFound(f"找不到联系人 / no contact named {message.contact!r}")
        contact = session.bot.Contact.load(contact_id)
        if message.text:
            await contact.say(message.text)
        if message.file:
            await self._send_file(session, contact_id, message.file)

    async def _send_file(self, session: _Session, conversation_id: str, path: str) -> None:
        await session.puppet.puppet_stub.message_send_file(
            conversation_id=conversation_id, filebox=_file_box_json(path))

    async def _mention_ids(
        self, session: _Session, room_id: str, message: Outgoing
    ) -> tuple[list[str], str]:
        """Ids of the mentioned room members. A name not found in the room is still
        written as "@name" so people see it; it just does not notify anyone."""
        def lookup(members: tuple[str, ...]) -> list[str | None]:
            return [self._directory.contact_id(name, among=members) for name in message.mentions]

        found = lookup(await self._room_members(session, room_id, fresh=False))
        if None in found:  # someone may have joined since we looked: look again, once
            found = lookup(await self._room_members(session, room_id, fresh=True))
        ids = [contact_id for contact_id in found if contact_id is not None]
        unresolved = [name for name, cid in zip(message.mentions, found) if cid is None]
        for name in unresolved:
            log.warning("cannot @%s in %r: not a member of that room", name, message.room)
        prefix = "".join(f"@{name}{_AT_SEPARATOR}" for name in unresolved)
        return ids, prefix + message.text

    async def _room_members(self, session: _Session, room_id: str, fresh: bool) -> tuple[str, ...]:
        """A room's member ids, with every member's name loaded into the directory."""
        if fresh or room_id not in self._directory.members:
            payload = await session.puppet.room_payload(room_id)
            self._directory.topics[room_id] = payload.topic or ""
            self._directory.members[room_id] = tuple(payload.member_ids or ())
        members = self._directory.members[room_id]
        unknown = [m for m in members if m not in self._directory.names]
        for start in range(0, len(unknown), 32):  # bounded concurrency for big rooms
            await asyncio.gather(*(self._contact_name(session, m) for m in unknown[start:start + 32]))
        return members

    async def _resolve(self, session: _Session, lookup: Callable[[], str | None]) -> str | None:
        """Look up in the directory; on a miss refresh it (at most once a minute) and retry."""
        found = lookup()
        if found is not None:
            return found
        async with self._refresh_lock:
            found = lookup()  # another send may have refreshed meanwhile
            loop_now = asyncio.get_running_loop().time()
            if found is None and self._directory.can_refresh(loop_now):
                await self._refresh_directory(session)
                self._directory.last_refresh = loop_now
                found = lookup()
        return found

    async def _refresh_directory(self, session: _Session) -> None:
        puppet = session.puppet
        room_ids = await puppet.room_search()
        contact_ids = await puppet.contact_list()
        limit = asyncio.Semaphore(16)  # bounded concurrency: accounts can have thousands

        async def load_room(room_id: str) -> None:
            async with limit:
                payload = await puppet.room_payload(room_id)
            self._directory.topics[room_id] = payload.topic or ""
            self._directory.members[room_id] = tuple(payload.member_ids or ())

        async def load_contact(contact_id: str) -> None:
            async with limit:
                payload = await puppet.contact_payload(contact_id)
            self._directory.names[contact_id] = payload.name or ""
            if payload.friend:
                self._directory.friends.add(contact_id)

        await asyncio.gather(*map(load_room, room_ids), *map(load_contact, contact_ids))
        # Room members who are not contacts (strangers in a group) need names too.
        strangers = {m for ms in self._directory.members.values() for m in ms} - set(contact_ids)
        await asyncio.gather(*map(load_contact, strangers))
        log.info("wechaty directory refreshed: %d rooms, %d people",
                 len(room_ids), len(self._directory.names))

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
