"""The learned second stage at run time: load the weights, score a message.

`pingan train` (nlp/train.py) fits linear models on character n-grams and
writes them here as one file; the bot needs only this module and numpy to use
them, so scikit-learn stays a training-time extra.

Heads, all linear over the same n-gram counts of one window of text:
- `report`: is this a report at all (logistic); it runs on every chat line,
  so it is scored from a plain dict, the cheapest lookup Python has;
- the 8 categories (softmax), `urgent` (logistic) and the numbers 110/119/120
  (one logistic each): only for windows the report head or the lexicon
  picked, from a numpy matrix.

File format (little-endian, written by `write_model`, byte-identical for the
same weights): b"PINGANM1", a uint32 length and a UTF-8 JSON header (heads,
thresholds, what it was trained on), a uint32 length and the vocabulary joined
by newlines, then float32 weights (vocabulary × heads) and biases (heads).
"""
from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from itertools import accumulate, repeat
from operator import add
from pathlib import Path

import numpy as np

from nlp.features import grams, prepare, windows

MAGIC = b"PINGANM1"
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "data" / "model.bin"
CATEGORY_IDS = ("dispute", "campus", "traffic", "fraud", "drowning", "fire", "missing", "security")
NUMBERS = ("110", "119", "120")
HEADS = ("report", *(f"category:{c}" for c in CATEGORY_IDS), "urgent", *(f"number:{n}" for n in NUMBERS))
# Long messages: the full heads run on at most this many of the windows the
# report head ranks highest, so the cost of a message stays bounded.
MAX_SCORED_WINDOWS = 4


class ModelError(ValueError):
    """A model file that cannot be used; str() is one line."""


@dataclass(frozen=True)
class ModelVerdict:
    """What the learned stage thinks of one message (its best window)."""

    report: float  # probability that the window reports something
    category: str
    category_prob: float
    urgent: float  # probability that a life is at risk now
    number_probs: tuple[float, ...]  # for NUMBERS, each head's probability that the reply needs it
    features: tuple[str, ...]  # the n-grams that pushed hardest towards `category`
    window: tuple[int, int]  # where in the prepared text

    def numbers(self, threshold: float = 0.5) -> tuple[str, ...]:
        """The emergency numbers whose head reaches `threshold`, in NUMBERS order."""
        return tuple(n for n, prob in zip(NUMBERS, self.number_probs) if prob >= threshold)


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -60 else 0.0


