"""A month as people write it: officers after `统计`, operators after `--month`."""
from __future__ import annotations

import re

# Tried in order; the first that matches the whole text decides.
_PATTERNS = (
    re.compile(r"(\d{4})[-/.](\d{1,2})"),  # 2026-03, 2026/3, 2026.3
    re.compile(r"(\d{4})年(\d{1,2})月?"),  # 2026年3月
    re.compile(r"()(\d{1,2})月"),  # 3月: the year is left to the caller
)


def parse_month(text: str) -> tuple[int | None, int] | None:
    """(year, month) of `text`, year None when only the month is written;
    None when `text` is not a month (or one outside 2000-2100)."""
    for pattern in _PATTERNS:
        m = pattern.fullmatch(text)
        if m:
            year = int(m.group(1)) if m.group(1) else None
            month = int(m.group(2))
            if 1 <= month <= 12 and (year is None or 2000 <= year <= 2100):
                return year, month
            return None
    return None
