"""Load and validate `pingan.toml` into immutable objects.

Every problem is collected with its key path (`groups[2].officer: ...`) so that an
operator fixes the whole file in one pass instead of one error per run. Indices in
key paths count from 0, like the TOML array they point into.

The package, one job per module:
    model.py     the frozen dataclasses and ConfigError
    load.py      load_config: the file, its TOML syntax, the sections in order
    reader.py    typed readers that collect problems with their key paths
    sections.py  [bot] [escalation] [followup] [briefing] [outbox] [web] [calendar], stations, officers, groups
    schools.py   [[schools]]: terms, days, shifts, rosters
    checks.py    checks across sections (unique ids, references, one part per room)
    env.py       the Wechaty connection, from the environment

Everything callers use is importable from `bot.config` itself.
"""
from __future__ import annotations

from bot.config.env import ENV_ENDPOINT, ENV_TOKEN, WechatyConnection, wechaty_connection
from bot.config.load import load_config
from bot.config.model import (
    ROLES,
    WEEKDAYS,
    BotSettings,
    Briefing,
    Config,
    ConfigError,
    ContactGroup,
    Escalation,
    Followup,
    Officer,
    OutboxSettings,
    School,
    Shift,
    StateCalendar,
    Station,
    WebSettings,
)

__all__ = [
    "ENV_ENDPOINT",
    "ENV_TOKEN",
    "ROLES",
    "WEEKDAYS",
    "BotSettings",
    "Briefing",
    "Config",
    "ConfigError",
    "ContactGroup",
    "Escalation",
    "Followup",
    "Officer",
    "OutboxSettings",
    "School",
    "Shift",
    "StateCalendar",
    "Station",
    "WebSettings",
    "WechatyConnection",
    "load_config",
    "wechaty_connection",
]
