"""The detector: one chat message in, one `Detection` out, no I/O.

How a message is judged (all words come from the lexicon, see nlp/lexicon.py):
1. normalise it (nlp/normalize.py) and keep a bounded prefix;
2. pre-scan it with Aho-Corasick (nlp/prescan.py). If, even counting every
   substring hit as a whole word, no category could reach the threshold, the
   message is unflagged without jieba — the case for nearly all group chat;
3. otherwise segment with jieba only the stretches around the words that can
   count (nlp/segment.py), so a keyword counts only as a whole token
   (他在打架子鼓 is not a fight);
4. drop negated or excluded keywords, score the categories, pick one, set the
   severity and emergency number, and withdraw the verdict for notices,
   old or distant events and reassurances (nlp/scoring.py).

`detect_reference` runs the same rules on jieba's segmentation of the whole
text; the benchmark and the tests check that the verdicts always agree.
"""
from __future__ import annotations

from pathlib import Path

import jieba

from nlp.detection import NOT_FLAGGED, Detection
from nlp.lexicon import Lexicon, load_lexicon
from nlp.normalize import COLLAPSIBLE, OUTSIDE, OUTSIDE_BUT_CASE, collapse_runs, normalize
from nlp.prescan import NO_HITS, Prescan, WordHits
from nlp.scoring import Judge
from nlp.segment import PartialSegmenter


