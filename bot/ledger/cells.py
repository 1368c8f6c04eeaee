"""Resident text made safe for a spreadsheet cell.

A ledger carries what residents typed, and a spreadsheet reads some text as a
formula (OWASP "CSV injection") or refuses control characters outright.
"""
from __future__ import annotations

import re
from datetime import datetime

TIME_FORMAT = "%Y-%m-%d %H:%M"
# What a spreadsheet may read as the start of a formula.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Control characters: a \x07 in one report made XLSX export fail (XML forbids them)
# and they have no business in a ledger. Tab and line breaks are kept as text.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")


def clean_text(text: str) -> str:
    """Resident text made safe to put in any cell: no control characters."""
    return _CONTROL.sub("", text)


def looks_like_formula(text: str) -> bool:
    """Starts (perhaps after spaces) with what a spreadsheet reads as a formula."""
    return text.startswith(FORMULA_START) or text.lstrip(" \u3000").startswith(FORMULA_START[:4])


def csv_cell(value: object) -> str:
    """A value as CSV text that Excel shows as written, never as a formula."""
    if isinstance(value, datetime):
        return value.strftime(TIME_FORMAT)
    text = "" if value is None else clean_text(str(value))
    # A resident's "=HYPERLINK(...)" or "-1+1" must stay text when Excel opens the CSV.
    return "'" + text if looks_like_formula(text) else text
