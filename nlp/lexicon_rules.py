"""What a loaded lexicon is: its rules, as immutable objects, and the error raised
for a lexicon file that cannot be used.

The file format and its parser are in nlp/lexicon.py, which re-exports every
name defined here.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

NUMBERS = ("110", "119", "120")


class LexiconError(ValueError):
    """A lexicon file that cannot be used; str() is one line: file: key: problem."""

    def __init__(self, path: Path | str, key: str, problem: str) -> None:
        self.path = str(path)
        self.key = key
        self.problem = problem
        where = f"{self.path}: {key}: " if key else f"{self.path}: "
        super().__init__(where + problem)


@dataclass(frozen=True)
class WordRule:
    word: str
    category: str
    weight: float
    severity: str | None
    number: str | None


@dataclass(frozen=True)
class Combo:
    name: str
    category: str
    weight: float
    severity: str | None
    number: str | None
    parts: tuple[frozenset[str], ...]


@dataclass(frozen=True)
class Raise:
    severity: str
    number: str | None
    words: frozenset[str]
    categories: frozenset[str]  # empty: every category


@dataclass(frozen=True)
class PhraseRule:
    """An exclusion: a context phrase cancelling words or categories (both empty: everything)."""

    phrases: tuple[str, ...]
    categories: frozenset[str]
    words: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Suppression:
    """A reason a flagged message is not a live report (notice, distant, reassurance)."""

    kind: str
    phrases: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    categories: frozenset[str]  # empty: every category


SUPPRESSION_KINDS = ("notice", "distant", "reassurance")


@dataclass(frozen=True)
class Lexicon:
    path: str
    threshold: float
    max_chars: int
    negation_window: int
    word_freq_floor: int
    number_priority: tuple[str, ...]
    default_severity: dict[str, str]
    words: dict[str, WordRule]
    combos: tuple[Combo, ...]
    raises: tuple[Raise, ...]
    negations: frozenset[str]
    clause_negations: frozenset[str]
    clause_categories: frozenset[str]  # empty: every category
    boundaries: frozenset[str]
    suppressions: tuple[Suppression, ...]
    exclusions: tuple[PhraseRule, ...]
    # Characters around a counted keyword, inside its sentence, where a
    # [[distant]] phrase withdraws the verdict; 0: anywhere in the message.
    suppression_reach: int = 0

    def token_words(self) -> set[str]:
        """Every word a rule looks at as a jieba token (boundaries excluded)."""
        out = set(self.words) | set(self.negations) | set(self.clause_negations)
        for combo in self.combos:
            for part in combo.parts:
                out |= part
        for rule in self.raises:
            out |= rule.words
        return out

    def clause_scope(self) -> frozenset[str]:
        """Keywords that clause negations (如果, 严禁) can cancel."""
        scope = self.clause_categories or frozenset(self.default_severity)
        words = {w for w, r in self.words.items() if r.category in scope}
        words |= {w for c in self.combos if c.category in scope for part in c.parts for w in part}
        return frozenset(words)

    def trigger_words(self) -> set[str]:
        """Words that can make a message flag; without one, nothing can fire."""
        out = set(self.words)
        for combo in self.combos:
            for part in combo.parts:
                out |= part
        return out
