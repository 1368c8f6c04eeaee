"""The detector's verdict on one message: a pure value, no I/O."""
from __future__ import annotations

from dataclasses import dataclass, field

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


@dataclass(frozen=True)
class Detection:
    """Why a message was (or was not) flagged.

    `keywords` are the lexicon words that fired; `rules` name the decisions taken
    (e.g. "negation:没有", "notice:温馨提示", "combo:转账+安全账户") so officers and the
    dashboard can see why. `emergency_number` is "110", "119" or "120" for urgent ones.
    """

    flagged: bool
    category: str | None = None
    severity: str | None = None
    keywords: tuple[str, ...] = ()
    rules: tuple[str, ...] = ()
    emergency_number: str | None = None
    score: float = 0.0

    @property
    def urgent(self) -> bool:
        return self.flagged and self.severity == "urgent"


NOT_FLAGGED = Detection(flagged=False)
