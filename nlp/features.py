"""Character n-gram features of the learned stage, shared by training and scoring.

Training (nlp/train.py) and the bot (nlp/model.py) must cut text into exactly
the same features, so both call these functions. Features are counted, not
deduplicated: a count is additive, so a window's score is a difference of
prefix sums and a long message costs one pass however many windows it has.

Why characters and not jieba words: the model runs on every chat line, and
cutting a line into n-grams costs a few microseconds where jieba costs tens.
Character bigrams and trigrams carry most of what words would, and they see
through the typos and homophones residents type (报井 for 报警 keeps 报).
"""
from __future__ import annotations

import re
from operator import add

from nlp.normalize import BUSY_PATTERN, normalize

# A window of this many characters is judged on its own: a report is stated in
# a sentence or two, and a long letter about fees must not add up to one.
WINDOW = 160
STRIDE = 80
# Upper bound of the text the model reads: far above any real message (the
# transport cuts messages long before), it bounds the cost of a hostile one.
MAX_MODEL_CHARS = 2_000_000


# Phone numbers, amounts and dates are not words: their digits would teach the
# model that "138..." looks like "快打110". Short numbers (3栋, 110, 120) stay.
_LONG_NUMBER = re.compile(r"\d{4,}")
# Anything prepare() would change (see normalize.BUSY_PATTERN), or a long number.
_BUSY = re.compile(BUSY_PATTERN + r"|\d\d\d\d")


def prepare(text: str) -> str:
    """The detector's normal form (half-width, lower case, no emoji or
    @-mentions), with every run of four or more digits folded to one "#"."""
    if is_prepared(text):
        return text  # most chat lines: every step below would leave them alone
    return fold_numbers(normalize(text, MAX_MODEL_CHARS))


def is_prepared(text: str) -> bool:
    """prepare(text) == text, decided by one regular-expression search."""
    return len(text) <= MAX_MODEL_CHARS and _BUSY.search(text) is None and text[:1] != " " and text[-1:] != " "


def fold_numbers(normalized: str) -> str:
    """The last step of prepare(): every run of four or more digits becomes "#"."""
    return _LONG_NUMBER.sub("#", normalized)


def folds(normalized: str) -> tuple[list[int], list[int]]:
    """Where fold_numbers(normalized) put each "#" (offsets in the folded
    text, in order), and by how many characters the folds up to each one
    shortened the text: a folded-text offset p off every "#" is, in
    `normalized`, p plus the shift of the last "#" before p."""
    positions: list[int] = []
    shifts: list[int] = []
    shift = 0
    for match in _LONG_NUMBER.finditer(normalized):
        positions.append(match.start() - shift)
        shift += match.end() - match.start() - 1
        shifts.append(shift)
    return positions, shifts


def grams(text: str) -> list[str]:
    """Every character 1-, 2- and 3-gram of prepared `text`, with repeats, in text order."""
    bigrams = list(map(add, text, text[1:]))
    return [*text, *bigrams, *map(add, bigrams, text[2:])]


def windows(length: int) -> list[tuple[int, int]]:
    """[start, end) of the windows a text of `length` characters is judged in.

    One window for a short text; overlapping windows (so no sentence is cut
    in two without also appearing whole) for a long one.
    """
    if length <= WINDOW:
        return [(0, length)]
    starts = range(0, length - WINDOW + STRIDE, STRIDE)
    return [(s, min(s + WINDOW, length)) for s in starts]
