"""The Aho-Corasick pre-scan: which lexicon strings occur in a message at all.

Two automata, because most messages need only the first:
- words: category words, combination parts and raise words. From their hits
  alone we know whether any category could reach the threshold even if every
  hit were a whole token — when not, the message is unflagged without jieba;
- markers: negations and the phrases of notices, distant events,
  reassurances and exclusions, scanned only for messages that may flag.

Both run on the message's UTF-8 bytes (as a latin-1 string):
pyahocorasick looks a character up among a node's children one by one, and
with Chinese keys the root has a thousand children, while bytes give every
node at most a few dozen — twice as fast. UTF-8 is self-synchronising, so a
key's bytes can only match at a character boundary: the hits are the same.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import ahocorasick

from nlp.lexicon import Lexicon


@dataclass(frozen=True)
class _Word:
    key: str
    category: str | None  # set for a category word
    weight: float
    combo_parts: tuple[tuple[int, int], ...]  # (combo index, part index)
    combo_ids: frozenset[int]  # the combos among them
    raiser: bool
    raise_categories: frozenset[str] | None  # categories its raise rules apply to (None: all)
    clause_scoped: bool  # clause negations (如果, 严禁) can cancel it
    lone_weight: float  # its weight if it were the message's only hit (combos need two)


@dataclass(frozen=True)
class _Marker:
    length: int  # of the matched string, in characters
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


def _as_bytes(text: str) -> str:
    """The UTF-8 bytes of `text`, one latin-1 character per byte."""
    return text.encode("utf-8", "surrogatepass").decode("latin-1")


class Prescan:
    def __init__(self, lexicon: Lexicon, long_words: frozenset[str] = frozenset()) -> None:
        """`long_words`: dictionary words whose occurrences `markers` also
        reports, sparing the segmenter a scan of its own."""
        self._lexicon = lexicon
        self._threshold = lexicon.threshold - 1e-9
        self._combo_sizes = [len(c.parts) for c in lexicon.combos]
        self._combo_categories = [(c.category, c.weight) for c in lexicon.combos]
        self._words = _word_automaton(lexicon, _as_bytes)
        self._markers = _marker_automaton(lexicon, long_words)
        # An automaton with no strings cannot be iterated.
        self._has_markers = bool(
            long_words or lexicon.negations or lexicon.clause_negations or lexicon.suppressions or lexicon.exclusions
        )

    def words(self, text: str) -> WordHits:
        """Hits of category words, combination parts and raise words in `text`."""
        data = text.encode("utf-8", "surrogatepass")
        found = list(self._words.iter(data.decode("latin-1")))
        if not found:
            return NO_HITS
        if len(found) == 1 and found[0][1].lone_weight < self._threshold:
            return NO_HITS  # one weak word, no combination: the most common case
        live, complete = self._live([word for _, word in found])
        if not live:
            return NO_HITS
        hits = WordHits(live=live, complete=complete)
        # Byte offsets back to character offsets, only for the few
        # messages that go on to jieba, and only for words that count.
        done_bytes = char_end = 0
        spans = hits.spans
        for end, word in found:  # in order of end: decode only what is new
            if (
                word.category in live
                or not complete.isdisjoint(word.combo_ids)
                or (word.raiser and (word.raise_categories is None or not live.isdisjoint(word.raise_categories)))
            ):
                char_end += len(data[done_bytes : end + 1].decode("utf-8", "surrogatepass"))
                done_bytes = end + 1
                spans.append((char_end - len(word.key), char_end, word.clause_scoped))
        return hits

    def _live(self, found: list[_Word]) -> tuple[set[str], set[int]]:
        """Categories that could reach the threshold if every hit were a token, and their complete combos."""
        potential: dict[str, float] = {}
        parts: dict[int, set[int]] = {}
        for word in {word.key: word for word in found}.values():  # each word once
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
        if not self._has_markers:
            return found
        data = text.encode("utf-8", "surrogatepass")
        done_bytes = char_end = 0
        for end, marker in self._markers.iter(data.decode("latin-1")):
            if marker.negation or marker.clause or marker.long_word:
                char_end += len(data[done_bytes : end + 1].decode("utf-8", "surrogatepass"))
                done_bytes = end + 1
                start = char_end - marker.length
                if marker.negation:
                    found.negation_starts.append(start)
                if marker.clause:
                    found.clause_starts.append(start)
                if marker.long_word:
                    found.inside_long_words.update(range(start + 1, char_end))
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
                combo_ids=frozenset(c for c, _ in combo_parts.get(key, ())),
                raiser=key in raisers,
                raise_categories=raise_scope.get(key, frozenset()),
                clause_scoped=key in clause_scope,
                lone_weight=_lone_weight(lexicon, key, combo_parts.get(key, ())),
            ),
        )
    automaton.make_automaton()
    return automaton


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


def _marker_automaton(lexicon: Lexicon, long_words: frozenset[str]) -> ahocorasick.Automaton:
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
    plain_long: dict[int, _Marker] = {}  # one shared payload per length
    special = negations | set(suppressions) | set(exclusions)
    for key in long_words - special:
        payload = plain_long.get(len(key))
        if payload is None:
            payload = plain_long[len(key)] = _Marker(len(key), False, False, True, (), ())
        automaton.add_word(_as_bytes(key), payload)
    for key in special:
        automaton.add_word(
            _as_bytes(key),
            _Marker(
                length=len(key),
                negation=key in lexicon.negations,
                clause=key in lexicon.clause_negations,
                long_word=key in long_words,
                suppressions=tuple(suppressions.get(key, ())),
                exclusions=tuple(exclusions.get(key, ())),
            ),
        )
    if negations or suppressions or exclusions or long_words:
        automaton.make_automaton()
    return automaton
