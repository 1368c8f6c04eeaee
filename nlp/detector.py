"""The detector: one chat message in, one `Detection` out, no I/O.

How a message is judged (all words come from the lexicon, see nlp/lexicon.py):
1. normalise it (nlp/normalize.py) and keep a bounded prefix;
2. scan it once with an Aho-Corasick automaton for every lexicon string. Most
   group chat contains no lexicon word at all and stops here, unflagged;
3. segment with jieba — only the jieba blocks (runs of CJK/alphanumerics,
   which jieba itself segments independently) that contain a candidate — so a
   keyword counts only as a whole token (他在打架子鼓 is not a fight);
4. drop keywords preceded by a negation in the same block (没有人打架), and
   words or categories cancelled by an exclusion context;
5. score categories (word weights + combinations), choose the best, set the
   severity and emergency number;
6. withdraw the verdict for notices, old/distant events and reassurances.

`detect_reference` runs the same rules on a jieba segmentation of the whole
text; the benchmark and the tests check that both always agree.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import ahocorasick
import jieba

from nlp.detection import NOT_FLAGGED, Detection
from nlp.lexicon import SEVERITY_RANK, Lexicon, load_lexicon
from nlp.normalize import normalize

# jieba's own block pattern (jieba.re_han_default): jieba splits its input on
# it and segments each block on its own, so cutting only some blocks gives
# exactly the tokens a full cut gives for those blocks.
_BLOCK = jieba.re_han_default


@dataclass(frozen=True)
class _Entry:
    """What one automaton string means; a string can play several roles."""

    trigger: bool  # a category word or combo part: may make the message flag
    raiser: bool = False  # a raise word: matters only once something flags
    notice: bool = False
    distant: bool = False
    reassurances: tuple[int, ...] = ()
    exclusions: tuple[int, ...] = ()


class Detector:
    """Classifies chat messages with a lexicon; build it with `Detector.load`."""

    def __init__(self, lexicon: Lexicon, tokenizer: jieba.Tokenizer, automaton: ahocorasick.Automaton) -> None:
        self.lexicon = lexicon
        self._tokenizer = tokenizer
        self._automaton = automaton
        self._token_words = frozenset(lexicon.token_words() - lexicon.negations)

    @classmethod
    def load(cls, lexicon_path: Path | None = None) -> Detector:
        """Load a lexicon (None: the built-in one) and build the matcher.

        Raises nlp.lexicon.LexiconError, before the slow jieba start, when the
        lexicon is malformed.
        """
        lexicon = load_lexicon(lexicon_path)
        # A private tokenizer: the global jieba dictionary belongs to nobody in
        # particular and other code may use it. The default dictionary comes
        # from jieba's marshal cache; our words are then added one by one, so
        # the start-up cost stays that of plain jieba (a custom dictionary
        # file would bypass the cache and rebuild everything).
        tokenizer = jieba.Tokenizer()
        tokenizer.initialize()
        for word in sorted(lexicon.token_words()):
            # suggest_freq: just frequent enough to be cut whole when alone,
            # and never lower than jieba's own frequency for known words, so
            # the surrounding segmentation is disturbed as little as possible.
            tokenizer.add_word(word, tokenizer.suggest_freq(word, False))
        return cls(lexicon, tokenizer, _build_automaton(lexicon))

    # --- public API -----------------------------------------------------------------

    def detect(self, text: str) -> Detection:
        """Judge one message. Pure; never raises on any `str`."""
        return self._guarded(text, reference=False)

    def detect_reference(self, text: str) -> Detection:
        """The same judgement from a full jieba segmentation (no pre-scan shortcut).

        Slower; exists so tests and the benchmark can prove `detect` equal to it.
        """
        return self._guarded(text, reference=True)

    def tokens(self, text: str) -> list[str]:
        """The private tokenizer's segmentation of normalised `text` (for tooling)."""
        return self._tokenizer.lcut(normalize(text, self.lexicon.max_chars), HMM=False)

    # --- internals ------------------------------------------------------------------

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
        lex = self.lexicon
        text = normalize(raw, lex.max_chars)
        if not text:
            return NOT_FLAGGED
        hits = self._automaton.iter(text)
        entries: list[_Entry] = []
        token_starts: list[int] = []
        triggered = False
        for end, (length, entry) in hits:
            entries.append(entry)
            if entry.trigger or entry.raiser:
                token_starts.append(end - length + 1)
                triggered = triggered or entry.trigger
        if not triggered and not reference:
            return NOT_FLAGGED
        if reference:
            segments = _segments_of_full_cut(self._tokenizer.lcut(text, HMM=False))
        else:
            # Negations matter only inside a block holding a keyword, so blocks
            # with a keyword or a raise word are all the rules can ever see.
            segments = self._segments_with_candidates(text, token_starts)
        return self._judge(text, segments, entries)

    def _segments_with_candidates(self, text: str, starts: list[int]) -> list[list[str]]:
        """Cut only the jieba blocks in which a candidate word starts."""
        segments = []
        starts.sort()
        i = 0
        for block in _BLOCK.finditer(text):
            b_start, b_end = block.span()
            while i < len(starts) and starts[i] < b_start:
                i += 1
            if i == len(starts):
                break
            if starts[i] < b_end:
                segments.append(self._tokenizer.lcut(block.group(), HMM=False))
        return segments

    def _judge(self, text: str, segments: list[list[str]], entries: list[_Entry]) -> Detection:
        lex = self.lexicon
        rules: list[str] = []

        # Whole-token keywords, in text order, minus negated ones.
        present: dict[str, None] = {}
        window = lex.negation_window
        for tokens in segments:
            for i, token in enumerate(tokens):
                if token not in self._token_words:
                    continue
                negation = next((t for t in tokens[max(0, i - window) : i] if t in lex.negations), None)
                if negation is not None:
                    rules.append(f"negation:{negation}→{token}")
                else:
                    present.setdefault(token, None)
        if not present:
            return Detection(flagged=False, rules=tuple(rules))

        # Exclusion contexts ("猫" for 走丢, "游戏里" for 砍死).
        blocked_categories: set[str] = set()
        excluded_ids = {i for e in entries for i in e.exclusions}
        for idx in sorted(excluded_ids):
            rule = lex.exclusions[idx]
            phrase = next(p for p in rule.phrases if p in text)
            if not rule.words and not rule.categories:
                blocked_categories.update(lex.default_severity)
            blocked_categories |= rule.categories
            cancelled = [w for w in present if w in rule.words]
            for word in cancelled:
                del present[word]
            rules.append(f"exclusion:{phrase}")

        # Score each category.
        scores: dict[str, float] = {}
        severity: dict[str, str] = {}
        urgent_numbers: dict[str, set[str]] = {}
        contributors: dict[str, set[str]] = {}
        explain: dict[str, list[str]] = {}

        def credit(cat: str, weight: float, sev: str | None, number: str | None, words: Iterable[str]) -> None:
            scores[cat] = scores.get(cat, 0.0) + weight
            current = severity.get(cat, lex.default_severity[cat])
            if sev is not None and SEVERITY_RANK[sev] > SEVERITY_RANK[current]:
                current = sev
            severity[cat] = current
            if number is not None and sev == "urgent":
                urgent_numbers.setdefault(cat, set()).add(number)
            contributors.setdefault(cat, set()).update(words)

        for word in present:
            rule = lex.words.get(word)
            if rule is None or rule.category in blocked_categories:
                continue
            credit(rule.category, rule.weight, rule.severity, rule.number, (word,))
            if rule.severity == "urgent":
                explain.setdefault(rule.category, []).append(f"urgent:{word}→{rule.number}")
        for combo in lex.combos:
            if combo.category in blocked_categories:
                continue
            matched = [next((w for w in present if w in part), None) for part in combo.parts]
            if all(matched):
                credit(combo.category, combo.weight, combo.severity, combo.number, matched)  # type: ignore[arg-type]
                explain.setdefault(combo.category, []).append(f"combo:{combo.name}")

        candidates = [c for c, s in scores.items() if s >= lex.threshold - 1e-9]
        fired_words = tuple(w for w in present if w in lex.words or any(w in p for c in lex.combos for p in c.parts))
        if not candidates:
            return Detection(flagged=False, keywords=fired_words, rules=tuple(rules), score=max(scores.values(), default=0.0))

        # Urgent first (a life at risk outranks a louder category), then score,
        # then the lexicon's category order.
        order = list(lex.default_severity)
        category = max(candidates, key=lambda c: (severity[c] == "urgent", scores[c], -order.index(c)))
        sev = severity[category]
        numbers = set(urgent_numbers.get(category, ()))
        used = set(contributors[category])
        rules.append(f"category:{category}={scores[category]:g}")
        rules.extend(explain.get(category, ()))

        for rule in lex.raises:
            if rule.categories and category not in rule.categories:
                continue
            raised_by = [w for w in present if w in rule.words]
            if not raised_by:
                continue
            if SEVERITY_RANK[rule.severity] > SEVERITY_RANK[sev]:
                sev = rule.severity
            if rule.severity == "urgent" and rule.number:
                numbers.add(rule.number)
            used.update(raised_by)
            rules.append(f"raise:{raised_by[0]}→{rule.severity}" + (f"/{rule.number}" if rule.number else ""))

        keywords = tuple(w for w in present if w in used)
        number = None
        if sev == "urgent":
            number = next((n for n in lex.number_priority if n in numbers), "110")

        # Finally, withdraw the verdict where the message is not a live report.
        suppressed = self._suppression(text, entries, category)
        if suppressed:
            return Detection(flagged=False, keywords=keywords, rules=tuple(rules + suppressed), score=scores[category])
        return Detection(
            flagged=True,
            category=category,
            severity=sev,
            keywords=keywords,
            rules=tuple(rules),
            emergency_number=number,
            score=scores[category],
        )

    def _suppression(self, text: str, entries: list[_Entry], category: str) -> list[str]:
        """Rules that make a report not live: notice, old/distant event, reassurance."""
        lex = self.lexicon
        found: list[str] = []
        for entry in entries:
            if entry.notice:
                found.append("notice:" + next(p for p in lex.notice_phrases if p in text))
                break
        else:
            for pattern in lex.notice_patterns:
                match = pattern.search(text)
                if match:
                    found.append("notice:" + match.group())
                    break
        if not lex.distant_categories or category in lex.distant_categories:
            for entry in entries:
                if entry.distant:
                    found.append("distant:" + next(p for p in lex.distant_phrases if p in text))
                    break
        for idx in sorted({i for e in entries for i in e.reassurances}):
            rule = lex.reassurances[idx]
            if not rule.categories or category in rule.categories:
                found.append("reassurance:" + next(p for p in rule.phrases if p in text))
                break
        return found


