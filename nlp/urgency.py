"""Is a life at risk now? A judgement of its own, across all categories.

The category says who handles a report; urgency says whether the reply must
name 110/119/120 at once. A stabbing is a dispute and needs 110 and 120; a
gas smell in a kitchen is a fire hazard and needs 119. Signals are phrases in
nlp/data/urgency.toml (data, not code), matched as substrings by one
Aho-Corasick pass, so typos around them do not hide them and the cost stays
linear in the message length.
"""
from __future__ import annotations

import tomllib
from bisect import bisect_left, bisect_right
from dataclasses import dataclass
from pathlib import Path

import ahocorasick_rs

from nlp.normalize import CLAUSE_BREAK, normalize, same_sentence

DEFAULT_URGENCY_PATH = Path(__file__).resolve().parent / "data" / "urgency.toml"
NUMBER_ORDER = ("110", "119", "120")
# A fiction or old-news context cancels a signal only this close to it, so a
# long message that mentions last year's fire can still report today's.
CONTEXT_REACH = 40


class UrgencyError(ValueError):
    """A broken urgency file; str() is one line naming the file and the key."""


@dataclass(frozen=True)
class Signal:
    name: str
    numbers: tuple[str, ...]
    strong: bool
    groups: tuple[tuple[str, ...], ...]  # one phrase of every group must occur
    # The model may not silence it: a call for an ambulance is no figure of
    # speech, and the model learned few such calls (it read "叫了救护车了，我奶奶
    # 还是没醒" as no report at all, 0.01).
    sure: bool = False


@dataclass(frozen=True)
class Urgency:
    """The signals found in one message, after negations and contexts."""

    strong: bool  # urgent on its own
    weak: bool  # urgent if the message is a report anyway
    numbers: tuple[str, ...]
    phrases: tuple[str, ...]
    cancelled: tuple[str, ...] = ()  # "negation:没有→流血", "context:那集→跳楼"
    at: int = -1  # where in the text the first counted signal phrase starts
    sure: bool = False  # a strong signal the model may not overrule

    @property
    def any(self) -> bool:
        return self.strong or self.weak


NO_URGENCY = Urgency(False, False, (), ())


def order_numbers(numbers) -> tuple[str, ...]:
    return tuple(n for n in NUMBER_ORDER if n in set(numbers))


class UrgencyJudge:
    def __init__(self, signals: list[Signal], negations: list[str], negation_reach: int, contexts: list[str]) -> None:
        self.signals = signals
        self._negations = tuple(negations)
        self._reach = negation_reach
        self._contexts = tuple(contexts)
        self._longest_context = max(map(len, contexts), default=0)
        phrases: list[str] = []
        self._owner: list[tuple[int, int]] = []  # pattern → (signal, group)
        for s_idx, signal in enumerate(signals):
            for g_idx, group in enumerate(signal.groups):
                for phrase in group:
                    phrases.append(phrase)
                    self._owner.append((s_idx, g_idx))
        self._phrases = phrases
        self._find = ahocorasick_rs.AhoCorasick(phrases).find_matches_as_indexes
        self._find_context = ahocorasick_rs.AhoCorasick(list(contexts)).find_matches_as_indexes if contexts else None

    @property
    def phrases(self) -> tuple[str, ...]:
        """Every signal phrase: a text holding none of them has no urgency."""
        return tuple(self._phrases)

    @classmethod
    def load(cls, path: Path | None = None) -> UrgencyJudge:
        path = path or DEFAULT_URGENCY_PATH
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise UrgencyError(f"{path}: 无法读取（{exc.strerror or exc}）") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise UrgencyError(f"{path}: 不是有效的 TOML（{exc}）") from None
        signals: list[Signal] = []
        for i, raw in enumerate(data.get("signal", [])):
            where = f"signal[{i}]"
            numbers = raw.get("numbers", [])
            if not numbers or not set(numbers) <= set(NUMBER_ORDER):
                raise UrgencyError(f"{path}: {where}.numbers: 应为 110/119/120 中的一个或几个")
            if "phrases" in raw:
                groups = [raw["phrases"]]
            elif "all" in raw:
                groups = raw["all"]
            else:
                raise UrgencyError(f"{path}: {where}: 需要 phrases 或 all")
            if not groups or not all(isinstance(g, list) and g and all(isinstance(p, str) and p for p in g) for g in groups):
                raise UrgencyError(f"{path}: {where}: 短语应为非空字符串列表")
            norm = tuple(tuple(normalize(p) for p in g) for g in groups)
            sure = bool(raw.get("sure", False))
            signals.append(Signal(str(raw.get("name", where)), order_numbers(numbers), bool(raw.get("strong", False)) or sure, norm, sure))
        negations = [normalize(w) for w in data.get("negations", [])]
        contexts = [normalize(w) for w in data.get("contexts", [])]
        return cls(signals, negations, int(data.get("negation_reach", 4)), contexts)

    def judge(self, text: str) -> Urgency:
        """Signals in normalised `text` (see nlp.features.prepare)."""
        matches = self._find(text, overlapping=True)
        if not matches:
            return NO_URGENCY
        # Contexts by start, so each signal looks only at those within reach
        # (a megabyte of text has thousands of both).
        contexts = sorted((cs, ce, c) for c, cs, ce in self._find_context(text, overlapping=True)) if self._find_context else []
        context_starts = [cs for cs, _, _ in contexts]
        found: dict[int, dict[int, list[str]]] = {}
        cancelled: list[str] = []
        first: dict[int, int] = {}
        for pattern, start, end in matches:
            phrase = self._phrases[pattern]
            # A negation reaches only within its clause: in "他冇到，人找不到了"
            # the 冇 belongs to the arrival, not to the missing boy.
            before = CLAUSE_BREAK.split(text[max(0, start - self._reach) : start])[-1]
            negation = next((n for n in self._negations if n in before), None)
            if negation is not None:
                cancelled.append(f"negation:{negation}→{phrase}")
                continue
            nearby = contexts[
                bisect_left(context_starts, start - CONTEXT_REACH - self._longest_context) : bisect_right(context_starts, end + CONTEXT_REACH)
            ]
            context = next(
                (
                    self._contexts[c]
                    for cs, ce, c in nearby
                    if ce >= start - CONTEXT_REACH and same_sentence(text, cs, ce, start, end)
                ),
                None,
            )
            if context is not None:
                cancelled.append(f"context:{context}→{phrase}")
                continue
            s_idx, g_idx = self._owner[pattern]
            found.setdefault(s_idx, {}).setdefault(g_idx, []).append(phrase)
            first.setdefault(s_idx, start)
        strong = weak = sure = False
        numbers: set[str] = set()
        phrases: list[str] = []
        at = -1
        for s_idx, groups in found.items():
            signal = self.signals[s_idx]
            if len(groups) < len(signal.groups):
                continue
            at = first[s_idx] if at < 0 else min(at, first[s_idx])
            sure = sure or signal.sure
            if signal.strong:
                strong = True
            else:
                weak = True
            numbers.update(signal.numbers)
            for g in sorted(groups):
                phrases.extend(p for p in groups[g] if p not in phrases)
        if not (strong or weak):
            return Urgency(False, False, (), (), tuple(dict.fromkeys(cancelled)))
        return Urgency(strong, weak, order_numbers(numbers), tuple(phrases), tuple(dict.fromkeys(cancelled)), at, sure)
