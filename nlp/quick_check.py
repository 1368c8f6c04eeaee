"""One automaton pass that clears most chat lines before any stage runs.

Nearly every group message is ordinary chat, and for it all three stages of
nlp/classifier.py answer "nothing here": the lexicon finds no word that could
reach its threshold, no urgency phrase occurs, and the model's gate (or its
exact report score) is below every threshold. Asked one after the other, the
stages scan the message three times, normalise it twice and build their
evidence records; `QuickCheck` scans it once, with one automaton over

- the lexicon's pre-scan words (nlp/prescan.py),
- the urgency phrases (nlp/urgency.py: no phrase, no urgency), and
- the model's gate n-grams (nlp/model.py),

and answers CLEARED only where the full classifier is certain to answer
NOT_FLAGGED; everything else takes the full path, so no verdict changes. That
path reuses what the scan found (the prepared text, the lexicon's hits, the
absence of any urgency phrase) instead of finding it again.

All three run here on the prepared text (nlp/features.prepare), while the
lexicon reads the merely normalised one. The two differ only where four or
more digits fold into "#", and no lexicon word holds a digit or "#", so both
have the same word hits, those after a fold further on in the normalised text
by what it took out (this is checked at construction: a lexicon with such a
word disables the check). The lexicon is handed the normalised text and the
hits at its offsets, so it never scans a message the quick check has read.
"""
from __future__ import annotations

import math
import re
from bisect import bisect_left
from operator import itemgetter

import ahocorasick_rs

from nlp.detector import Detector
from nlp.features import MAX_MODEL_CHARS, WINDOW, fold_numbers, folds, is_prepared, windows
from nlp.model import EXACT_WINDOWS, TextModel
from nlp.normalize import normalize
from nlp.prescan import NO_HITS, WordHits
from nlp.urgency import UrgencyJudge

# Characters prepare() changes inside a normalised text.
_FOLDED = re.compile(r"[\d#]")
_PATTERN = itemgetter(0)  # of a hit (pattern, start, end)


class Scan:
    """What the quick check learnt about a message it could not clear."""

    __slots__ = ("prepared", "urgent", "hits", "normal")

    def __init__(self, prepared: str | None, urgent: bool, hits: WordHits | None, normal: str | None = None) -> None:
        self.prepared = prepared  # features.prepare(text), or None: not known
        self.urgent = urgent  # False: no urgency phrase occurs, the text has no urgency
        self.hits = hits  # the lexicon's pre-scan hits in `normal`, or None: not known
        self.normal = normal  # the lexicon's normal form of the text (normalize(text, max_chars))


CLEARED = Scan(None, False, None)  # the classifier answers NOT_FLAGGED
UNKNOWN = Scan(None, True, None)  # nothing learnt (a long message)


