"""The Aho-Corasick pre-scan: which lexicon strings occur in a message at all.

Two automata, because most messages need only the first:
- words: category words, combination parts and raise words. From their hits
  alone we know whether any category could reach the threshold even if every
  hit were a whole token — when not, the message is unflagged without jieba;
- markers: negations and the phrases of notices, distant events,
  reassurances and exclusions, scanned only for messages that may flag.

Both are ahocorasick_rs automata (Rust, BurntSushi's aho-corasick crate).
The words automaton is a DFA: it runs on every message, and a DFA scans a
short chat line in well under a microsecond, three times faster than
pyahocorasick's trie walk. Matches come back as character offsets, ordered by
end. Neither automaton can take a lone surrogate; normalised text has none.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import ahocorasick_rs

from nlp.lexicon import Lexicon


@dataclass(frozen=True)
class _Word:
    category: str | None  # set for a category word
    weight: float
    combo_parts: tuple[tuple[int, int], ...]  # (combo index, part index)
    combo_ids: frozenset[int]  # the combos among them
    raiser: bool
    raise_categories: frozenset[str] | None  # categories its raise rules apply to (None: all)
    clause_scoped: bool  # clause negations (如果, 严禁) can cancel it
    lone_weight: float  # its weight if it were the message's only hit (combos need two)
    bound: float  # the most it can add to any category: its weight and every combo it is in


@dataclass(frozen=True)
class _Marker:
    negation: bool
    clause: bool
    long_word: bool  # a long dictionary word (for the segmenter's free positions)
    suppressions: tuple[int, ...]  # indexes into Lexicon.suppressions
    exclusions: tuple[int, ...]  # indexes into Lexicon.exclusions


@dataclass
class WordHits:
    """Substring hits of category words, combination parts and raise words."""

    # (start, end, clause-scoped) of the words that can still count once
    # tokens are known. A category that cannot reach the threshold even on
    # substrings can neither flag nor win, so its words are left out.
    spans: list[tuple[int, int, bool]] = field(default_factory=list)
    live: set[str] = field(default_factory=set)  # categories that could reach the threshold
    complete: set[int] = field(default_factory=set)  # their combos with every part present

    @property
    def may_flag(self) -> bool:
        return bool(self.live)


# The answer for messages that cannot flag; shared, never modified.
NO_HITS = WordHits()


@dataclass
class Markers:
    """Substring hits of negations and context phrases."""

    negation_starts: list[int] = field(default_factory=list)  # window negations (没有)
    clause_starts: list[int] = field(default_factory=list)  # clause negations (如果)
    inside_long_words: set[int] = field(default_factory=set)  # positions strictly inside one
    suppressions: set[int] = field(default_factory=set)
    exclusions: set[int] = field(default_factory=set)


# find(text, overlapping) → (pattern index, start, end) of every occurrence,
# ordered by end. Called as find(text, True): a keyword argument (or a
# functools.partial holding one) makes the call on every message 60% dearer.
Finder = Callable[[str, bool], list[tuple[int, int, int]]]


def _finder(patterns: list[str], implementation: ahocorasick_rs.Implementation) -> Finder:
    if not patterns:  # an automaton needs at least one pattern
        return lambda text, overlapping: []
    return ahocorasick_rs.AhoCorasick(patterns, implementation=implementation).find_matches_as_indexes


class Prescan:
    def __init__(self, lexicon: Lexicon, long_words: Callable[[], frozenset[str]] = frozenset) -> None:
        """`long_words()`: dictionary words whose occurrences `markers` also
        reports, sparing the segmenter a scan of its own."""
        self._lexicon = lexicon
        self._threshold = lexicon.threshold - 1e-9
        self._combo_sizes = [len(c.parts) for c in lexicon.combos]
        self._combo_categories = [(c.category, c.weight) for c in lexicon.combos]
        # A DFA for the scan every message gets.
        words = _word_payloads(lexicon)
        self._word_list = list(words.values())
        self.word_patterns = list(words)  # find_words' pattern numbers index this list
        self.find_words = _finder(self.word_patterns, ahocorasick_rs.Implementation.DFA)
        # The marker automaton holds thousands of long dictionary words and is
        # needed only for the few messages that may flag, so it is built on
        # the first of them: 50 ms that would otherwise add a fifth to the
        # detector's start-up over bare jieba. A (smaller) NFA.
        self._long_words = long_words
        self._marker_list: list[_Marker] = []
        self._find_markers: Finder | None = None

    def words(self, text: str, found: list[tuple[int, int, int]] | None = None) -> WordHits:
        """Hits of category words, combination parts and raise words in `text`.

        `found`: find_words(text, True), when the caller already has it.
        """
        if found is None:
            found = self.find_words(text, True)
        if not found:
            return NO_HITS
        payloads = self._word_list
        if len(found) == 1:
            if payloads[found[0][0]].lone_weight < self._threshold:
                return NO_HITS  # one weak word, no combination: the most common case
            distinct = [payloads[found[0][0]]]
        else:
            distinct = [payloads[i] for i in {i for i, _, _ in found}]
            # Even every word's best share together cannot reach the threshold.
            if sum(word.bound for word in distinct) < self._threshold:
                return NO_HITS
        live, complete = self._live(distinct)
        if not live:
            return NO_HITS
        hits = WordHits(live=live, complete=complete)
        spans = hits.spans
        for i, start, end in found:
            word = payloads[i]
            if (
                word.category in live
                or (word.combo_ids and not complete.isdisjoint(word.combo_ids))
                or (word.raiser and (word.raise_categories is None or not live.isdisjoint(word.raise_categories)))
            ):
                spans.append((start, end, word.clause_scoped))
        return hits

    def _live(self, distinct: list[_Word]) -> tuple[set[str], set[int]]:
        """Categories that could reach the threshold if every hit were a token, and their complete combos."""
        potential: dict[str, float] = {}
        parts: dict[int, set[int]] = {}
        for word in distinct:
            if word.category is not None:
                potential[word.category] = potential.get(word.category, 0.0) + word.weight
            for combo, part in word.combo_parts:
                parts.setdefault(combo, set()).add(part)
        sizes = self._combo_sizes
        complete = {c for c, got in parts.items() if len(got) == sizes[c]}
        for c in complete:
            category, weight = self._combo_categories[c]
            potential[category] = potential.get(category, 0.0) + weight
        live = {category for category, score in potential.items() if score >= self._threshold}
        return live, {c for c in complete if self._combo_categories[c][0] in live}

    def markers(self, text: str) -> Markers:
        found = Markers()
        find = self._find_markers
        if find is None:
            markers = _marker_payloads(self._lexicon, self._long_words())
            self._marker_list = list(markers.values())
            find = self._find_markers = _finder(list(markers), ahocorasick_rs.Implementation.ContiguousNFA)
        payloads = self._marker_list
        for i, start, end in find(text, True):
            marker = payloads[i]
            if marker.negation:
                found.negation_starts.append(start)
            if marker.clause:
                found.clause_starts.append(start)
            if marker.long_word:
                found.inside_long_words.update(range(start + 1, end))
            found.suppressions.update(marker.suppressions)
            found.exclusions.update(marker.exclusions)
        return found


def _word_payloads(lexicon: Lexicon) -> dict[str, _Word]:
    combo_parts: dict[str, list[tuple[int, int]]] = {}
    for c, combo in enumerate(lexicon.combos):
        for p, part in enumerate(combo.parts):
            for word in part:
                combo_parts.setdefault(word, []).append((c, p))
    raisers = {w for r in lexicon.raises for w in r.words}
    raise_scope: dict[str, frozenset[str] | None] = {}  # None: every category
    for rule in lexicon.raises:
        for word in rule.words:
            if not rule.categories:
                raise_scope[word] = None
            elif word not in raise_scope:
                raise_scope[word] = rule.categories
            elif (known := raise_scope[word]) is not None:
                raise_scope[word] = known | rule.categories
    clause_scope = lexicon.clause_scope()
    payloads: dict[str, _Word] = {}
    for key in sorted(set(lexicon.words) | set(combo_parts) | raisers):
        rule = lexicon.words.get(key)
        weight = rule.weight if rule else 0.0
        combo_ids = frozenset(c for c, _ in combo_parts.get(key, ()))
        payloads[key] = _Word(
            category=rule.category if rule else None,
            weight=weight,
            combo_parts=tuple(combo_parts.get(key, ())),
            combo_ids=combo_ids,
            raiser=key in raisers,
            raise_categories=raise_scope.get(key, frozenset()),
            clause_scoped=key in clause_scope,
            lone_weight=_lone_weight(lexicon, key, combo_parts.get(key, ())),
            bound=weight + sum(lexicon.combos[c].weight for c in combo_ids),
        )
    return payloads


def _lone_weight(lexicon: Lexicon, key: str, parts: Iterable[tuple[int, int]]) -> float:
    """The best category score a message whose only hit is `key` could reach."""
    scores: dict[str, float] = {}
    rule = lexicon.words.get(key)
    if rule is not None:
        scores[rule.category] = rule.weight
    in_parts: dict[int, set[int]] = {}
    for combo, part in parts:
        in_parts.setdefault(combo, set()).add(part)
    for c, found in in_parts.items():
        combo = lexicon.combos[c]
        if len(found) == len(combo.parts):  # completes the combination alone
            scores[combo.category] = scores.get(combo.category, 0.0) + combo.weight
    return max(scores.values(), default=0.0)


def _marker_payloads(lexicon: Lexicon, long_words: frozenset[str]) -> dict[str, _Marker]:
    negations = lexicon.negations | lexicon.clause_negations
    suppressions: dict[str, list[int]] = {}
    for i, rule in enumerate(lexicon.suppressions):
        for phrase in rule.phrases:
            suppressions.setdefault(phrase, []).append(i)
    exclusions: dict[str, list[int]] = {}
    for i, excl in enumerate(lexicon.exclusions):
        for phrase in excl.phrases:
            exclusions.setdefault(phrase, []).append(i)
    special = negations | set(suppressions) | set(exclusions)
    plain = _Marker(False, False, True, (), ())  # a long word and nothing else; shared
    payloads: dict[str, _Marker] = dict.fromkeys(sorted(long_words - special), plain)
    for key in sorted(special):
        payloads[key] = _Marker(
            negation=key in lexicon.negations,
            clause=key in lexicon.clause_negations,
            long_word=key in long_words,
            suppressions=tuple(suppressions.get(key, ())),
            exclusions=tuple(exclusions.get(key, ())),
        )
    return payloads
