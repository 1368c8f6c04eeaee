"""Keep the puppet-service token out of every log line, whoever writes it.

python-wechaty prints the token itself: `PuppetService.__init__` warns "there are
endpoint<…> and token<…>" (and "two tokens from options<…> and environment<…>"
when the environment holds it too), through loggers of its own that write straight
to stderr (and to WECHATY_LOG_FILE) with propagation off. Filters on those loggers
would miss any logger made later, so the scrubbing happens where every log record
is born: a record factory that replaces each registered secret in the message, the
arguments and any traceback text before a handler sees the record.

The library also maps WECHATY_LOG oddly: "silent" logs everything (NOTSET) and
"silly" almost nothing (CRITICAL). `apply_wechaty_level` puts its loggers where the
names say, so "silent" is silent and message texts stay out of the journal.
"""
from __future__ import annotations

import logging
import threading

MASK = "***"
# Too short to be a token; replacing it everywhere would garble ordinary log lines.
MIN_SECRET_LENGTH = 6
# How python-wechaty formats its loggers' output: how its handlers are recognised.
WECHATY_FORMAT = "%(asctime)s - %(name)s - %(levelname)s - %(message)s"
WECHATY_LEVELS = {
    "silly": logging.DEBUG,
    "verbose": logging.DEBUG,
    "info": logging.INFO,
    "warn": logging.WARNING,
    "error": logging.ERROR,
    "silent": logging.CRITICAL + 1,
}

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def redact(text: str) -> str:
    for secret in _secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return text


def register_secret(secret: str) -> None:
    """From now on, `secret` never appears in a log record of this process."""
    global _installed
    if len(secret) < MIN_SECRET_LENGTH:
        return
    with _lock:
        _secrets.add(secret)
        if _installed:
            return
        previous = logging.getLogRecordFactory()

        def scrubbing_factory(*args, **kwargs) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _scrub(record)
            return record

        logging.setLogRecordFactory(scrubbing_factory)
        _installed = True


def _scrub(record: logging.LogRecord) -> None:
    if not _secrets:
        return
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a malformed record is the handler's problem, not ours
        return
    cleaned = redact(message)
    if cleaned != message:
        record.msg, record.args = cleaned, ()
    if record.exc_info and record.exc_info[1] is not None:
        text = logging.Formatter().formatException(record.exc_info)
        if redact(text) != text:
            record.exc_text = redact(text)  # formatters use exc_text when it is set
    if record.stack_info:
        record.stack_info = redact(record.stack_info)


def apply_wechaty_level(name: str) -> None:
    """Set python-wechaty's loggers (and their handlers) to what WECHATY_LOG means:
    those made already, and, through its level function, those it makes later
    (wechaty imports the puppet-service module only when it connects)."""
    level = WECHATY_LEVELS.get(name.lower(), logging.ERROR)
    import wechaty_puppet.logger as wechaty_logger

    # get_logger() looks this function up at each call: later loggers get the level too.
    wechaty_logger._get_logger_level = lambda: level  # type: ignore[assignment]
    for logger in list(logging.Logger.manager.loggerDict.values()):
        if not isinstance(logger, logging.Logger) or logger.propagate:
            continue
        handlers = [h for h in logger.handlers if h.formatter is not None and h.formatter._fmt == WECHATY_FORMAT]
        if not handlers:
            continue
        logger.setLevel(level)
        for handler in handlers:
            handler.setLevel(level)
