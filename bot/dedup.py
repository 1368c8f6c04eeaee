"""Drop incoming messages WeChat (or a gateway) delivers more than once.

Two kinds of repeats reach a bot: the same message id delivered again (a gateway
reconnecting and replaying its stream), and the same text from the same person in
the same room under a new id (WeChat clients resend a message they think failed).
"Same person" and "same room" are by the transport's ids: an impostor showing an
officer's name, or a copied room, is another sender and another room.
Both must be processed once, or one report opens two cases.

Pure and synchronous: time comes from the messages (`Incoming.at`), so tests use
explicit datetimes and the virtual clock works unchanged.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from datetime import datetime, timedelta

from bot.events import Incoming

# Bounds memory whatever the traffic: far more than two minutes of messages from a
# city's groups, and small (a few MB) even when full.
DEFAULT_MAX_ENTRIES = 50_000


class Deduplicator:
    """Remembers recent messages by id and by (room id, sender id, text).

    A message is a duplicate when its id was seen before (within the memory bound),
    or when the same sender sent the same text in the same room (or the same private
    chat) less than `window` before it under another id. Only messages that were not
    duplicates refresh the window, so a text repeated every minute for an hour is
    let through every `window`, not swallowed forever.
    """

    def __init__(self, window: timedelta = timedelta(minutes=2),
                 max_entries: int = DEFAULT_MAX_ENTRIES) -> None:
        if window <= timedelta(0):
            raise ValueError("window must be positive")
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self._window = window
        self._max_entries = max_entries
        self._ids: OrderedDict[str, None] = OrderedDict()
        self._texts: OrderedDict[tuple[str | None, str, bytes], datetime] = OrderedDict()

    def is_duplicate(self, msg: Incoming) -> bool:
        """Record `msg` and say whether it repeats one already seen."""
        if msg.id in self._ids:
            return True
        self._remember_id(msg.id)
        self._forget_texts_before(msg.at - self._window)
        # A digest, not the text: the window holds up to max_entries messages, and
        # holding their texts would let a few long pastes pin megabytes for minutes.
        # By ids, not names: a contact who copies a name (or a room that copies a topic)
        # sending the same words is someone else, and must not silence the original.
        key = (msg.room_id, msg.sender_id, hashlib.blake2b(msg.text.strip().encode("utf-8", "surrogatepass"), digest_size=16).digest())
        last = self._texts.get(key)
        if last is not None and abs(msg.at - last) < self._window:
            return True
        self._texts[key] = msg.at
        self._texts.move_to_end(key)
        while len(self._texts) > self._max_entries:
            self._texts.popitem(last=False)
        return False

    def _remember_id(self, message_id: str) -> None:
        self._ids[message_id] = None
        while len(self._ids) > self._max_entries:
            self._ids.popitem(last=False)  # the oldest id: its resends stopped long ago

    def _forget_texts_before(self, cutoff: datetime) -> None:
        """Drop texts older than the window. Entries are kept in arrival order, so
        this stops at the first recent one (messages mostly arrive in time order)."""
        while self._texts:
            key, at = next(iter(self._texts.items()))
            if at > cutoff:
                break
            del self._texts[key]
