"""Names and topics made safe to show: one line, no invisible controls.

Display names and room topics are chosen by whoever owns them. A name such as
"张大妈\n【新警情】#9 ..." would otherwise print a forged line into an officer's
notice or the log, and a bidi override (U+202E) or zero-width character could make
one name look like another. Transports apply `safe_name` where names and topics
come in; the pipeline and the simulator may apply it too (it is idempotent).
Message texts are not for this function: a report may have many lines.
"""
from __future__ import annotations

import re
import unicodedata

# Control (Cc: \n \r \t, ESC...), format (Cf: bidi overrides, zero-width
# characters), line separator (Zl) and paragraph separator (Zp).
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp"})
# Two or more whitespace characters in a row (what the replacement leaves behind).
_WHITESPACE_RUN = re.compile(r"\s{2,}")


def safe_name(text: str) -> str:
    """`text` with every control, format and line/paragraph separator character made
    a space, runs of whitespace collapsed to one space, and the ends stripped.

    A single ordinary space (or U+3000 in a Chinese topic) is kept as it is, so a
    clean name or topic comes back unchanged and still matches the config.
    """
    if text.isprintable() and text == text.strip() and not _WHITESPACE_RUN.search(text):
        return text  # the common case, without building a new string
    spaced = "".join(" " if unicodedata.category(c) in _UNSAFE_CATEGORIES else c for c in text)
    return _WHITESPACE_RUN.sub(" ", spaced).strip()
