"""jieba segmentation of only the parts of a message that can matter.

jieba is by far the detector's largest cost. Two facts let it cut much less
text while producing the very tokens a whole-text cut would:

1. jieba splits its input into blocks (`jieba.re_han_default`: runs of
   CJK/alphanumerics) and segments each block on its own;
2. inside a block, at a position k that no dictionary word straddles (no word
   starts before k and ends after it), every candidate segmentation passes
   through k, so the best path of the block is the best path of the text
   before k followed by the best path of the text after it.

So a keyword found by the pre-scan only needs the stretch of its block between
the nearest such "free" positions around it, stretched leftwards to any
negation before it in the block that could apply to it (the rules read
negations only to the left of a word, clause negations only for some words).
A free position must also not fall between two ASCII letters or digits,
which jieba glues together after its search. Whether a position is free is
found by walking the lattice back a few characters for short words, and by
an automaton over the few thousand dictionary words longer than SHORT_WORD.

A window that is exactly one keyword which jieba cuts whole when alone is
that token; any other window is segmented by `_Block.best_path`, a replica of
jieba's `get_DAG` + `calc` + `__cut_DAG_NO_HMM` over the tokenizer's own FREQ
and total (same arithmetic in the same order, so the same floats). The free
positions and best paths are computed in C (nlp/_lattice.c, the same walks
over the same dict) when it was built; `_Block` is its reference. To the
right, a window ends at a free position after which the rest of the block
adds the same log-probability to every candidate path: it changes no choice,
except in theory an exact floating-point tie. The benchmark and the tests
compare every message they have with jieba's own whole-text `lcut`.
"""
from __future__ import annotations

import bisect
import re
from itertools import compress
from math import log

import jieba

try:  # compiled by `pip install` (nlp/_lattice.c); without it _Block walks the lattice in Python
    from nlp import _lattice
except ImportError:  # pragma: no cover - a source tree without a C compiler
    _lattice = None

BLOCK = jieba.re_han_default


def _separator(block: re.Pattern[str]) -> re.Pattern[str]:
    """A character outside every block: jieba's "([...]+)" with the class negated."""
    pattern = block.pattern
    if not (pattern.startswith("([") and pattern.endswith("]+)")):
        raise RuntimeError(f"unexpected jieba block pattern {pattern!r}")
    return re.compile("[^" + pattern[2:-3] + "]")


_SEPARATOR = _separator(BLOCK)
# Bounds the memory of remembered word costs.
_COST_MEMO = 50_000

# Words up to this long are found by walking the lattice; longer ones by an
# automaton.
SHORT_WORD = 5
# Spans at most this many characters apart are searched as one window
# (0: touching or overlapping, as 酒后驾驶 and 驾驶). Measured: wider merges
# save searches but lose the "window is exactly one keyword" shortcut.
MERGE_GAP = 0


