"""The Aho-Corasick pre-scan: which lexicon strings occur in a message at all.

Two automata, because most messages need only the first:
- words: category words, combination parts and raise words. From their hits
  alone we know whether any category could reach the threshold even if every
  hit were a whole token — when not, the message is unflagged without jieba;
- markers: negations and the phrases of notices, distant events,
  reassurances and exclusions, scanned only for messages that may flag.

The word automaton runs on the message's UTF-8 bytes (as a latin-1 string):
pyahocorasick looks a character up among a node's children one by one, and
with Chinese keys the root has a thousand children, while bytes give every
node at most a few dozen — twice as fast. UTF-8 is self-synchronising, so a
key's bytes can only match at a character boundary: the hits are the same.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import ahocorasick

from nlp.lexicon import Lexicon


@dataclass(frozen=True)
class _Word:
    key: str
    category: str | None  # set for a category word
    weight: float
    combo_parts: tuple[tuple[int, int], ...]  # (combo index, part index)
    raiser: bool
    clause_scoped: bool  # clause negations (如果, 严禁) can cancel it
    lone_weight: float  # its weight if it were the message's only hit (combos need two)


@dataclass(frozen=True)
class _Marker:
    key: str
    negation: bool
    clause: bool
    suppressions: tuple[int, ...]  # indexes into Lexicon.suppressions
    exclusions: tuple[int, ...]  # indexes into Lexicon.exclusions


@dataclass
class WordHits:
    """Substring hits of category words, combination parts and raise words."""

    spans: list[tuple[int, int, _Word]] = field(default_factory=list)  # start, end, word
    complete: set[int] = field(default_factory=set)  # combos with every part present
    may_flag: bool = False  # could any category reach the threshold?

    def relevant_spans(self) -> list[tuple[int, int, bool]]:
        """(start, end, clause-scoped) of the words that can still count once tokens are known."""
        complete = self.complete
        return [
            (start, end, word.clause_scoped)
            for start, end, word in self.spans
            if word.category or word.raiser or any(c in complete for c, _ in word.combo_parts)
        ]


# The answer for messages that cannot flag; shared, never modified.
NO_HITS = WordHits()


@dataclass
class Markers:
    """Substring hits of negations and context phrases."""

    negation_starts: list[int] = field(default_factory=list)  # window negations (没有)
    clause_starts: list[int] = field(default_factory=list)  # clause negations (如果)
    suppressions: set[int] = field(default_factory=set)
    exclusions: set[int] = field(default_factory=set)


def _as_bytes(text: str) -> str:
    """The UTF-8 bytes of `text`, one latin-1 character per byte."""
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


class Prescan:
    def __init__(self, lexicon: Lexicon) -> None:
        self._lexicon = lexicon
        self._threshold = lexicon.threshold - 1e-9
        self._combo_sizes = [len(c.parts) for c in lexicon.combos]
        self._combo_categories = [(c.category, c.weight) for c in lexicon.combos]
        self._words = _word_automaton(lexicon, _as_bytes)
        self._markers = _marker_automaton(lexicon)
        # An automaton with no strings cannot be iterated.
        self._has_markers = bool(lexicon.negations or lexicon.clause_negations or lexicon.suppressions or lexicon.exclusions)

    def words(self, text: str) -> WordHits:
        """Hits of category words, combination parts and raise words in `text`."""
        found = list(self._words.iter(text.encode("utf-8", "surrogatepass").decode("latin-1")))
        if not found:
            return NO_HITS
        if len(found) == 1 and found[0][1].lone_weight < self._threshold:
            return NO_HITS  # one weak word, no combination: the most common case
        hits = WordHits()
        hits.may_flag, hits.complete = self._may_flag([word for _, word in found])
        if hits.may_flag:
            # Byte offsets back to character offsets, only for the few
            # messages that go on to jieba.
            data = text.encode("utf-8", "surrogatepass")
            for end, word in found:
                char_end = len(data[: end + 1].decode("utf-8", "surrogatepass"))
                hits.spans.append((char_end - len(word.key), char_end, word))
        return hits

    def _may_flag(self, found: list[_Word]) -> tuple[bool, set[int]]:
        """Could a category reach the threshold if every hit were a token? And which combos are complete?"""
        potential: dict[str, float] = {}
        seen: set[str] = set()
        parts: dict[int, set[int]] = {}
        for word in found:
            if word.category is not None and word.key not in seen:
                seen.add(word.key)
                potential[word.category] = potential.get(word.category, 0.0) + word.weight
            for combo, part in word.combo_parts:
                parts.setdefault(combo, set()).add(part)
        sizes = self._combo_sizes
        complete = {c for c, got in parts.items() if len(got) == sizes[c]}
        for c in complete:
            category, weight = self._combo_categories[c]
            potential[category] = potential.get(category, 0.0) + weight
        return any(score >= self._threshold for score in potential.values()), complete

    def markers(self, text: str) -> Markers:
        found = Markers()
        if not self._has_markers:
            return found
        for end, marker in self._markers.iter(text):
            if marker.negation:
                found.negation_starts.append(end + 1 - len(marker.key))
            if marker.clause:
                found.clause_starts.append(end + 1 - len(marker.key))
            found.suppressions.update(marker.suppressions)
            found.exclusions.update(marker.exclusions)
        return found


def _word_automaton(lexicon: Lexicon, encode: Callable[[str], str] = str) -> ahocorasick.Automaton:
    combo_parts: dict[str, list[tuple[int, int]]] = {}
    for c, combo in enumerate(lexicon.combos):
        for p, part in enumerate(combo.parts):
            for word in part:
                combo_parts.setdefault(word, []).append((c, p))
    raisers = {w for r in lexicon.raises for w in r.words}
    clause_scope = lexicon.clause_scope()
    automaton = ahocorasick.Automaton()
    for key in set(lexicon.words) | set(combo_parts) | raisers:
        rule = lexicon.words.get(key)
        automaton.add_word(
            encode(key),
            _Word(
                key=key,
                category=rule.category if rule else None,
                weight=rule.weight if rule else 0.0,
                combo_parts=tuple(combo_parts.get(key, ())),
                raiser=key in raisers,
                clause_scoped=key in clause_scope,
                lone_weight=rule.weight if rule else 0.0,
            ),
        )
    automaton.make_automaton()
    return automaton


def _marker_automaton(lexicon: Lexicon) -> ahocorasick.Automaton:
    negations = lexicon.negations | lexicon.clause_negations
    suppressions: dict[str, list[int]] = {}
    for i, rule in enumerate(lexicon.suppressions):
        for phrase in rule.phrases:
            suppressions.setdefault(phrase, []).append(i)
    exclusions: dict[str, list[int]] = {}
    for i, excl in enumerate(lexicon.exclusions):
        for phrase in excl.phrases:
            exclusions.setdefault(phrase, []).append(i)
    automaton = ahocorasick.Automaton()
    for key in negations | set(suppressions) | set(exclusions):
        automaton.add_word(
            key,
            _Marker(
                key=key,
                negation=key in lexicon.negations,
                clause=key in lexicon.clause_negations,
                suppressions=tuple(suppressions.get(key, ())),
                exclusions=tuple(exclusions.get(key, ())),
            ),
        )
    if negations or suppressions or exclusions:
        automaton.make_automaton()
    return automaton