class TextModel:
    """Linear heads over character n-gram counts; build it with `TextModel.load`."""

    def __init__(self, vocabulary: list[str], weights: np.ndarray, biases: np.ndarray, header: dict) -> None:
        self.header = header
        self.thresholds: dict[str, float] = dict(header.get("thresholds", {}))
        self._index = dict(zip(vocabulary, range(len(vocabulary))))
        self._weights = weights
        self._biases = biases
        # The report head as a plain dict: it runs on every message.
        self._report = dict(zip(vocabulary, weights[:, 0].tolist()))
        self._report_bias = float(biases[0])
        self.report_threshold = float(self.thresholds.get("report", 0.5))
        # The report head's threshold as a raw score, to skip the sigmoid on the hot path.
        self._report_logit = math.log(self.report_threshold / (1 - self.report_threshold))

    @classmethod
    def load(cls, path: Path | None = None) -> TextModel:
        path = path or DEFAULT_MODEL_PATH
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ModelError(f"{path}: 无法读取模型文件（{exc.strerror or exc}）") from None
        try:
            return cls._parse(data)
        except (ValueError, KeyError, struct.error, UnicodeDecodeError) as exc:
            raise ModelError(f"{path}: 模型文件已损坏（{exc}）") from None

    @classmethod
    def _parse(cls, data: bytes) -> TextModel:
        if not data.startswith(MAGIC):
            raise ValueError("文件头不对")
        pos = len(MAGIC)
        (size,) = struct.unpack_from("<I", data, pos)
        header = json.loads(data[pos + 4 : pos + 4 + size].decode("utf-8"))
        pos += 4 + size
        (size,) = struct.unpack_from("<I", data, pos)
        vocabulary = data[pos + 4 : pos + 4 + size].decode("utf-8").split("\n")
        pos += 4 + size
        heads = header["heads"]
        if list(heads) != list(HEADS):
            raise ValueError("模型的输出与本程序不符，请重新运行 pingan train")
        count = len(vocabulary) * len(heads)
        weights = np.frombuffer(data, dtype="<f4", count=count, offset=pos).reshape(len(vocabulary), len(heads))
        biases = np.frombuffer(data, dtype="<f4", count=len(heads), offset=pos + count * 4)
        if pos + (count + len(heads)) * 4 != len(data):
            raise ValueError("长度不符")
        return cls(vocabulary, weights, biases, header)

    # --- scoring ------------------------------------------------------------------
    # Features are the distinct in-vocabulary n-grams of a window, each worth
    # 1/sqrt(their number) (binary, unit length): a long window does not add up
    # to a report, and out-of-vocabulary n-grams (typos, names) dilute nothing.

    def report_logit(self, prepared: str) -> float:
        """Raw report score of one short prepared text (the whole of it)."""
        bigrams = list(map(add, prepared, prepared[1:]))
        present = {*prepared, *bigrams, *map(add, bigrams, prepared[2:])}
        weights = [w for w in map(self._report.get, present) if w is not None]
        if not weights:
            return self._report_bias
        return self._report_bias + sum(weights) / math.sqrt(len(weights))

    def score(self, text: str, prepared: bool = False, force: bool = False) -> ModelVerdict | None:
        """The verdict on `text`, or None when no window looks like a report.

        `force` scores the best window even when it is below the report
        threshold (the lexicon flagged the message and wants a second opinion
        on whether it is a report at all, and on its urgency).
        """
        text = text if prepared else prepare(text)
        if not text:
            return None
        spans = windows(len(text))
        if len(spans) == 1:
            if not force and self.report_logit(text) < self._report_logit:
                return None
            return self._full(text, (0, len(text)))
        # Rank the windows cheaply, then score the best few exactly.
        ranked = sorted(zip(self._window_logits(text, spans), spans), key=lambda p: (-p[0], p[1]))
        best: ModelVerdict | None = None
        for _, span in ranked[:MAX_SCORED_WINDOWS]:
            verdict = self._full(text[span[0] : span[1]], span)
            # A window that sounds urgent outranks a louder ordinary one.
            if best is None or (verdict.urgent, verdict.report) > (best.urgent, best.report):
                best = verdict
        if best is None or (not force and best.report < self.report_threshold):
            return None
        return best

    def _window_logits(self, text: str, spans: list[tuple[int, int]]) -> list[float]:
        """Approximate report logits of many windows, from prefix sums of
        per-position weights (repeats counted): for ranking them only."""
        get = self._report.get
        zeros = repeat(0.0)
        bigrams = list(map(add, text, text[1:]))
        uni = list(map(get, text, zeros))
        bi = [*map(get, bigrams, zeros), 0.0]
        tri = [*map(get, map(add, bigrams, text[2:]), zeros), 0.0, 0.0]
        prefix = [0.0, *accumulate(map(add, map(add, uni, bi), tri))]
        return [(prefix[e] - prefix[s]) / math.sqrt(3 * (e - s)) for s, e in spans]

    def _full(self, window: str, span: tuple[int, int]) -> ModelVerdict:
        index = self._index
        rows = sorted({i for i in map(index.get, grams(window)) if i is not None})
        if rows:
            picked = self._weights[rows]
            totals = picked.sum(axis=0, dtype=np.float64) / math.sqrt(len(rows)) + self._biases
        else:
            picked = np.zeros((0, len(HEADS)), dtype=np.float32)
            totals = self._biases.astype(np.float64)
        cats = totals[1:9]
        probs = np.exp(cats - cats.max())
        probs /= probs.sum()
        best = int(probs.argmax())
        return ModelVerdict(
            report=_sigmoid(float(totals[0])),
            category=CATEGORY_IDS[best],
            category_prob=float(probs[best]),
            urgent=_sigmoid(float(totals[9])),
            number_probs=tuple(_sigmoid(float(totals[10 + j])) for j in range(len(NUMBERS))),
            features=self._explain(window, rows, picked, 1 + best),
            window=span,
        )

    def _explain(self, window: str, rows: list[int], picked: np.ndarray, column: int) -> tuple[str, ...]:
        """Up to five n-grams of two or more characters that raised `column`
        (and the report head) most, none inside another one chosen."""
        if not rows:
            return ()
        weight = dict(zip(rows, (picked[:, column] + picked[:, 0]).tolist()))
        candidates = {g: weight[self._index[g]] for g in set(grams(window)) if len(g) > 1 and g in self._index}
        chosen: list[str] = []
        for g, w in sorted(candidates.items(), key=lambda p: (-p[1], -len(p[0]), p[0])):
            if w <= 0 or len(chosen) == 5:
                break
            if not any(g in c or c in g for c in chosen):
                chosen.append(g)
        return tuple(chosen)


def write_model(path: Path, vocabulary: list[str], weights: np.ndarray, biases: np.ndarray, header: dict) -> None:
    """Write a model file; the same arguments always give the same bytes."""
    header = {**header, "heads": list(HEADS)}
    head = json.dumps(header, ensure_ascii=False, sort_keys=True).encode("utf-8")
    vocab = "\n".join(vocabulary).encode("utf-8")
    body = [
        MAGIC,
        struct.pack("<I", len(head)),
        head,
        struct.pack("<I", len(vocab)),
        vocab,
        np.ascontiguousarray(weights, dtype="<f4").tobytes(),
        np.ascontiguousarray(biases, dtype="<f4").tobytes(),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(b"".join(body))
    tmp.replace(path)
