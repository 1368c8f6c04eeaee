"""Importing python-wechaty: lazily, once, with the shims it needs on this Python."""
from __future__ import annotations

import functools
import logging
import os
import tempfile
import warnings
from types import SimpleNamespace

from bot.transports.log_secrets import apply_wechaty_level

# One logger for the whole package, named as before the split: operators' log
# settings (and the tests) refer to "bot.transports.wechaty".
log = logging.getLogger(__package__)

# The values python-wechaty accepts for WECHATY_LOG; anything else makes its import raise.
_WECHATY_LOG_LEVELS = {"silly", "verbose", "info", "warn", "error", "silent"}


@functools.lru_cache(maxsize=1)
def import_wechaty() -> SimpleNamespace:
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
