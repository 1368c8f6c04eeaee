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
which jieba glues together after its search.

The stretch is segmented by `_best_path`, a line-for-line replica of jieba's
`get_DAG` + `calc` + `__cut_DAG_NO_HMM` over the tokenizer's own FREQ and
total, fed with the word lists the free-position search has already built.
To the right, a window ends at a free position after which the rest of the
block adds the same log-probability to every candidate path: it changes no
choice, except in theory an exact floating-point tie. The benchmark and the
tests compare every message they have with jieba's whole-text `lcut`.
"""
from __future__ import annotations

import bisect
from collections.abc import Callable
from math import log

import jieba

BLOCK = jieba.re_han_default
# Bounds the memory of remembered word costs.
_COST_MEMO = 50_000

# Spans at most this many characters apart are searched as one window: one
# search costs more than the few extra characters segmented.
MERGE_GAP = 4
# A block this short is segmented whole: searching it for free positions
# would cost about as much.
SHORT_BLOCK = 8


class PartialSegmenter:
    """Segments windows of a text exactly as a whole-text jieba cut would."""

    def __init__(self, tokenizer: jieba.Tokenizer, words: frozenset[str] = frozenset()) -> None:
        """`words`: the lexicon's words; those jieba cuts whole when alone are
        remembered, since a window that is exactly one of them (the usual
        case) is then known to be that single token."""
        tokenizer.check_initialized()
        self._tokenizer = tokenizer
        self._freq = tokenizer.FREQ
        # FREQ holds every word and all its prefixes: its longest key is the
        # longest word, the farthest a word can reach across a position.
        self._max_word = max(map(len, self._freq))
        # jieba's log(total), as its calc() computes it (total is fixed once
        # the detector's words are added).
        self._logtotal = log(tokenizer.total)
        self._costs: dict[str, float] = {}
        self._whole = frozenset(w for w in words if tokenizer.lcut(w, HMM=False) == [w])

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
        self, text: str, spans: list[tuple[int, int, bool]], negations: list[int], clauses: list[int]
    ) -> list[list[str]]:
        """Tokens of the windows holding `spans`, one list per window.

        `spans` are (start, end, clause-scoped) of the words that count;
        `negations` and `clauses` the start offsets of window and clause
        negation words. A window reaches back to the first negation before
        its word in the same block that could cancel it.
        """
        blocks = [m.span() for m in BLOCK.finditer(text)]
        starts = [b0 for b0, _ in blocks]
        by_block: dict[tuple[int, int], list[tuple[int, int, bool]]] = {}
        for s, e, scoped in sorted(spans):
            b0, b1 = blocks[bisect.bisect_right(starts, s) - 1]
            by_block.setdefault((b0, b1), []).append((s - b0, e - b0, scoped))
        segments: list[list[str]] = []
        for (b0, b1), inside in by_block.items():
            first_negation = min((n - b0 for n in negations if b0 <= n < b1), default=b1 - b0)
            first_clause = min((n - b0 for n in clauses if b0 <= n < b1), default=b1 - b0)
            block = _Block(text[b0:b1], self._freq, self._max_word, self._word_cost)
            for a, b in block.windows(inside, first_negation, first_clause):
                window = block.chars[a:b]
                segments.append([window] if window in self._whole else block.best_path(a, b))
        return segments

    def _word_cost(self, word: str) -> float:
        """jieba's `log(FREQ.get(word) or 1) - logtotal`, remembered per word.

        The same expression evaluated in the same order, so the same float;
        the memo only spares recomputing it.
        """
        found = self._costs.get(word)
        if found is None:
            if len(self._costs) >= _COST_MEMO:
                self._costs.clear()
            found = self._costs[word] = log(self._freq.get(word) or 1) - self._logtotal
        return found


class _Block:
    """One jieba block: its word lattice (built lazily), free positions, best paths."""

    def __init__(self, chars: str, freq: dict[str, int], max_word: int, cost: Callable[[str], float]) -> None:
        self.chars = chars
        self.freq = freq
        self.max_word = max_word
        self.cost = cost
        self.dag: list[list[int] | None] = [None] * len(chars)

    def ends(self, i: int) -> list[int]:
        """Inclusive end indexes of the words starting at i: jieba's DAG[i]."""
        found = self.dag[i]
        if found is not None:
            return found
        chars, freq, n = self.chars, self.freq, len(self.chars)
        found = []
        j = i
        fragment = chars[i]
        # get_DAG: extend while the fragment is a word or a word prefix
        # (FREQ holds every prefix, with frequency 0).
        while j < n and fragment in freq:
            if freq[fragment]:
                found.append(j)
            j += 1
            fragment = chars[i : j + 1]
        if not found:
            found.append(i)
        self.dag[i] = found
        return found

    def is_free(self, k: int) -> bool:
        """No word straddles position k, and jieba will not glue across it."""
        chars = self.chars
        if k <= 0 or k >= len(chars):
            return True
        before, after = chars[k - 1], chars[k]
        if before.isascii() and before.isalnum() and after.isascii() and after.isalnum():
            return False  # jieba glues runs of single ASCII letters/digits back together
        dag, freq = self.dag, self.freq
        for i in range(max(0, k - self.max_word + 1), k):
            found = dag[i]
            if found is None:
                # A word from i across k starts with chars[i:k+1]; when that is
                # not even a prefix in FREQ, i needs no lattice at all.
                if chars[i : k + 1] not in freq:
                    continue
                found = self.ends(i)
            if found[-1] >= k:
                return False
        return True

    def windows(self, spans: list[tuple[int, int, bool]], first_negation: int, first_clause: int) -> list[list[int]]:
        """Merged [start, end) windows with free ends around each span."""
        if len(self.chars) <= SHORT_BLOCK:
            return [[0, len(self.chars)]]
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
            while not self.is_free(a):
                a -= 1
            b = e
            while not self.is_free(b):
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
        chars, cost = self.chars, self.cost
        size = b - a
        route: list[tuple[float, int]] = [(0.0, 0)] * (size + 1)
        route[size] = (0, 0)
        dag = self.dag
        for idx in range(size - 1, -1, -1):
            i = a + idx
            ends = dag[i] or self.ends(i)
            if len(ends) == 1:  # one candidate: max() of one is itself
                x = ends[0]
                route[idx] = (cost(chars[i : x + 1]) + route[x - a + 1][0], x - a)
            else:
                route[idx] = max((cost(chars[i : x + 1]) + route[x - a + 1][0], x - a) for x in ends)
        tokens: list[str] = []
        x = 0
        buffer = ""
        while x < size:
            y = route[x][1] + 1
            word = chars[a + x : a + y]
            if len(word) == 1 and _ENG.match(word):
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


_ENG = jieba.re_eng
