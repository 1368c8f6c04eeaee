"""Text normalisation applied before any matching.

Residents type on phones: full-width letters, "！！！！", emoji, WeChat's own
placeholders ("[图片]", "[捂脸]") and @-mentions. None of that carries meaning
for the detector, and all of it can split or hide a keyword, so it is removed
or folded here. The lexicon's words go through the same function at load time,
so both sides of a comparison always look alike.

Everything here is pure and total: any `str` (lone surrogates, control
characters, megabytes) gives a `str`, never an exception.
"""
from __future__ import annotations

import re

# Long forwarded articles would otherwise cost unbounded jieba time; a report
# worth flagging states its point early, so only a prefix is analysed.
DEFAULT_MAX_CHARS = 2000


def _build_table() -> dict[int, str | None]:
    """The str.translate table for every character-level rule.

    Full-width letters and digits → ASCII (ＱＱ, １１０), A-Z → a-z, ideographic
    space, control characters and line breaks → space; invisible characters
    (zero-width space/joiners/marks, BOM, soft hyphen, bidi controls), lone
    surrogates, emoji and their modifiers → removed. Emoji are removed, not
    replaced by a space: "没有😂打架" must keep its negation next to the
    keyword. Full-width punctuation (，！？) stays: it separates words exactly
    like its half-width twin.
    """
    table: dict[int, str | None] = {}
    for code in [*range(0xFF10, 0xFF1A), *range(0xFF21, 0xFF3B), *range(0xFF41, 0xFF5B)]:
        table[code] = chr(code - 0xFEE0).lower()
    for code in range(ord("A"), ord("Z") + 1):
        table[code] = chr(code).lower()
    for code in [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x3000, *range(0x2000, 0x200B), 0x205F]:
        table[code] = " "
    removed = [
        0x00AD, 0x180E, *range(0x200B, 0x2010), *range(0x202A, 0x202F), *range(0x2060, 0x2065), 0xFEFF,
        *range(0xD800, 0xE000),
        *range(0x2190, 0x2200), *range(0x2300, 0x2400), *range(0x2460, 0x2500), *range(0x25A0, 0x27C0),
        *range(0x2900, 0x2980), *range(0x2B00, 0x2C00), 0x3297, 0x3299, 0xFE0E, 0xFE0F,
        *range(0x1F000, 0x1FB00), *range(0xE0000, 0xE0080),
    ]
    for code in removed:
        table[code] = None
    return table


_TABLE = _build_table()
# Text made only of these needs no translation (the usual case): CJK
# ideographs, CJK and full-width punctuation, general punctuation (— “ ” …),
# · × ÷ and printable ASCII except A-Z. One C-level match decides.
_KEPT = (
    "\u4e00-\u9fff\u3001-\u303f\uff01-\uff0f\uff1a-\uff20\uff3b-\uff40\uff5b-\uff65"
    "\u2010-\u2027\u00b7\u00d7\u00f7 -@\\[-~"
)
# Searching for a character outside the set is 40% cheaper than a fullmatch
# of the set: this runs on every message.
_OUTSIDE = re.compile(f"[^{_KEPT}]")
# The same but for A-Z, which str.lower() alone maps into the set (SMS
# adverts are full of "DIGIT", "VIP").
_OUTSIDE_BUT_CASE = re.compile(f"[^{_KEPT}A-Z]")
# An @-mention ends at a space or U+2005 (WeChat puts a four-per-em space
# after the name), or at the end of the message.
_MENTION = re.compile("@[^\\s@\u2005]{1,32}(?:[ \u2005]|$)")
# WeChat renders stickers, pictures and its built-in faces as short bracketed
# labels: [图片], [动画表情], [捂脸], [smile].
_PLACEHOLDER = re.compile(r"\[[\u4e00-\u9fffa-z]{1,8}\]")
# A run of punctuation collapses to its first mark: "！！！" → "！", "。。。" → "。".
_PUNCT = "!?,.;:~…。，、！？～·；：\\-=_*#"
_PUNCT_PAIR = re.compile(f"[{_PUNCT}]{{2}}")
_PUNCT_RUN = re.compile(f"([{_PUNCT}])[{_PUNCT}]+")