def _segments_of_full_cut(tokens: list[str]) -> list[list[str]]:
    """Split a whole-text jieba cut back into its blocks (separators are non-block tokens)."""
    segments: list[list[str]] = [[]]
    for token in tokens:
        if _BLOCK.fullmatch(token):
            segments[-1].append(token)
        elif segments[-1]:
            segments.append([])
    return [s for s in segments if s]


def _build_automaton(lexicon: Lexicon) -> ahocorasick.Automaton:
    """One automaton for every string the rules look for."""
    roles: dict[str, dict[str, object]] = {}

    def role(key: str) -> dict[str, object]:
        return roles.setdefault(key, {"trigger": False, "raiser": False, "notice": False, "distant": False, "reassurances": [], "exclusions": []})

    for word in lexicon.trigger_words():
        role(word)["trigger"] = True
    for rule in lexicon.raises:
        for word in rule.words:
            role(word)["raiser"] = True
    for phrase in lexicon.notice_phrases:
        role(phrase)["notice"] = True
    for phrase in lexicon.distant_phrases:
        role(phrase)["distant"] = True
    for i, rule in enumerate(lexicon.reassurances):
        for phrase in rule.phrases:
            role(phrase)["reassurances"].append(i)  # type: ignore[union-attr]
    for i, rule in enumerate(lexicon.exclusions):
        for phrase in rule.phrases:
            role(phrase)["exclusions"].append(i)  # type: ignore[union-attr]

    automaton = ahocorasick.Automaton()
    for key, r in roles.items():
        entry = _Entry(
            trigger=bool(r["trigger"]),
            raiser=bool(r["raiser"]),
            notice=bool(r["notice"]),
            distant=bool(r["distant"]),
            reassurances=tuple(r["reassurances"]),  # type: ignore[arg-type]
            exclusions=tuple(r["exclusions"]),  # type: ignore[arg-type]
        )
        automaton.add_word(key, (len(key), entry))
    automaton.make_automaton()
    return automaton