class PartialSegmenter:
    """Segments windows of a text exactly as a whole-text jieba cut would."""

    def __init__(self, tokenizer: jieba.Tokenizer, words: frozenset[str] = frozenset(), compiled: bool = True) -> None:
        """`words`: the lexicon's words; those jieba cuts whole when alone are
        remembered, since a window that is exactly one of them (the usual
        case) is then known to be that single token. `compiled`: walk the
        lattice with nlp/_lattice.c when it was built (False: the Python
        reference, for the tests that compare the two)."""
        tokenizer.check_initialized()
        self._tokenizer = tokenizer
        self._freq = tokenizer.FREQ
        # jieba's log(total), as its calc() computes it (total is fixed once
        # the detector's words are added).
        self._logtotal = log(tokenizer.total)
        self._costs: dict[str, float] = {}
        self._words = words
        self._whole: dict[str, bool] = {}  # filled on first use: start-up stays that of jieba
        # The same walks in C over the same dict (nothing copied at start-up).
        self._lattice = _lattice.Lattice(self._freq, self._logtotal, SHORT_WORD) if compiled and _lattice is not None else None

    @property
    def compiled(self) -> bool:
        return self._lattice is not None

    def long_words(self) -> frozenset[str]:
        """Dictionary words longer than SHORT_WORD (about 3,500 of 350,000).

        The caller finds their occurrences with its automaton, so the
        free-position test only walks the lattice back from the last few
        positions instead of from as far back as the longest word.
        """
        # Filtered by length at C speed first: a Python loop over the 580,000
        # keys takes twice as long.
        longer = compress(self._freq, map(SHORT_WORD.__lt__, map(len, self._freq)))
        return frozenset(w for w in longer if self._freq[w])

    def _is_whole(self, window: str) -> bool:
        """Is `window` a lexicon word that jieba cuts as one token when alone?"""
        if window not in self._words:
            return False
        known = self._whole.get(window)  # at most one entry per lexicon word
        if known is None:
            known = self._whole[window] = self._tokenizer.lcut(window, HMM=False) == [window]
        return known

    def cut_whole(self, text: str) -> list[list[str]]:
        """jieba's own cut of the whole text, split back into its blocks."""
        segments: list[list[str]] = [[]]
        for token in self._tokenizer.lcut(text, HMM=False):
            if BLOCK.fullmatch(token):
                segments[-1].append(token)
            elif segments[-1]:
                segments.append([])
        return [s for s in segments if s]

    def cut_around(
        self,
        text: str,
        spans: list[tuple[int, int, bool]],
        negations: list[int],
        clauses: list[int],
        crossed: set[int],
    ) -> list[list[str]]:
        """Tokens of the windows holding `spans`, one list per window.

        `spans` are (start, end, clause-scoped) of the words that count;
        `negations` and `clauses` the start offsets of window and clause
        negation words: a window reaches back to the first one before its
        word in the same block that could cancel it. `crossed` are the
        positions strictly inside an occurrence of one of `long_words()`.
        """
        n = len(text)
        reverse = text[::-1]  # to find where a block starts, searching backwards
        negations = sorted(negations)
        clauses = sorted(clauses)
        segments: list[list[str]] = []
        spans = sorted(spans)
        i = 0
        while i < len(spans):
            s = spans[i][0]
            # The block around s: from after the last separator before it to
            # the next separator (jieba's re_han_default runs).
            found = _SEPARATOR.search(text, s)
            b1 = found.start() if found is not None else n
            found = _SEPARATOR.search(reverse, n - s)
            b0 = n - found.start() if found is not None else 0
            if b1 <= s:  # cannot happen: the lexicon only holds block characters
                i += 1
                continue
            inside = []
            while i < len(spans) and spans[i][0] < b1:
                s, e, scoped = spans[i]
                inside.append((s - b0, e - b0, scoped))
                i += 1
            block = _Block(text[b0:b1], self, crossed, b0) if self._lattice is None else _CompiledBlock(text[b0:b1], self._lattice, crossed, b0)
            first_negation = _first_in(negations, b0, b1)
            first_clause = _first_in(clauses, b0, b1)
            for a, b in block.windows(inside, first_negation, first_clause):
                window = block.chars[a:b]
                segments.append([window] if self._is_whole(window) else block.best_path(a, b))
        return segments


def _first_in(sorted_starts: list[int], b0: int, b1: int) -> int:
    """The first start in [b0, b1), relative to b0; b1 - b0 when there is none."""
    i = bisect.bisect_left(sorted_starts, b0)
    return sorted_starts[i] - b0 if i < len(sorted_starts) and sorted_starts[i] < b1 else b1 - b0