class Detector:
    """Classifies chat messages with a lexicon; build it with `Detector.load`."""

    def __init__(self, lexicon: Lexicon, tokenizer: jieba.Tokenizer) -> None:
        self.lexicon = lexicon
        self._tokenizer = tokenizer
        self._segmenter = PartialSegmenter(tokenizer, frozenset(lexicon.token_words()))
        self._prescan = Prescan(lexicon, self._segmenter.long_words)
        self._find_words = self._prescan.find_words
        self._judge = Judge(lexicon)
        self._max_chars = lexicon.max_chars
        self._raw_prescan = not any(COLLAPSIBLE.intersection(w) for w in lexicon.trigger_words() | lexicon.token_words())

    @classmethod
    def load(cls, lexicon_path: Path | None = None) -> Detector:
        """Load a lexicon (None: the built-in one) and build the matcher.

        Raises nlp.lexicon.LexiconError when the lexicon is malformed — before
        the slow jieba start, so a typo is reported at once.
        """
        lexicon = load_lexicon(lexicon_path)
        # A private tokenizer: the global jieba dictionary belongs to nobody in
        # particular and other code may use it. The default dictionary comes
        # from jieba's marshal cache; our words are then added one by one, so
        # start-up stays that of plain jieba (a custom dictionary file would
        # bypass the cache and parse dict.txt all over again).
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        floor = lexicon.word_freq_floor
        for word in sorted(lexicon.token_words()):
            # suggest_freq is just frequent enough for the word to be cut whole
            # when alone (and never below jieba's own frequency); the floor
            # lets it also survive common neighbours (跟我走散了: not 跟我走/散).
            freq = tokenizer.suggest_freq(word, False)
            tokenizer.add_word(word, max(freq, floor) if len(word) > 1 else freq)
        # Boundary words last, so they outweigh the keywords inside them
        # (防诈骗 over 防 + 诈骗, 打架子鼓 over 打架 + 子 + 鼓).
        for word in sorted(lexicon.boundaries):
            tokenizer.add_word(word, tokenizer.suggest_freq(word, False))
        return cls(lexicon, tokenizer)

    # --- public API -----------------------------------------------------------------

    def detect(self, text: str) -> Detection:
        """Judge one message. Pure; never raises on any `str`."""
        try:
            if (
                self._raw_prescan
                and isinstance(text, str)
                # nearly_normal(text, max_chars), inlined: this is the hot path.
                and len(text) <= self._max_chars
                and "@" not in text
                and "[" not in text
                and (
                    OUTSIDE.search(text) is None
                    or (OUTSIDE_BUT_CASE.search(text) is None and (text := text.lower()))
                )
            ):
                # The ordinary chat line: normalising would only collapse
                # punctuation or spaces, which no lexicon word contains, so the
                # raw text has the very hits of its normalised form.
                found = self._find_words(text, True)
                if not found:  # no lexicon word at all: nearly every chat line
                    return NOT_FLAGGED
                words = self._prescan.words(text, found)
                if words is NO_HITS:  # words() answers NO_HITS whenever nothing may flag
                    return NOT_FLAGGED
                collapsed = collapse_runs(text, self._max_chars)
                if collapsed != text:  # offsets moved: scan the collapsed text
                    return self._candidate(collapsed, self._prescan.words(collapsed))
                return self._candidate(text, words)
            return self._detect(text, reference=False)
        except Exception as exc:  # noqa: BLE001 - see _guarded
            return Detection(flagged=False, rules=(f"error:{type(exc).__name__}",))

    def detect_reference(self, text: str) -> Detection:
        """The same judgement from a jieba segmentation of the whole text.

        No shortcuts: slower, and exists so tests and the benchmark can show
        `detect` always gives the same verdict.
        """
        return self._guarded(text, reference=True)

    def hit_count(self, text: str) -> int:
        """How many lexicon words occur in `text` as substrings (cheap: no jieba).

        Ranks the windows of a long message, so that only the likeliest are judged.
        """
        return len(self._find_words(normalize(text, self._max_chars), True))

    @property
    def word_patterns(self) -> list[str]:
        """The pre-scan's words (category words, combination parts, raise
        words): pattern i of the hits `hits` reads is word_patterns[i]."""
        return self._prescan.word_patterns

    def hits(self, found: list[tuple[int, int, int]]) -> WordHits:
        """The pre-scan's reading of a normalised text whose hits of
        `word_patterns` are `found` (pattern, start, end). When it cannot
        flag (`may_flag` false), `detect` answers NOT_FLAGGED without jieba."""
        return self._prescan.words("", found)

    def detect_hits(self, text: str, hits: WordHits) -> Detection:
        """`detect(text)` for a text in normal form (normalize(text) == text)
        whose pre-scan `hits` are already known."""
        if not hits.may_flag:
            return NOT_FLAGGED
        try:
            return self._candidate(text, hits)
        except Exception as exc:  # noqa: BLE001 - see _guarded
            return Detection(flagged=False, rules=(f"error:{type(exc).__name__}",))

    def tokens(self, text: str) -> list[str]:
        """The private tokenizer's segmentation of normalised `text` (for tooling)."""
        return self._tokenizer.lcut(normalize(text, self.lexicon.max_chars), HMM=False)

    # --- pipeline -------------------------------------------------------------------

    def _guarded(self, text: str, reference: bool) -> Detection:
        if not isinstance(text, str):
            return NOT_FLAGGED
        try:
            return self._detect(text, reference)
        except Exception as exc:  # noqa: BLE001 - the contract is "never raises"
            # A bug must not take down the message pipeline; the rule makes it
            # visible in the case file and in `pingan eval`.
            return Detection(flagged=False, rules=(f"error:{type(exc).__name__}",))

    def _detect(self, raw: str, reference: bool) -> Detection:
        if not isinstance(raw, str):
            return NOT_FLAGGED
        text = normalize(raw, self._max_chars)
        if not text:
            return NOT_FLAGGED
        words = self._prescan.words(text)
        if reference:
            # `complete` (combinations whose every part occurs as a substring)
            # is a necessary condition, so the reference may use it too.
            segments = self._segmenter.cut_whole(text)
            return self._judge.judge(text, segments, self._prescan.markers(text), words.complete)
        if not words.may_flag:
            # Every token is a substring, so no token-level score can be higher.
            return NOT_FLAGGED
        return self._candidate(text, words)

    def _candidate(self, text: str, words: WordHits) -> Detection:
        """A normalised message that may flag: segment what matters and judge."""
        markers = self._prescan.markers(text)
        segments = self._segmenter.cut_around(
            text, words.spans, markers.negation_starts, markers.clause_starts, markers.inside_long_words
        )
        return self._judge.judge(text, segments, markers, words.complete)
