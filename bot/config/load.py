"""Read `pingan.toml` and turn it into a `Config`: the file, its TOML syntax, then
every section in order, then the checks across sections."""
from __future__ import annotations

import dataclasses
import re
import tomllib
from pathlib import Path

from bot.config.checks import cross_check
from bot.config.model import BotSettings, Config, ConfigError
from bot.config.reader import Reader
from bot.config.schools import parse_school
from bot.config.sections import (
    parse_bot,
    parse_briefing,
    parse_calendar,
    parse_escalation,
    parse_followup,
    parse_group,
    parse_officer,
    parse_outbox,
    parse_station,
    parse_web,
)


def load_config(path: Path | str) -> Config:
    """Read and validate the file; raise ConfigError listing every problem."""
    path = Path(path)
    try:
        raw_text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError([f"{path}: 配置文件不存在"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: 配置文件不是 UTF-8 编码"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: 无法读取配置文件（{exc.strerror}）"]) from None
    try:
        data = tomllib.loads(raw_text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: TOML 格式错误：{_toml_message(str(exc))}"]) from None
    return parse_config(path, data)


def _toml_message(message: str) -> str:
    """tomllib says '... (at line 3, column 5)'; say it in Chinese, line first."""
    m = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if not m:
        return message
    reason = message[: m.start()].strip()
    return f"第{m.group(1)}行第{m.group(2)}列：{reason}"


def parse_config(path: Path, data: dict) -> Config:
    """Validate the TOML tree of the file at `path`; raise ConfigError listing every problem.

    Sections are read in file-layout order so that problems are listed in that order.
    """
    r = Reader(path)
    r.table(data, "", {"bot", "escalation", "followup", "briefing", "outbox", "web", "calendar", "stations", "officers", "groups", "schools"})
    bot = parse_bot(r, data.get("bot"))
    escalation = parse_escalation(r, data.get("escalation", {}))
    followup = parse_followup(r, data.get("followup", {}))
    briefing = parse_briefing(r, data.get("briefing", {}))
    outbox = parse_outbox(r, data.get("outbox", {}))
    web = parse_web(r, data.get("web", {}))
    calendar = parse_calendar(r, data.get("calendar", {}))
    stations = [s for s in (parse_station(r, p, d) for p, d in r.array_of_tables(data, "stations", True)) if s]
    officers = [o for o in (parse_officer(r, p, d) for p, d in r.array_of_tables(data, "officers", True)) if o]
    groups = [g for g in (parse_group(r, p, d) for p, d in r.array_of_tables(data, "groups", False)) if g]
    schools = [s for s in (parse_school(r, p, d) for p, d in r.array_of_tables(data, "schools", False)) if s]
    cross_check(r, data, stations, officers, groups, schools)
    if r.problems:
        raise ConfigError(r.problems)
    assert bot is not None
    # Paths in the file are relative to the file, not to the working directory.
    base = path.parent
    bot = BotSettings(
        name=bot.name,
        timezone=bot.timezone,
        database=base / bot.database,
        lexicon=(base / bot.lexicon) if bot.lexicon else None,
        ack_in_group=bot.ack_in_group,
        notify_reporter=bot.notify_reporter,
    )
    schools = [dataclasses.replace(s, calendar=calendar) for s in schools]
    return Config(path, bot, escalation, followup, briefing, outbox, web, tuple(stations), tuple(officers), tuple(groups), tuple(schools), calendar)
