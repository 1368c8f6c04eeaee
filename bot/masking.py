"""Masking of personal numbers before text leaves the case file.

Residents paste phone numbers and ID-card numbers into reports. Logs, exports
and notices to third parties must not carry them in full; officers who need
them read the original in the case file.

People write numbers every way a keyboard allows: full-width digits (１３８…),
groups split by spaces, dots or dashes (138 1234 5678, 138.1234.5678), landlines
with the area code in brackets ((0795)1234567, （0795）1234567), IDs in groups
(110101 19900307 123X). Matching runs on a copy with full-width forms folded to
ASCII, one character for one, so the spans found there are the spans to mask in
the original text.
"""
from __future__ import annotations

import re

# Full-width digits, letters X/x and the separators people type with them -> ASCII.
_FOLD = str.maketrans(
    "０１２３４５６７８９Ｘｘ－．　（）＋",
    "0123456789Xx-. ()+",
)
# A separator people put between groups of digits: at most one, of these.
_SEP = r"[ .\-]?"
# Not inside a longer run of digits or letters (bank cards, order ids, urls).
_START = r"(?<![0-9A-Za-z])"
_END = r"(?![0-9A-Za-z])"


def _digits(n: int) -> str:
    return "".join(rf"{_SEP}\d" for _ in range(n))


# Resident ID: 18 characters (17 digits and a check digit or X), or the old 15 digits.
_ID_18 = re.compile(_START + r"[1-9]" + _digits(16) + _SEP + r"[0-9Xx]" + _END)
_ID_15 = re.compile(_START + r"[1-9]" + _digits(14) + _END)
# Mainland mobile, 1[3-9]x xxxx xxxx, optionally after +86 / 86.
_MOBILE = re.compile(_START + r"(?:\+?86[ \-]?)?1[3-9]" + _digits(9) + _END)
# Landline: area code 0xx or 0xxx, optionally in brackets, then 7 or 8 digits.
_LANDLINE = re.compile(_START + r"(?:\(0\d{2,3}\)|0\d{2,3})" + _SEP + r"\d(?:" + _digits(7) + r"|" + _digits(6) + r")" + _END)


def _mask_id(found: str) -> str:
    digits = re.sub(r"[^0-9Xx]", "", found)
    return digits[:6] + "*" * (len(digits) - 10) + digits[-4:] if len(digits) == 18 else digits[:6] + "*" * 6 + digits[-3:]


def _mask_mobile(found: str) -> str:
    prefix = re.match(r"\+?86[ \-]?", found)
    head = prefix.group(0) if prefix and len(re.sub(r"\D", "", found)) == 13 else ""
    digits = re.sub(r"\D", "", found[len(head):])
    return f"{head}{digits[:3]}****{digits[-4:]}"


def _mask_landline(found: str) -> str:
    area = re.match(r"\(?0\d{2,3}\)?", found)
    assert area is not None
    local = re.sub(r"\D", "", found[area.end():])
    sep = "-" if not area.group(0).startswith("(") else ""
    return f"{area.group(0)}{sep}{'*' * (len(local) - 3)}{local[-3:]}"


_RULES = ((_ID_18, _mask_id), (_ID_15, _mask_id), (_MOBILE, _mask_mobile), (_LANDLINE, _mask_landline))


def mask_pii(text: str) -> str:
    """Mask mobile numbers (138****5678), landlines (0795-****567) and ID-card
    numbers (110101********123X), however they are written.

    IDs are masked first: an 18-digit number must not be taken for a mobile
    number followed by more digits."""
    if not text:
        return text
    folded = text.translate(_FOLD)
    for pattern, mask in _RULES:
        out, last = [], 0
        for m in pattern.finditer(folded):
            out.append(text[last : m.start()])
            out.append(mask(m.group(0)))
            last = m.end()
        if not out:
            continue
        out.append(text[last:])
        text = "".join(out)
        folded = text.translate(_FOLD)
    return text
