"""The detector: one chat message in, one `Detection` out, no I/O.

How a message is judged (all words come from the lexicon, see nlp/lexicon.py):
1. normalise it (nlp/normalize.py) and keep a bounded prefix;
2. scan it once with an Aho-Corasick automaton for every lexicon string. If,
   even counting every substring hit as a whole word, no category could
   reach the threshold, the message is unflagged without jieba — the case
   for nearly all group chat;
3. otherwise segment with jieba — only the jieba blocks (runs of
   CJK/alphanumerics, which jieba itself segments independently) holding a
   word that can count — so a keyword counts only as a whole token (他在打架子鼓
   is not a fight);
4. drop keywords preceded by a negation in the same block (没有人打架), and
   words or categories cancelled by an exclusion context (猫 for 走丢);
5. score categories (word weights + combinations), choose the best, set the
   severity and the emergency number;
6. withdraw the verdict for notices, old/distant events and reassurances.

`detect_reference` runs the same rules on a jieba segmentation of the whole
text; the benchmark and the tests check that both always agree.
"""
from __future__ import annotations

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

    key: str
    category: str | None = None  # set for a category word
    weight: float = 0.0  # its weight
    combo_parts: tuple[tuple[int, int], ...] = ()  # (combo index, part index) it belongs to
    raiser: bool = False  # a raise word: matters only once something flags
    suppressions: tuple[int, ...] = ()  # indexes into Lexicon.suppressions
    exclusions: tuple[int, ...] = ()  # indexes into Lexicon.exclusions


