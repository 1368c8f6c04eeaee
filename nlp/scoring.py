"""From tokens to a verdict: negation, exclusion, scoring, severity, suppression.

Pure functions of the lexicon, the normalised text, its relevant jieba
segments and the pre-scan's marker hits. Every decision leaves a rule string
in the Detection ("negation:没有→打架", "combo:转账+安全账户", "notice:温馨提示")
so officers and the dashboard can see why a message was or was not flagged.
"""
from __future__ import annotations

from collections.abc import Iterable

from nlp.detection import Detection
from nlp.detection import SEVERITY_RANK
from nlp.lexicon import Lexicon
from nlp.normalize import same_sentence
from nlp.prescan import Markers


class Judge:
    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._keywords = frozenset(lexicon.token_words() - lexicon.negations - lexicon.clause_negations)
        self._combo_words = frozenset(w for c in lexicon.combos for part in c.parts for w in part)
        self._category_order = {c: i for i, c in enumerate(lexicon.default_severity)}
        self._clause_scope = lexicon.clause_scope()
        # Suppressions found by regular expression are tried on every flagged
        # message; phrase ones come from the pre-scan.
        self._pattern_suppressions = tuple(i for i, s in enumerate(lexicon.suppressions) if s.patterns)

    def judge(self, text: str, segments: list[list[str]], markers: Markers, complete: set[int]) -> Detection:
        lex = self.lexicon
        rules: list[str] = []
        present = self._present(segments, rules)
        if not present:
            return Detection(flagged=False, rules=tuple(rules))

        # Exclusion contexts ("猫" for 走丢, "王者" for 砍死), reported only
        # where they actually cancel something.
        blocked: dict[str, str] = {}  # category → the phrase that blocks it
        for idx in sorted(markers.exclusions):
            exclusion = lex.exclusions[idx]
            phrase = next(p for p in exclusion.phrases if p in text)
            for cat in exclusion.categories or ([] if exclusion.words else lex.default_severity):
                blocked.setdefault(cat, phrase)
            for word in [w for w in present if w in exclusion.words]:
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

        # Score each category: word weights plus combinations.
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
            if rule is None or (blocked and is_blocked(rule.category, word)):
                continue
            credit(rule.category, rule.weight, rule.severity, rule.number, (word,))
            if rule.severity == "urgent":
                explain.setdefault(rule.category, []).append(f"urgent:{word}→{rule.number}")
        for c in sorted(complete):
            combo = lex.combos[c]
            matched = [next((w for w in present if w in part), None) for part in combo.parts]
            if all(matched) and not (blocked and is_blocked(combo.category, matched[0])):  # type: ignore[arg-type]
                credit(combo.category, combo.weight, combo.severity, combo.number, matched)  # type: ignore[arg-type]
                explain.setdefault(combo.category, []).append(f"combo:{combo.name}")

        candidates = [c for c, s in scores.items() if s >= lex.threshold - 1e-9]
        if not candidates:
            fired = tuple(w for w in present if w in lex.words or w in self._combo_words)
            return Detection(flagged=False, keywords=fired, rules=tuple(rules), score=max(scores.values(), default=0.0))

        # Urgent first (a life at risk outranks a louder category), then
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

        # Finally, withdraw the verdict where the message is not a live report.
        withdrawn = self._suppressions(text, markers, category, keywords)
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

    def _present(self, segments: list[list[str]], rules: list[str]) -> dict[str, None]:
        """Keyword tokens in text order, minus negated ones (noted in `rules`)."""
        lex = self.lexicon
        keywords, negations, clause_negations = self._keywords, lex.negations, lex.clause_negations
        window = lex.negation_window
        present: dict[str, None] = {}
        for tokens in segments:
            if negations.isdisjoint(tokens) and clause_negations.isdisjoint(tokens):
                for token in tokens:  # the usual case: nothing to cancel
                    if token in keywords:
                        present.setdefault(token, None)
                continue
            clause_negation = None  # 如果/万一/严禁 …: cancels what follows in the block
            for i, token in enumerate(tokens):
                if token in clause_negations:
                    clause_negation = clause_negation or token
                    continue
                if token not in keywords:
                    continue
                negation = clause_negation if token in self._clause_scope else None
                if negation is None:
                    negation = next((t for t in tokens[max(0, i - window) : i] if t in negations), None)
                if negation is None:
                    present.setdefault(token, None)
                else:
                    rules.append(f"negation:{negation}→{token}")
        return present

    def _suppressions(self, text: str, markers: Markers, category: str, keywords: tuple[str, ...]) -> list[str]:
        """One rule per kind (notice, distant, reassurance) that withdraws the report.

        A notice or a reassurance speaks for the whole message. An old or
        distant event only for the sentence it is told in: "去年也吵过一次。
        今天他们又打起来了" is a live report, and in a long rambling message
        the story of last year is seldom the point (see `_near`)."""
        lex = self.lexicon
        found: dict[str, str] = {}
        for idx in sorted(markers.suppressions):
            rule = lex.suppressions[idx]
            if rule.kind in found or (rule.categories and category not in rule.categories):
                continue
            for phrase in rule.phrases:
                if phrase in text and self._applies(rule.kind, text, phrase, keywords):
                    found[rule.kind] = phrase
                    break
        for idx in self._pattern_suppressions:
            rule = lex.suppressions[idx]
            if rule.kind in found or (rule.categories and category not in rule.categories):
                continue
            for match in (m for m in (p.search(text) for p in rule.patterns) if m):
                if self._applies(rule.kind, text, match.group(), keywords):
                    found[rule.kind] = match.group()
                    break
        return [f"{kind}:{phrase}" for kind, phrase in found.items()]

    def _applies(self, kind: str, text: str, phrase: str, keywords: tuple[str, ...]) -> bool:
        """Whether `phrase`, found in `text`, withdraws the verdict (see _suppressions)."""
        reach = self.lexicon.suppression_reach
        if kind != "distant" or reach <= 0 or not keywords:
            return True
        at = text.find(phrase)
        while at >= 0:
            if _near(text, at, at + len(phrase), keywords, reach):
                return True
            at = text.find(phrase, at + 1)
        return False


def _near(text: str, start: int, end: int, keywords: tuple[str, ...], reach: int) -> bool:
    """Some keyword occurs within `reach` characters of text[start:end], in the same sentence."""
    for word in keywords:
        k = text.find(word)
        while k >= 0:
            if max(k - end, start - k - len(word)) <= reach and same_sentence(text, start, end, k, k + len(word)):
                return True
            k = text.find(word, k + 1)
    return False