def normalize(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """Return the form of `text` the detector matches against.

    Full-width letters and digits become ASCII, letters lower-case;
    placeholders, emoji, @-mentions and invisible characters disappear; runs
    of punctuation and whitespace shrink to one; at most `max_chars`
    characters remain. Each step is skipped when a cheap test shows it has
    nothing to do: this runs on every message of every group.
    """
    if not text:
        return ""
    # Bound the work before doing any of it: normalisation never lengthens text.
    text = text[: max_chars * 2]
    if "@" in text:  # before the table, which turns U+2005 into a space
        text = _MENTION.sub(" ", text)
    if _OUTSIDE.search(text):
        # Upper-case ASCII is the usual reason, and str.lower is far cheaper
        # than a translate through a dict.
        text = text.lower()
        if _OUTSIDE.search(text):
            text = text.translate(_TABLE)
    if "[" in text:
        text = _PLACEHOLDER.sub("", text)
    return collapse_runs(text, max_chars)


def collapse_runs(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str:
    """The last steps of normalize(): punctuation and whitespace runs, the bound.

    All that is left to do for a `nearly_normal` text.
    """
    if _PUNCT_PAIR.search(text):
        text = _PUNCT_RUN.sub(r"\1", text)
    if "  " in text or text[:1] == " " or text[-1:] == " ":
        text = " ".join(text.split())
    return text[:max_chars]


# Where normalize() has anything to do: a character outside the kept set, an
# @-mention or placeholder bracket, a run of punctuation or of spaces (the
# only whitespace the kept set has). A text free of these, and of a space at
# either end, is its own normal form: one C-level search decides it for most
# chat lines (nlp/features.py extends it for prepare()).
BUSY_PATTERN = f"[^{_KEPT}]|[@\\[]|[{_PUNCT}][{_PUNCT}]|  "

# Characters normalize() collapses (punctuation runs) or trims (whitespace).
COLLAPSIBLE = frozenset(_PUNCT.replace("\\", "") + " ")

# For callers that inline nearly_normal() on a hot path.
OUTSIDE = _OUTSIDE
OUTSIDE_BUT_CASE = _OUTSIDE_BUT_CASE


def nearly_normal(text: str, max_chars: int = DEFAULT_MAX_CHARS) -> str | None:
    """`text`, lower-cased if need be, when normalize(text) differs from that
    at most by collapsed punctuation and spaces; None otherwise.

    Then every substring free of those characters is the same in both, which
    lets the pre-scan run on this form instead of the normalised one: true for
    most chat lines, and far cheaper than normalising them.
    """
    if len(text) > max_chars or "@" in text or "[" in text:
        return None
    if _OUTSIDE.search(text) is None:
        return text
    return text.lower() if _OUTSIDE_BUT_CASE.search(text) is None else None


# Where one sentence ends and the next begins, in half- and full-width forms
# (normalize() keeps the full-width ones when it has nothing else to change).
SENTENCE_ENDS = frozenset("。!?;！？；\n")
# Where a clause ends: a sentence end, a comma or colon, or a space (both widths, as above).
CLAUSE_BREAK = re.compile(r"[,.!?;:，。！？；：\s]")


def sentence_start(text: str, at: int) -> int:
    """Where the sentence holding text[at] begins."""
    i = at - 1
    while i >= 0 and text[i] not in SENTENCE_ENDS:
        i -= 1
    return i + 1


def sentence_end(text: str, at: int) -> int:
    """Where the sentence holding text[at] ends (after its closing mark)."""
    i = at
    while i < len(text) and text[i] not in SENTENCE_ENDS:
        i += 1
    return min(i + 1, len(text))


def same_sentence(text: str, a_start: int, a_end: int, b_start: int, b_end: int) -> bool:
    """No sentence ends between the spans text[a_start:a_end] and text[b_start:b_end]."""
    lo, hi = (a_end, b_start) if a_end <= b_start else (b_end, a_start)
    return lo >= hi or SENTENCE_ENDS.isdisjoint(text[lo:hi])