class Detector:
    """Classifies chat messages with a lexicon; build it with `Detector.load`."""

    def __init__(self, lexicon: Lexicon, tokenizer: jieba.Tokenizer) -> None:
        self.lexicon = lexicon
        self._tokenizer = tokenizer
        self._automaton = _build_automaton(lexicon)
        self._keywords = frozenset(lexicon.token_words() - lexicon.negations - lexicon.clause_negations)
        self._combo_words = frozenset(w for c in lexicon.combos for part in c.parts for w in part)
        self._category_order = {c: i for i, c in enumerate(lexicon.default_severity)}
        # Suppressions that only a regular expression can find are tried on
        # every flagged message; phrase ones come from the automaton.
        self._pattern_suppressions = tuple(i for i, s in enumerate(lexicon.suppressions) if s.patterns)

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
        return self._guarded(text, reference=False)

    def detect_reference(self, text: str) -> Detection:
        """The same judgement from a jieba segmentation of the whole text.

        No pre-scan shortcut: slower, and exists so tests and the benchmark
        can show `detect` always equal to it.
        """
        return self._guarded(text, reference=True)

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
        text = normalize(raw, self.lexicon.max_chars)
        if not text:
            return NOT_FLAGGED
        hits = [(end - entry_len + 1, entry) for end, (entry_len, entry) in self._automaton.iter(text)]
        entries = [entry for _, entry in hits]
        if reference:
            segments = _split_blocks(self._tokenizer.lcut(text, HMM=False))
            return self._judge(text, segments, entries)
        complete = self._possible_combos(entries)
        if not self._may_flag(entries, complete):
            # Every token is a substring, so no token-level score can be higher.
            return NOT_FLAGGED
        # Only these words can count; negations act inside the block holding
        # the word, so their blocks are all the rules can ever see.
        starts = [
            start
            for start, entry in hits
            if entry.category or entry.raiser or any(c in complete for c, _ in entry.combo_parts)
        ]
        return self._judge(text, self._cut_blocks_at(text, starts), entries)

    def _possible_combos(self, entries: list[_Entry]) -> set[int]:
        """Combinations each of whose parts occurs at least as a substring."""
        parts: dict[int, set[int]] = {}
        for entry in entries:
            for combo, part in entry.combo_parts:
                parts.setdefault(combo, set()).add(part)
        combos = self.lexicon.combos
        return {c for c, found in parts.items() if len(found) == len(combos[c].parts)}

    def _may_flag(self, entries: list[_Entry], complete: set[int]) -> bool:
        """Could any category reach the threshold if every substring hit were a token?"""
        potential: dict[str, float] = {}
        seen: set[str] = set()
        for entry in entries:
            if entry.category is not None and entry.key not in seen:
                seen.add(entry.key)
                potential[entry.category] = potential.get(entry.category, 0.0) + entry.weight
        for c in complete:
            combo = self.lexicon.combos[c]
            potential[combo.category] = potential.get(combo.category, 0.0) + combo.weight
        threshold = self.lexicon.threshold - 1e-9
        return any(score >= threshold for score in potential.values())

    def _cut_blocks_at(self, text: str, starts: list[int]) -> list[list[str]]:
        """jieba tokens of the blocks in which one of `starts` lies."""
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

        # 1. Whole-token keywords, in text order, minus negated ones.
        present: dict[str, None] = {}
        window = lex.negation_window
        for tokens in segments:
            clause_negation = None  # 如果/万一/严禁 …: everything after it in the block
            for i, token in enumerate(tokens):
                if token in lex.clause_negations:
                    clause_negation = clause_negation or token
                    continue
                if token not in self._keywords:
                    continue
                negation = (clause_negation if self._clause_applies(token) else None) or next(
                    (t for t in tokens[max(0, i - window) : i] if t in lex.negations), None
                )
                if negation is None:
                    present.setdefault(token, None)
                else:
                    rules.append(f"negation:{negation}→{token}")
        if not present:
            return Detection(flagged=False, rules=tuple(rules))

        # 2. Exclusion contexts ("猫" for 走丢, "王者" for 砍死). A rule is
        # reported only where it actually cancels something.
        blocked: dict[str, str] = {}  # category → the phrase that blocks it
        for idx in sorted({i for e in entries for i in e.exclusions}):
            rule = lex.exclusions[idx]
            phrase = next(p for p in rule.phrases if p in text)
            for cat in rule.categories or ([] if rule.words else lex.default_severity):
                blocked.setdefault(cat, phrase)
            for word in [w for w in present if w in rule.words]:
                del present[word]
                rules.append(f"exclusion:{phrase}→{word}")
        reported: set[str] = set()

        def is_blocked(cat: str, word: str) -> bool:
            if cat not in blocked:
                return False
            if cat not in reported:
                reported.add(cat)
                rules.append(f"exclusion:{blocked[cat]}→{word}")
            return True

        # 3. Score each category.
        scores: dict[str, float] = {}
        severity: dict[str, str] = {}
        numbers: dict[str, set[str]] = {}
        used: dict[str, set[str]] = {}
        explain: dict[str, list[str]] = {}

        def credit(cat: str, weight: float, sev: str | None, number: str | None, words: Iterable[str]) -> None:
            scores[cat] = scores.get(cat, 0.0) + weight
            current = severity.get(cat, lex.default_severity[cat])
            if sev is not None and SEVERITY_RANK[sev] > SEVERITY_RANK[current]:
                current = sev
            severity[cat] = current
            if number is not None and sev == "urgent":
                numbers.setdefault(cat, set()).add(number)
            used.setdefault(cat, set()).update(words)

        for word in present:
            rule = lex.words.get(word)
            if rule is None or is_blocked(rule.category, word):
                continue
            credit(rule.category, rule.weight, rule.severity, rule.number, (word,))
            if rule.severity == "urgent":
                explain.setdefault(rule.category, []).append(f"urgent:{word}→{rule.number}")
        for combo in lex.combos:
            matched = [next((w for w in present if w in part), None) for part in combo.parts]
            if all(matched) and not is_blocked(combo.category, matched[0]):  # type: ignore[arg-type]
                credit(combo.category, combo.weight, combo.severity, combo.number, matched)  # type: ignore[arg-type]
                explain.setdefault(combo.category, []).append(f"combo:{combo.name}")

        candidates = [c for c, s in scores.items() if s >= lex.threshold - 1e-9]
        if not candidates:
            fired = tuple(w for w in present if w in lex.words or w in self._combo_words)
            return Detection(flagged=False, keywords=fired, rules=tuple(rules), score=max(scores.values(), default=0.0))

        # 4. Urgent first (a life at risk outranks a louder category), then
        # score, then the lexicon's category order.
        category = max(candidates, key=lambda c: (severity[c] == "urgent", scores[c], -self._category_order[c]))
        sev = severity[category]
        urgent_numbers = set(numbers.get(category, ()))
        keywords_used = set(used[category])
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
                urgent_numbers.add(rule.number)
            keywords_used.update(raised_by)
            rules.append(f"raise:{raised_by[0]}→{rule.severity}" + (f"/{rule.number}" if rule.number else ""))

        keywords = tuple(w for w in present if w in keywords_used)
        number = None
        if sev == "urgent":
            number = next((n for n in lex.number_priority if n in urgent_numbers), "110")

        # 5. Withdraw the verdict where the message is not a live report.
        withdrawn = self._suppressions(text, entries, category)
        if withdrawn:
            return Detection(flagged=False, keywords=keywords, rules=tuple(rules + withdrawn), score=scores[category])
        return Detection(
            flagged=True,
            category=category,
            severity=sev,
            keywords=keywords,
            rules=tuple(rules),
            emergency_number=number,
            score=scores[category],
        )

    def _clause_applies(self, token: str) -> bool:
        """Whether clause negations (如果, 严禁) cancel this keyword."""
        scope = self.lexicon.clause_categories
        if not scope:
            return True
        rule = self.lexicon.words.get(token)
        if rule is not None:
            return rule.category in scope
        return any(token in part for c in self.lexicon.combos if c.category in scope for part in c.parts)

    def _suppressions(self, text: str, entries: list[_Entry], category: str) -> list[str]:
        """One rule per kind (notice, distant, reassurance) that withdraws the report."""
        lex = self.lexicon
        found: dict[str, str] = {}
        for idx in sorted({i for e in entries for i in e.suppressions}):
            rule = lex.suppressions[idx]
            if rule.kind in found or (rule.categories and category not in rule.categories):
                continue
            found[rule.kind] = next(p for p in rule.phrases if p in text)
        for idx in self._pattern_suppressions:
            rule = lex.suppressions[idx]
            if rule.kind in found or (rule.categories and category not in rule.categories):
                continue
            match = next((m for m in (p.search(text) for p in rule.patterns) if m), None)
            if match is not None:
                found[rule.kind] = match.group()
        return [f"{kind}:{phrase}" for kind, phrase in found.items()]


