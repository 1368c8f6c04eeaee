"""Masking of phone and ID-card numbers (bot/masking.py): a pure string function.
More ways of writing a number, through the export, in test_export_safety.py."""
from __future__ import annotations

import pytest

from bot.masking import mask_pii


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("我电话13812345678，有事找我", "我电话138****5678，有事找我"),
        ("电话：138 1234 5678", "电话：138****5678"),
        ("电话：138-1234-5678", "电话：138****5678"),
        ("+86 13812345678", "+86 138****5678"),
        ("身份证110101199003071234", "身份证110101********1234"),
        ("身份证号11010119900307123X", "身份证号110101********123X"),
        ("身份证号11010119900307123x", "身份证号110101********123x"),
        ("两个号码13812345678和15987654321", "两个号码138****5678和159****4321"),
        # Not personal numbers: a 19-digit bank card, a 12-digit number.
        ("卡号6222021234567890123", "卡号6222021234567890123"),
        ("订单123456789012", "订单123456789012"),
        # Landlines are masked too (SPEC.md "pingan export"); more forms in test_export_safety.py.
        ("座机0791-88888888", "座机0791-*****888"),
        ("", ""),
    ],
)
def test_mask_pii(raw: str, expected: str) -> None:
    assert mask_pii(raw) == expected
