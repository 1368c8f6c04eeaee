"""Small text helpers shared by handlers: @-mentions, case ids, time formats."""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime

# WeChat separates a mention from the text with U+2005 (four-per-em space) or a space.
_LEADING_MENTION = re.compile(r"^\s*@[^\s\u2005]+[\s\u2005]*")


def strip_leading_mentions(text: str) -> str:
    """'@平安助手 举报 ...' -> '举报 ...'. Only leading mentions: a mention in the middle
    of a sentence is part of what the resident said."""
    previous = None
    while previous != text:
        previous = text
        text = _LEADING_MENTION.sub("", text, count=1)
    return text.strip()


def normalize_command(text: str) -> str:
    """Full-width forms to half-width (＃12, １２, full-width space) and trimmed
    punctuation, so officers can type commands on any phone keyboard."""
    text = unicodedata.normalize("NFKC", text)
    return re.sub(r"\s+", " ", text).strip(" 。.!！?？,，")


def minute_text(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"