def _split_blocks(tokens: list[str]) -> list[list[str]]:
    """Split a whole-text jieba cut back into its blocks (separators are non-block tokens)."""
    segments: list[list[str]] = [[]]
    for token in tokens:
        if _BLOCK.fullmatch(token):
            segments[-1].append(token)
        elif segments[-1]:
            segments.append([])
    return [s for s in segments if s]


def _build_automaton(lexicon: Lexicon) -> ahocorasick.Automaton:
    """One automaton for every string any rule looks for."""
    combo_parts: dict[str, list[tuple[int, int]]] = {}
    for c, combo in enumerate(lexicon.combos):
        for p, part in enumerate(combo.parts):
            for word in part:
                combo_parts.setdefault(word, []).append((c, p))
    raiser = {w for r in lexicon.raises for w in r.words}
    suppressions: dict[str, list[int]] = {}
    for i, rule in enumerate(lexicon.suppressions):
        for phrase in rule.phrases:
            suppressions.setdefault(phrase, []).append(i)
    exclusions: dict[str, list[int]] = {}
    for i, excl in enumerate(lexicon.exclusions):
        for phrase in excl.phrases:
            exclusions.setdefault(phrase, []).append(i)

    automaton = ahocorasick.Automaton()
    for key in set(lexicon.words) | set(combo_parts) | raiser | set(suppressions) | set(exclusions):
        rule = lexicon.words.get(key)
        entry = _Entry(
            key=key,
            category=rule.category if rule else None,
            weight=rule.weight if rule else 0.0,
            combo_parts=tuple(combo_parts.get(key, ())),
            raiser=key in raiser,
            suppressions=tuple(suppressions.get(key, ())),
            exclusions=tuple(exclusions.get(key, ())),
        )
        automaton.add_word(key, (len(key), entry))
    automaton.make_automaton()
    return automaton
