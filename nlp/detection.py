"""The detector's verdict on one message: a pure value, no I/O."""
from __future__ import annotations

from dataclasses import dataclass

CATEGORIES: dict[str, str] = {
    "dispute": "矛盾纠纷",
    "campus": "校园安全",
    "traffic": "交通安全",
    "fraud": "防诈骗",
    "drowning": "防溺水",
    "fire": "消防安全",
    "missing": "走失求助",
    "security": "治安防范",
}

SEVERITIES: dict[str, str] = {"urgent": "紧急", "high": "高", "normal": "一般", "low": "低"}
# Severities in order, for "the higher of two" (a case takes its most severe message).
SEVERITY_RANK = {"low": 0, "normal": 1, "high": 2, "urgent": 3}


@dataclass(frozen=True)
class Detection:
    """Why a message was (or was not) flagged.

    `keywords` are the lexicon words that fired (for a suspected report: the
    n-grams that decided the learned model); `rules` name the decisions taken
    (e.g. "negation:没有", "notice:温馨提示", "combo:转账+安全账户",
    "urgent:流血→120") so officers and the dashboard can see why.
    `tier` is "flagged" (the lexicon, or an urgent signal) or "suspected" (the
    learned model alone: the case waits for an officer's 核实).
    `numbers` are the emergency numbers an urgent reply names, in 110/119/120
    order; `emergency_number` is the lexicon's own single choice.
    """

    flagged: bool
    category: str | None = None
    severity: str | None = None
    keywords: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    emergency_number: str | None = None
    score: float = 0.0
    tier: str | None = None
    numbers: tuple[str, ...] = ()

    @property
    def urgent(self) -> bool:
        return self.flagged and self.severity == "urgent"

    @property
    def reply_numbers(self) -> tuple[str, ...]:
        """The emergency numbers a reply names: the whole detector's, or the lexicon's one."""
        return self.numbers or ((self.emergency_number,) if self.emergency_number else ())

    @property
    def suspected(self) -> bool:
        return self.flagged and self.tier == "suspected"


NOT_FLAGGED = Detection(flagged=False)
