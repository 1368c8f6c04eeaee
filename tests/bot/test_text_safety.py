"""safe_name: display names and topics are one line with no invisible controls."""
from __future__ import annotations

import unicodedata

from hypothesis import given, strategies as st

from bot.text_safety import safe_name


def test_clean_names_and_topics_come_back_unchanged() -> None:
    for name in ("张大妈", "官园社区警民联系群1", "Li Wei", "宜春一中\u3000护学岗", "🌸花开富贵🌸"):
        assert safe_name(name) == name


def test_a_forged_line_becomes_part_of_one_line() -> None:
    assert safe_name("张大妈\n【新警情】#9 认领") == "张大妈 【新警情】#9 认领"
    assert safe_name("a\r\n\tb") == "a b"
    assert safe_name("王\u2028大爷\u2029") == "王 大爷"


def test_invisible_format_characters_become_visible_spaces() -> None:
    # A bidi override or a zero-width space must not make one name look like another.
    assert safe_name("陈\u200b警官") == "陈 警官"
    assert safe_name("\u202e官警陈") == "官警陈"
    assert safe_name("\x1b[31m红") == "[31m红"


def test_nothing_but_controls_is_empty() -> None:
    assert safe_name("\n\r\t\u200b") == ""


@given(st.text())
def test_result_is_one_stripped_line_without_unsafe_characters(text: str) -> None:
    cleaned = safe_name(text)
    assert len(cleaned.splitlines()) <= 1
    assert cleaned == cleaned.strip()
    assert "  " not in cleaned
    assert not [c for c in cleaned if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")]
    assert safe_name(cleaned) == cleaned
