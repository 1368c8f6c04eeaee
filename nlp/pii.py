"""Masking of personal numbers before text leaves the case file.

Residents paste phone numbers and ID-card numbers into reports. Logs, exports
and notices to third parties must not carry them in full; officers who need
them read the original in the case file.
"""
from __future__ import annotations

import re

# 18-digit resident ID: 17 digits and a check character (digit or X). The
# look-arounds stop a match inside a longer number (bank cards, order ids).
_ID_CARD = re.compile(r"(?<![0-9A-Za-z])([1-9]\d{5})\d{8}(\d{3}[0-9Xx])(?![0-9A-Za-z])")
# Mainland mobile: 1[3-9]x xxxx xxxx, optionally +86/86-prefixed and written
# in groups separated by a space or a hyphen, as people do when typing it out.
_MOBILE = re.compile(
    r"(?<![0-9A-Za-z])((?:\+?86[ -]?)?1[3-9]\d)[ -]?\d{4}[ -]?(\d{4})(?![0-9A-Za-z])"
)


def mask_pii(text: str) -> str:
    """Mask mobile numbers (138****5678) and ID-card numbers (110101********123X).

    ID cards are masked first: an 18-digit number must not be mistaken for a
    mobile number followed by more digits.
    """
    if not text:
        return text
    text = _ID_CARD.sub(lambda m: f"{m.group(1)}********{m.group(2)}", text)
    return _MOBILE.sub(lambda m: f"{m.group(1)}****{m.group(2)}", text)
