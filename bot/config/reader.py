"""Typed readers for TOML values that collect problems instead of raising.

Every section parser (bot/config/sections.py, schools.py, checks.py) reports through
one `Reader`, so `load_config` can list every problem of the file at once.
"""
from __future__ import annotations

import re
from datetime import date, time
from pathlib import Path
from typing import Any, Callable

_TYPE_NAMES = {str: "文本", int: "整数", bool: "true/false", list: "列表", dict: "表"}


# nlp/lexicon.py has a parser of the same shape for the detector's lexicon. The two stay
# separate on purpose: this one collects every problem while the lexicon's stops at the
# first (one line naming the file), their messages differ word for word (operators read
# both), and nlp sits below bot in the import order. A shared helper would have to be
# told both policies and both wordings: more code than the duplication it removes.
class Reader:
    """Walks the TOML data once, collecting problems instead of stopping at the first."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[str] = []

    def error(self, key: str, message: str) -> None:
        self.problems.append(f"{key}: {message}")

    def table(self, data: Any, key: str, allowed: set[str]) -> dict[str, Any]:
        if not isinstance(data, dict):
            self.error(key, "应为表（[...] 段）")
            return {}
        for unknown in sorted(set(data) - allowed):
            self.error(f"{key}.{unknown}" if key else unknown, "未知的配置项")
        return data

    def value(self, data: dict, key: str, path: str, kind: type, default: Any = ..., check: Callable[[Any], str | None] | None = None) -> Any:
        if key not in data:
            if default is ...:
                self.error(path, "缺少必填项")
                return None
            return default
        value = data[key]
        # bool is an int subclass in Python; a config value true is not a number.
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.error(path, f"应为{_TYPE_NAMES.get(kind, kind.__name__)}，实际是 {value!r}")
            return None if default is ... else default
        if kind is str and not value.strip() and default is ...:
            self.error(path, "不能为空")
            return None
        if check is not None:
            problem = check(value)
            if problem:
                self.error(path, problem)
                return None if default is ... else default
        return value

    def minutes(self, d: dict, key: str, path: str, default: int) -> int:
        return self.value(d, key, path, int, default, lambda v: None if v > 0 else "应为正整数")

    def time_value(self, data: dict, key: str, path: str, default: time | None = None) -> time | None:
        raw = self.value(data, key, path, str, ... if default is None else None)
        if raw is None:
            return default
        m = re.fullmatch(r"(\d{1,2}):(\d{2})", raw.strip())
        if not m or int(m.group(1)) > 23 or int(m.group(2)) > 59:
            self.error(path, f'时间格式应为"HH:MM"，实际是 "{raw}"')
            return default
        return time(int(m.group(1)), int(m.group(2)))

    def date_value(self, raw: Any, path: str) -> date | None:
        if isinstance(raw, date) and not hasattr(raw, "hour"):
            return raw
        if isinstance(raw, str):
            try:
                return date.fromisoformat(raw.strip())
            except ValueError:
                pass
        self.error(path, f'日期格式应为"YYYY-MM-DD"，实际是 {raw!r}')
        return None

    def array_of_tables(self, data: dict, key: str, required: bool, prefix: str = "") -> list[tuple[str, dict]]:
        path = f"{prefix}{key}"
        if key not in data:
            if required:
                self.error(path, "缺少必填项")
            return []
        items = data[key]
        if not isinstance(items, list):
            self.error(path, f"应为 [[{path}]] 表数组")
            return []
        out = []
        for i, item in enumerate(items):
            if not isinstance(item, dict):
                self.error(f"{path}[{i}]", "应为表")
                continue
            out.append((f"{path}[{i}]", item))
        return out