class QuickCheck:
    """Built from the classifier's three stages; `scan(text)` is its one question."""

    def __init__(self, lexicon: Detector, urgency: UrgencyJudge, model: TextModel | None) -> None:
        self._lexicon = lexicon
        self._window = lexicon.lexicon.max_chars
        self._model = model
        words = lexicon.word_patterns
        self.enabled = not any(_FOLDED.search(w) for w in words)
        gate_grams, gate_weights, self._cutoff, urgent_weights, self._urgent_cutoff = (
            model.gate() if model is not None else ([], [], math.inf, [], math.inf)
        )
        number: dict[str, int] = {}  # pattern → its number in the automaton
        for pattern in [*words, *urgency.phrases, *gate_grams]:
            number.setdefault(pattern, len(number))
        word_of = {w: i for i, w in enumerate(words)}
        self._word = [word_of.get(p, -1) for p in number]  # pattern → lexicon word number, or -1
        self._words = frozenset(number[w] for w in words)
        self._urgent = frozenset(number[p] for p in urgency.phrases)
        self._gate_weight = [0.0] * len(number)
        self._urgent_weight = [0.0] * len(number)
        for gram, weight, urgent_weight in zip(gate_grams, gate_weights, urgent_weights):
            # A repeated gram counts as often as the gate counts it.
            self._gate_weight[number[gram]] += weight
            self._urgent_weight[number[gram]] += urgent_weight
        # No pattern at all: no word, no urgency, gate scores of 0 in every window.
        self._empty_is_clear = model is None or (0.0 < self._cutoff and 0.0 < self._urgent_cutoff)
        # A contiguous NFA: on chat lines as fast as a DFA over these 7,000
        # patterns, in a tenth of the memory (1 MB), so it stays in cache
        # beside the model's own automaton.
        self._find = (
            ahocorasick_rs.AhoCorasick(list(number), implementation=ahocorasick_rs.Implementation.ContiguousNFA).find_matches_as_indexes
            if number
            else lambda text, overlapping: []
        )

    def scan(self, text: str) -> Scan:
        """CLEARED only when the classifier would answer NOT_FLAGGED for `text`
        (at most MAX_MODEL_CHARS long, as Classifier.detect cuts it); else
        what the scan learnt, for the full path to reuse."""
        if not self.enabled or len(text) > self._window:
            return UNKNOWN  # the classifier reads a long message in windows
        if is_prepared(text):
            prepared = normalised = text
        else:
            # Also the lexicon's normal form normalize(text, max_chars): the
            # text is within max_chars, so both read all of it and cut nothing.
            normalised = normalize(text, MAX_MODEL_CHARS)
            if len(normalised) > self._window:  # lower() can lengthen a text: the lexicon would cut it
                return UNKNOWN
            prepared = fold_numbers(normalised)
        found = self._find(prepared, True)
        if not found and self._empty_is_clear:  # half of all chat: not one pattern
            return CLEARED
        # Set operations and map(): C loops, where a Python loop over the hits
        # would cost more than the scan.
        ids = set(map(_PATTERN, found))
        urgent = bool(ids) and not self._urgent.isdisjoint(ids)
        # The lexicon reads the normal form, where a folded number is still its
        # digits: the same word hits (no word holds a digit or "#"), further on
        # by what the folds before them took out.
        hits: WordHits = NO_HITS
        if ids and not self._words.isdisjoint(ids):
            word = self._word
            hits = self._lexicon.hits([(word[i], s, e) for i, s, e in found if word[i] >= 0])
        if urgent or hits.may_flag or self._model_interested(prepared, found, ids):
            if hits.may_flag and len(prepared) != len(normalised):  # a fold always shortens the text
                hits = _unfold(hits, normalised)
            return Scan(prepared, urgent, hits, normalised)
        return CLEARED

    def _model_interested(self, prepared: str, found: list[tuple[int, int, int]], ids: set[int]) -> bool:
        """Would TextModel.score(prepared, prepared=True) find a window of interest?

        No cheaper test runs before past_gate, on purpose. An exact upper
        bound of the report logit from these hits (every other n-gram at most
        the weakest gate weight, the characters looked up one by one) clears
        two thirds of the texts that pass the gate, yet the detector got no
        faster: its per-character lookups cost about as much as the passes
        they spare, and even a free test would spare under a tenth of the
        detector's time. Most of that time goes to the messages that do get
        flagged, which need every stage whatever a bound says.
        """
        model = self._model
        if model is None or not prepared:
            return False
        if len(prepared) <= WINDOW:  # one window: the whole text
            return self._passes(ids, len(prepared)) and model.past_gate(prepared) is not None
        spans = windows(len(prepared))
        if len(spans) > EXACT_WINDOWS:
            return True  # ranked by an estimate there: leave it to the model
        for s, e in spans:
            inside = {i for i, start, end in found if s <= start and end <= e}
            if self._passes(inside, e - s) and model.past_gate(prepared[s:e]) is not None:
                return True
        return False

    def _passes(self, ids: set[int], length: int) -> bool:
        """As TextModel._interesting compares: below both cutoffs fails the gate."""
        root = math.sqrt(length)
        return not (
            sum(map(self._gate_weight.__getitem__, ids)) / root < self._cutoff
            and sum(map(self._urgent_weight.__getitem__, ids)) / root < self._urgent_cutoff
        )


def _unfold(hits: WordHits, normalised: str) -> WordHits:
    """`hits` found in fold_numbers(normalised), at their places in `normalised`."""
    positions, shifts = folds(normalised)
    spans = []
    for start, end, scoped in hits.spans:
        # A word holds no "#": the folds before it are those at smaller offsets.
        k = bisect_left(positions, start)
        shift = shifts[k - 1] if k else 0
        spans.append((start + shift, end + shift, scoped))
    return WordHits(spans=spans, live=hits.live, complete=hits.complete)
