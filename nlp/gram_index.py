"""Which of the model's n-grams occur in a text: one automaton pass, no slicing.

The learned stage (nlp/model.py) scores a window from the set of its distinct
character 1-3-grams that the model knows. Cutting the window into every
n-gram and looking each one up in a 60,000-entry dict costs a string, a hash
and a few cache misses per n-gram: the largest cost of the detector after
jieba. An Aho-Corasick automaton over the vocabulary itself finds exactly the
same set (every occurrence of every known n-gram; unknown ones never come out)
in one compiled pass, and hands back row numbers into the weight matrix.

A contiguous NFA rather than a DFA: over 60,000 patterns a DFA takes ten times
the memory and, on chat lines, is no faster.

The installed detector sums the weights in C instead (nlp/_ngram.c, four times
faster again); this is the reference it is tested against, and the scorer of a
source tree where the extension was not built.
"""
from __future__ import annotations

import re
from operator import itemgetter

import ahocorasick_rs

# features.grams cuts 1-, 2- and 3-grams; a longer vocabulary entry can never match.
MAX_GRAM = 3
_PATTERN = itemgetter(0)  # of a hit (pattern, start, end)
# An automaton cannot hold a lone surrogate; normalised text never has one.
_SURROGATE = re.compile("[\ud800-\udfff]")


class GramIndex:
    """The rows of the distinct known n-grams of a text."""

    def __init__(self, index: dict[str, int]) -> None:
        """`index`: each n-gram's row (TextModel._index)."""
        patterns = [g for g in index if 0 < len(g) <= MAX_GRAM]
        if _SURROGATE.search("".join(patterns)):
            patterns = [g for g in patterns if not _SURROGATE.search(g)]
        self.size = len(patterns)
        # Pattern numbers are rows whenever the vocabulary is the list of
        # distinct short n-grams `pingan train` writes; otherwise they are mapped.
        rows = [index[g] for g in patterns]
        self._rows = None if rows == list(range(len(rows))) else rows
        self._find = (
            ahocorasick_rs.AhoCorasick(patterns, implementation=ahocorasick_rs.Implementation.ContiguousNFA).find_matches_as_indexes
            if patterns
            else None
        )

    def rows(self, text: str) -> set[int]:
        """Rows of the known n-grams of normalised `text`, each once."""
        if self._find is None or not text:
            return set()
        found = map(_PATTERN, self._find(text, True))
        rows = self._rows
        return set(found) if rows is None else set(map(rows.__getitem__, found))
