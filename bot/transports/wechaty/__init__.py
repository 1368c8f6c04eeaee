"""The Wechaty transport: real WeChat through a Wechaty puppet-service gateway.

This is the only package that imports wechaty. The python client (PyPI `wechaty`
0.10.7, the last release) needs help to run well inside a long-lived bot:

* it does not import on Python 3.11 without a hash shim, rejects unknown
  `WECHATY_LOG` values at import, and writes `.wechaty/` into the working
  directory (see `sdk.import_wechaty`);
* `Wechaty.start()` swallows auth errors, sleeps 60 s and restarts on network
  errors, and stops the whole event loop on puppet errors. So this package never
  calls it: it drives the `PuppetService` directly (connect, listen, reconnect)
  and uses the `Wechaty` object only for its room/contact `say()` helpers;
* its message listener handles each message in a separate task, so two quick
  messages can reach the bot out of order. Here every puppet event goes through
  one queue and is handled in arrival order (a report and its follow-up must open
  one case, not race to open two).

Incoming messages become `bot.events.Incoming` (room topic and id, sender name and
id, text, mention names, `mentions_bot`, `is_self`); only text messages are
delivered, with names and topics made one line (`bot.text_safety.safe_name`).
A send to a room or contact id goes to that id. A send by topic or name is looked
up in a cached directory (refreshed when a lookup misses or a room is renamed) and
refused when several rooms or people match: one may be an impostor's copy. Two
rooms sharing a configured topic are reported once (`on_problem`).

The package, one job per module:
    sdk.py         importing python-wechaty lazily, with its shims
    session.py     one connection: open it, queue its events, heartbeat, close
    connection.py  first login, reconnect with backoff, state; TransportStartError
    directory.py   names and ids: the cache and how it is filled from the gateway
    topics.py      configured topics that several rooms share: noticed and reported
    inbound.py     puppet messages -> Incoming
    outbound.py    Outgoing -> room/contact sends, @-mentions, files
    transport.py   WechatyTransport, composing the above

All of them log to the "bot.transports.wechaty" logger, as the single module did.
"""
from __future__ import annotations

from bot.transports.wechaty.connection import (
    STATE_CONNECTING,
    STATE_OFFLINE,
    STATE_ONLINE,
    STATE_STOPPED,
    STOP_TIMEOUT_SECONDS,
    TransportStartError,
    parse_endpoint,
)
from bot.transports.wechaty.directory import Directory
from bot.transports.wechaty.outbound import AmbiguousRecipient, RecipientNotFound
from bot.transports.wechaty.sdk import import_wechaty
from bot.transports.wechaty.transport import WechatyTransport

# The name the shim had as a private helper of the single module (tests import it).
_import_wechaty = import_wechaty

__all__ = [
    "AmbiguousRecipient",
    "STATE_CONNECTING",
    "STATE_OFFLINE",
    "STATE_ONLINE",
    "STATE_STOPPED",
    "STOP_TIMEOUT_SECONDS",
    "Directory",
    "RecipientNotFound",
    "TransportStartError",
    "WechatyTransport",
    "import_wechaty",
    "parse_endpoint",
]
