"""One try at a piece of work (an incoming message, a scheduled job), remembered
across retries.

When the database refuses a write, the pipeline keeps the message (and the scheduler
the job) and does the work again later. What the first try queued to send was already
sent (from memory), so the second try must not send it again: the outbox asks
`already_queued` and the attempt answers from what earlier tries queued. A context
variable carries the attempt, so handlers need not know about retries at all.
"""
from __future__ import annotations

import contextlib
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Iterator

from bot.events import Incoming, Outgoing


@dataclass(eq=False)
class Attempt:
    msg: Incoming | None  # None for a scheduled job
    handler: Any
    tries: int = 0
    # What earlier tries queued: a retry skips each of these once.
    earlier: list[Outgoing] = field(default_factory=list)
    # What this try queued so far.
    queued: list[Outgoing] = field(default_factory=list)

    def next_try(self) -> None:
        self.earlier.extend(self.queued)
        self.queued = []
        self.tries += 1


_CURRENT: ContextVar[Attempt | None] = ContextVar("pingan_attempt", default=None)


@contextlib.contextmanager
def attempting(attempt: Attempt) -> Iterator[Attempt]:
    attempt.next_try()
    token = _CURRENT.set(attempt)
    try:
        yield attempt
    finally:
        _CURRENT.reset(token)


def already_queued(msg: Outgoing) -> bool:
    """True (once per earlier copy) when an earlier try of the current work queued `msg`."""
    attempt = _CURRENT.get()
    if attempt is None or msg not in attempt.earlier:
        return False
    attempt.earlier.remove(msg)
    attempt.queued.append(msg)  # still counts as queued if this try fails too
    return True


def note_queued(msg: Outgoing) -> None:
    attempt = _CURRENT.get()
    if attempt is not None:
        attempt.queued.append(msg)