class _Block:
    """One jieba block: its word lattice (built lazily), free positions, best paths."""

    def __init__(self, chars: str, segmenter: PartialSegmenter, crossed_by_long: set[int], offset: int) -> None:
        self.chars = chars
        self.freq = segmenter._freq
        # Text positions inside a long word's occurrence, and where the block starts.
        self.crossed_by_long = crossed_by_long
        self.offset = offset
        self.costs = segmenter._costs
        self.logtotal = segmenter._logtotal
        self.dag: list[list[int] | None] = [None] * len(chars)

    def ends(self, i: int) -> list[int]:
        """Inclusive end indexes of the words starting at i: jieba's DAG[i]."""
        found = self.dag[i]
        if found is not None:
            return found
        chars, freq, n = self.chars, self.freq, len(self.chars)
        found = []
        j = i
        # get_DAG: extend while the fragment is a word or a word prefix
        # (FREQ holds every prefix, with frequency 0).
        while j < n:
            value = freq.get(chars[i : j + 1])
            if value is None:
                break
            if value:
                found.append(j)
            j += 1
        if not found:
            found.append(i)
        self.dag[i] = found
        return found

    def is_free(self, k: int) -> bool:
        """No word straddles position k, and jieba will not glue across it."""
        chars = self.chars
        n = len(chars)
        if k <= 0 or k >= n:
            return True
        if k + self.offset in self.crossed_by_long:
            return False
        before = chars[k - 1]
        if before.isascii() and before.isalnum():
            after = chars[k]
            if after.isascii() and after.isalnum():
                return False  # jieba glues runs of single ASCII letters/digits back together
        get = self.freq.get
        # A short word crossing k starts at most SHORT_WORD - 1 positions
        # before it; nearest starts first, they are the likeliest to cross.
        # FREQ holds every word prefix (frequency 0) and every word, so a
        # word from i crosses k iff extending chars[i : k + 1] while it stays
        # a key meets a word; most positions fail at the first lookup.
        i = k - 1
        low = k - SHORT_WORD + 1 if k >= SHORT_WORD else 0
        while i >= low:
            value = get(chars[i : k + 1])
            if value is not None:
                if value:
                    return False
                j = k + 1
                while j < n:
                    j += 1
                    value = get(chars[i:j])
                    if value is None:
                        break
                    if value:
                        return False
            i -= 1
        return True

    def windows(self, spans: list[tuple[int, int, bool]], first_negation: int, first_clause: int) -> list[list[int]]:
        """Merged [start, end) windows with free ends around each span."""
        is_free = self.is_free
        if len(spans) == 1:  # the usual case
            s, e, scoped = spans[0]
            a = min(s, first_negation, first_clause) if scoped else min(s, first_negation)
            while not is_free(a):
                a -= 1
            while not is_free(e):
                e += 1
            return [[a, e]]
        merged: list[list[int]] = []  # start, end, leftmost position needed
        for s, e, scoped in spans:
            need = min(s, first_negation, first_clause if scoped else s)
            if merged and s - merged[-1][1] <= MERGE_GAP:
                merged[-1][1] = max(merged[-1][1], e)
                merged[-1][2] = min(merged[-1][2], need)
            else:
                merged.append([s, e, need])
        found: list[tuple[int, int]] = []
        for s, e, need in merged:
            a = need
            while not is_free(a):
                a -= 1
            b = e
            while not is_free(b):
                b += 1
            found.append((a, b))
        # Overlapping windows become one (a reach-back can cover earlier ones).
        windows: list[list[int]] = []
        for a, b in sorted(found):
            if windows and a <= windows[-1][1]:
                windows[-1][1] = max(windows[-1][1], b)
            else:
                windows.append([a, b])
        return windows

    def best_path(self, a: int, b: int) -> list[str]:
        """jieba.lcut(chars[a:b], HMM=False), from the shared lattice.

        Same arithmetic in the same order as jieba's calc(), so the same
        floats and the same choices; x is kept relative to the window, as in
        jieba, for its role as tie-breaker.
        """
        chars, costs, freq, logtotal = self.chars, self.costs, self.freq, self.logtotal
        if len(costs) > _COST_MEMO:
            costs.clear()
        size = b - a
        # jieba's route[idx] = (score, x) as two lists.
        score = [0.0] * (size + 1)
        choice = [0] * (size + 1)
        dag = self.dag
        for idx in range(size - 1, -1, -1):
            i = a + idx
            best_score, best_x = 0.0, -1
            for x in dag[i] or self.ends(i):
                word = chars[i : x + 1]
                # jieba's `log(FREQ.get(word) or 1) - logtotal`, remembered
                # per word: the same expression, so the same float.
                word_cost = costs.get(word)
                if word_cost is None:
                    word_cost = costs[word] = log(freq.get(word) or 1) - logtotal
                value = word_cost + score[x - a + 1]
                # max() over (value, x) tuples: larger value, then larger x.
                if best_x < 0 or value > best_score or (value == best_score and x - a > best_x):
                    best_score, best_x = value, x - a
            score[idx] = best_score
            choice[idx] = best_x
        tokens: list[str] = []
        x = 0
        buffer = ""
        while x < size:
            y = choice[x] + 1
            word = chars[a + x : a + y]
            if len(word) == 1 and word.isascii() and word.isalnum():  # jieba's re_eng, [a-zA-Z0-9]
                buffer += word
            else:
                if buffer:
                    tokens.append(buffer)
                    buffer = ""
                tokens.append(word)
            x = y
        if buffer:
            tokens.append(buffer)
        return tokens


class _CompiledBlock:
    """`_Block`'s windows and best paths, computed by nlp/_lattice.c."""

    __slots__ = ("chars", "crossed_by_long", "offset", "_lattice")

    def __init__(self, chars: str, lattice: object, crossed_by_long: set[int], offset: int) -> None:
        self.chars = chars
        self.crossed_by_long = crossed_by_long
        self.offset = offset
        self._lattice = lattice

    def windows(self, spans: list[tuple[int, int, bool]], first_negation: int, first_clause: int) -> list[tuple[int, int]]:
        return self._lattice.windows(self.chars, spans, first_negation, first_clause, self.crossed_by_long, self.offset, MERGE_GAP)

    def best_path(self, a: int, b: int) -> list[str]:
        return self._lattice.best_path(self.chars, a, b)
