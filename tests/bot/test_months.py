"""One reading of a written month (bot/months.py) for `统计` and `pingan export --month`."""
from __future__ import annotations

import pytest

from bot.run.cli_errors import EXIT_BAD_INPUT
from bot.months import parse_month


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-03", (2026, 3)),
        ("2026-3", (2026, 3)),
        ("2026/03", (2026, 3)),
        ("2026.12", (2026, 12)),
        ("2026年3月", (2026, 3)),
        ("2026年3", (2026, 3)),
        ("3月", (None, 3)),
        ("12月", (None, 12)),
        ("2026-13", None),
        ("2026-0", None),
        ("1999-03", None),
        ("13月", None),
        ("三月", None),
        ("2026-03-01", None),
        (" 2026-03", None),  # callers strip; a stray space is not silently a month
        ("", None),
    ],
)
def test_parse_month(text, expected):
    assert parse_month(text) == expected


def test_nlp_cli_exits_with_the_same_status_as_the_bots():
    from nlp.cli import EXIT_BAD_INPUT as NLP_EXIT_BAD_INPUT

    assert NLP_EXIT_BAD_INPUT == EXIT_BAD_INPUT == 2
