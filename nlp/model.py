"""The learned second stage at run time: load the weights, score a message.

`pingan train` (nlp/train.py) fits linear models on character n-grams and
writes them here as one file; the bot needs only this module and numpy to use
them, so scikit-learn stays a training-time extra.

Heads, all linear over the same n-gram counts of one window of text:
- `report`: is this a report at all (logistic), and `urgent`: is a life at
  risk (logistic); asked of every chat line that passes the gate;
- the 8 categories (softmax), the numbers 110/119/120 (one logistic
  each) and `register` (pasted, scripted or official text rather than chat,
  logistic): only for windows the report head or the lexicon picked.
The weight sums come from nlp/_ngram.c, compiled at install; without it, from
an automaton (nlp/gram_index.py) and numpy, the reference it is tested against.

File format (little-endian, written by `write_model`, byte-identical for the
same weights): b"PINGANM1", a uint32 length and a UTF-8 JSON header (heads,
thresholds, what it was trained on), a uint32 length and the vocabulary joined
by newlines, then the weights (vocabulary × heads) as float16 when the header's
`weights` says "f2" (float32 otherwise) and float32 biases (heads).
"""
from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from itertools import accumulate, repeat
from operator import add
from pathlib import Path

import ahocorasick_rs

from nlp.features import grams, prepare, windows
from nlp.gram_index import GramIndex

try:  # compiled by `pip install` (nlp/_ngram.c); without it the same sums come from Python
    from nlp import _ngram
except ImportError:  # pragma: no cover - a source tree that was never built
    _ngram = None

MAGIC = b"PINGANM1"
DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "data" / "model.bin"
CATEGORY_IDS = ("dispute", "campus", "traffic", "fraud", "drowning", "fire", "missing", "security")
NUMBERS = ("110", "119", "120")
HEADS = ("report", *(f"category:{c}" for c in CATEGORY_IDS), "urgent", *(f"number:{n}" for n in NUMBERS), "register")
# Long messages: the full heads run on at most this many of the windows the
# report head ranks highest, so the cost of a message stays bounded.
MAX_SCORED_WINDOWS = 2
EXACT_WINDOWS = 500  # 40,000 characters: twice what the transport lets through
# The gate's n-grams: the strongest positive weights of the report head, and
# as many of the urgency head's. With the corpus of b01-b75, 5,000 report
# n-grams no longer covered the training windows of interest (0.2% of them had
# none, so the calibrated cutoff fell to 0 and every window was scored: 4.3-4.7x
# rather than 5.1-5.2x jieba on the bench); at 10,000 the cutoff is above 1.
# 10,000 covered too little of the 292,680 n-grams of b01-b151: "3楼有烟冒出来"
# (report 0.91) had none of them, so the urgency cutoff fell to 0.62 to let it
# through and the gate spared 60% of the held-out real chat; at 20,000, 77%
# (64% for b01-b163; 40,000 spared 60%: more of each chat line's n-grams count).
# With b01-b175 (325,797 n-grams) and the solver stopped early (train.py
# `solver_tol`) 20,000 fell short: over 0.1% of the report windows had none,
# the cutoff fell to 0 and no chat line was spared. Converged, the model of
# b01-b181 gets 1.11 and 1.605 with 20,000 and spares 71% of the held-out chat;
# 30,000 spared 77% (1.015 and 27) yet ran 7% slower on the bench, for the
# bigger automaton every message goes through.
GATE_GRAMS = 20000
# How the weights are stored (the header's `weights`): float16 halves the file
# (b01-b151: 19.0 MB as float32, over issue 10's 20 MB with one more round),
# and `pingan train` rounds them before it calibrates anything on them.
WEIGHT_TYPES = {"f4": "<f4", "f2": "<f2"}
_URGENT = HEADS.index("urgent")
_NUMBERS = HEADS.index(f"number:{NUMBERS[0]}")
_REGISTER = HEADS.index("register")
_REPORT = (0,)
_REPORT_URGENT = (0, _URGENT)


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
    window: tuple[int, int]  # where in the prepared text
    text: str  # the window's prepared text (to explain the verdict)
    register: float = 0.0  # probability that the window is pasted, scripted or official text, not chat

    def numbers(self, threshold: float = 0.5) -> tuple[str, ...]:
        """The emergency numbers whose head reaches `threshold`, in NUMBERS order."""
        return tuple(n for n, prob in zip(NUMBERS, self.number_probs) if prob >= threshold)


def _log_odds(p: float) -> float:
    if p <= 0.0 or p >= 1.0:
        return -math.inf if p <= 0.0 else math.inf
    return math.log(p / (1 - p))


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x)) if x > -60 else 0.0


class TextModel:
    """Linear heads over character n-gram features; build it with `TextModel.load`.

    Loading only checks the file: the vocabulary, the weights (and numpy) are
    unpacked on the first message that needs them, as the lexicon's marker
    automaton is, so the bot starts as fast as bare jieba.
    """

    def __init__(self, vocabulary: list[str] | None, weights, biases, header: dict, unpack=None) -> None:
        self.header = header
        self.thresholds: dict[str, float] = dict(header.get("thresholds", {}))
        # Score with nlp/_ngram.c when it was built; False (before the first
        # message) scores with nlp/gram_index.py, the reference it is tested against.
        self.compiled = _ngram is not None
        self._vocabulary = vocabulary
        self._weights = weights
        self._biases = biases
        self._unpack = unpack  # () -> (vocabulary, weights, biases), for a loaded file
        self._built = False
        self.report_threshold = float(self.thresholds.get("report", 0.5))
        # Below the lowest probability any decision uses (nlp.classifier.Policy),
        # an unforced window is of no interest: as a raw score, to skip the sigmoid.
        lowest = min([self.report_threshold] + [float(self.thresholds[k]) for k in ("urgent_report", "weak_signal", "unsure_report") if k in self.thresholds])
        self._plain_logit = _log_odds(lowest)
        # An urgency head of at least `alarmed` asks only `alarmed_report` of the
        # report head (Policy.report_floor): below `lowest` only such windows count.
        alarmed = float(self.thresholds.get("alarmed", 1.01))
        self._alarmed_logit = _log_odds(alarmed)  # inf when the rule is off (alarmed > 1)
        floor = float(self.thresholds.get("alarmed_report", lowest)) if alarmed < 1 else lowest
        self._report_logit = _log_odds(min(lowest, floor))
        self._suspect_logit = _log_odds(self.report_threshold)
        urgent = float(self.thresholds.get("urgent", 0.5))
        self._urgent_logit = _log_odds(urgent)
        # Below unsure_report the urgency head must reach urgent_sure too (Policy).
        self._unsure_logit = _log_odds(float(self.thresholds.get("unsure_report", 0.0)))
        self._faint_logit = _log_odds(max(urgent, float(self.thresholds.get("urgent_sure", 0.0))))
        # The gate: the report weights of the GATE_GRAMS strongest positive
        # n-grams found in a text, summed; the same for the urgency head. Below
        # both `gate` and `urgent_gate` the text cannot be of interest
        # (calibrated by `pingan train`; -inf: every text is scored). The urgency
        # gate is there because a report-only gate skipped messages whose report
        # score is middling while the urgency head hears a life at risk ("打了119了
        # 邻居拿灭火器上楼了 爷爷还没出来": report gate 0.56 of 1.27, urgent 0.93).
        self._gate = float(header.get("gate", -math.inf))
        self._urgent_gate = float(header.get("urgent_gate", -math.inf))

    def _build(self) -> None:
        if self._unpack is not None:
            self._vocabulary, self._weights, self._biases = self._unpack()
            self._unpack = None
        import numpy as np

        vocabulary, weights = self._vocabulary, self._weights
        assert vocabulary is not None
        self._index = dict(zip(vocabulary, range(len(vocabulary))))
        self._bias_list = [float(b) for b in self._biases]
        self._scorer = (
            _ngram.Scorer(vocabulary, np.ascontiguousarray(weights, dtype=np.float32), len(HEADS))
            if self.compiled and _ngram is not None
            else None
        )
        # Only the Python scorer needs the automaton (a tenth of a second to build)
        # and the urgency head as a list indexed by row.
        python = self._scorer is None
        self._grams = GramIndex(self._index) if python else None
        self._urgent_column = weights[:, _URGENT].tolist() if python else []
        self._report_column = report = weights[:, 0].tolist()
        self._report = dict(zip(vocabulary, report))  # for the gate and huge texts' estimates
        self._urgent_bias = self._bias_list[_URGENT]
        self._report_bias = self._bias_list[0]
        strongest = sorted((g for g, w in zip(vocabulary, report) if w > 0 and len(g) > 1), key=lambda g: (-self._report[g], g))[:GATE_GRAMS]
        urgent = dict(zip(vocabulary, weights[:, _URGENT].tolist()))
        alarming = sorted((g for g, w in urgent.items() if w > 0 and len(g) > 1), key=lambda g: (-urgent[g], g))[:GATE_GRAMS]
        in_report, in_urgent = set(strongest), set(alarming)
        self._gate_grams = strongest + [g for g in alarming if g not in in_report]
        self._gate_weights = [self._report[g] if g in in_report else 0.0 for g in self._gate_grams]
        self._urgent_gate_weights = [urgent[g] if g in in_urgent else 0.0 for g in self._gate_grams]
        self._find_gate = ahocorasick_rs.AhoCorasick(self._gate_grams).find_matches_as_indexes if self._gate_grams else None
        self._built = True

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
        vocab_at, vocab_size = pos + 4, size
        pos += 4 + size
        heads = header["heads"]
        if list(heads) != list(HEADS):
            raise ValueError("模型的输出与本程序不符，请重新运行 pingan train")
        entries = data.count(b"\n", vocab_at, vocab_at + vocab_size) + 1
        count = entries * len(heads)
        dtype = WEIGHT_TYPES[header.get("weights", "f4")]
        size = int(dtype[-1])
        if pos + count * size + len(heads) * 4 != len(data):
            raise ValueError("长度不符")

        def unpack():
            import numpy as np

            vocabulary = data[vocab_at : vocab_at + vocab_size].decode("utf-8").split("\n")
            weights = np.frombuffer(data, dtype=dtype, count=count, offset=pos).reshape(entries, len(heads))
            biases = np.frombuffer(data, dtype="<f4", count=len(heads), offset=pos + count * size)
            # Scored as float32 in an aligned copy: read in place at the odd
            # offset where the vocabulary ends, every take() of the full heads
            # goes through numpy's unaligned path (measured: the whole detector
            # 80% slower).
            return vocabulary, np.require(weights.astype(np.float32), requirements="A"), np.require(biases, requirements="A")

        return cls(None, None, None, header, unpack)

    # --- scoring ------------------------------------------------------------------
    # Features are the distinct in-vocabulary n-grams of a window, each worth
    # 1/sqrt(their number) (binary, unit length): a long window does not add up
    # to a report, and out-of-vocabulary n-grams (typos, names) dilute nothing.

    def report_logit(self, prepared: str) -> float:
        """Raw report score of one short prepared text (the whole of it)."""
        if not self._built:
            self._build()
        if self._scorer is not None:
            n, report = self._scorer.sums(prepared, _REPORT)
            return self._report_bias + report / (math.sqrt(n) or 1.0)
        return self._logit(self._grams.rows(prepared), self._report_column, self._report_bias)

    @staticmethod
    def _logit(rows: set[int], head: list[float], bias: float) -> float:
        """One head's raw score over the rows of the known n-grams present."""
        if not rows:
            return bias
        return bias + sum(map(head.__getitem__, rows)) / math.sqrt(len(rows))

    def gate_score(self, prepared: str) -> float:
        """The summed report weights of the strongest positive n-grams present
        (per square root of the text's length):
        one pass of a compiled automaton, a microsecond for a chat line. Most
        chat has almost none of them, and is then no report for certain."""
        return self.gate_scores(prepared)[0]

    def gate_scores(self, prepared: str) -> tuple[float, float]:
        """`gate_score` and the same sum for the urgency head, from one pass."""
        if not self._built:
            self._build()
        if self._find_gate is None:
            return math.inf, math.inf
        found = {i for i, _, _ in self._find_gate(prepared, overlapping=True)}
        # Per square root of length, as the exact score is: a long window does
        # not pass the gate merely by being long.
        root = math.sqrt(len(prepared) or 1)
        report, urgent = self._gate_weights, self._urgent_gate_weights
        return sum([report[i] for i in found]) / root, sum([urgent[i] for i in found]) / root

    def gate(self) -> tuple[list[str], list[float], float, list[float], float]:
        """The gate's n-grams, their report weights and cutoff, their urgency
        weights and cutoff, for a caller that finds them with an automaton of
        its own (nlp/quick_check.py): a window is of interest only if its
        distinct gate n-grams' weights of one head or the other, per square
        root of its length, reach that head's cutoff."""
        if not self._built:
            self._build()
        if self._find_gate is None:
            return [], [], -math.inf, [], -math.inf
        return list(self._gate_grams), list(self._gate_weights), self._gate, list(self._urgent_gate_weights), self._urgent_gate

    def _interesting(self, piece: str) -> float | None:
        """The exact report score of `piece`, or None when nothing the bot does
        could follow from it: below every report threshold, or a middling report
        score whose urgency head is below the urgent threshold too. Both heads
        are plain list lookups here; numpy only runs for what may be flagged."""
        report, urgent = self.gate_scores(piece)
        if report < self._gate and urgent < self._urgent_gate:
            return None
        return self.past_gate(piece)

    def past_gate(self, piece: str) -> float | None:
        """`_interesting` for a piece already known to pass the gate."""
        if not self._built:
            self._build()
        if self._scorer is not None:
            n, report, urgent = self._scorer.sums(piece, _REPORT_URGENT)
            root = math.sqrt(n) or 1.0  # no known n-gram: both sums are 0, the scores the biases
            logit = self._report_bias + report / root
            if logit < self._report_logit:
                return None
            urgent_logit = self._urgent_bias + urgent / root
        else:
            rows = self._grams.rows(piece)
            logit = self._logit(rows, self._report_column, self._report_bias)
            if logit < self._report_logit:
                return None
            urgent_logit = self._logit(rows, self._urgent_column, self._urgent_bias) if logit < self._suspect_logit else math.inf
        if logit < self._suspect_logit:
            if logit < self._plain_logit:
                bar = self._alarmed_logit
            else:
                bar = self._faint_logit if logit < self._unsure_logit else self._urgent_logit
            if urgent_logit < bar:
                return None
        return logit

    def score(self, text: str, prepared: bool = False, force: bool = False) -> ModelVerdict | None:
        """The verdict on `text`, or None when no window looks like a report.

        `force` scores the best window even when it is below the report
        threshold (the lexicon flagged the message and wants a second opinion
        on whether it is a report at all, and on its urgency).
        """
        text = text if prepared else prepare(text)
        if not text:
            return None
        if not self._built:
            self._build()
        spans = windows(len(text))
        if len(spans) == 1:
            if not force and self._interesting(text) is None:
                return None
            return self._full(text, (0, len(text)))
        if force and len(spans) <= EXACT_WINDOWS:
            verdict = self._forced_few(text, spans)
            if verdict is not None:
                return verdict
        # Rank the windows cheaply, then score the best few exactly. A window
        # whose text was already ranked (pasted or repeated text) counts once.
        seen: set[str] = set()
        distinct = []
        # Up to EXACT_WINDOWS windows (every message the transport lets through)
        # are ranked by their exact report score; beyond, by an estimate.
        exact = len(spans) <= EXACT_WINDOWS
        estimates = repeat(0.0) if exact else self._window_logits(text, spans)
        for estimate, span in zip(estimates, spans):
            piece = text[span[0] : span[1]]
            if piece not in seen:
                seen.add(piece)
                if not exact:
                    distinct.append((estimate, span))
                elif force:
                    # Forced (the lexicon or an urgency signal already spoke): the
                    # cheap gate score ranks the windows, the best two are scored exactly.
                    distinct.append((self.gate_score(piece), span))
                else:
                    logit = self._interesting(piece)
                    if logit is not None:
                        distinct.append((logit, span))
        if not distinct:
            return None
        ranked = sorted(distinct, key=lambda p: (-p[0], p[1]))
        best: ModelVerdict | None = None
        for _, span in ranked[:MAX_SCORED_WINDOWS]:
            verdict = self._full(text[span[0] : span[1]], span)
            # Among the windows that read as reports, one that sounds urgent
            # outranks a louder ordinary one; otherwise the most report-like wins.
            if best is None or self._rank(verdict) > self._rank(best):
                best = verdict
        if best is None:
            return None
        return best

    def _forced_few(self, text: str, spans: list[tuple[int, int]]) -> ModelVerdict | None:
        """`score(text, force=True)` for a text of at most MAX_SCORED_WINDOWS
        distinct windows (a message of up to 240 characters), or None when it
        has more of them or their verdicts tie.

        Every window is then scored exactly anyway, so ranking them by the gate
        score first (a pass of the gate's automaton per window) decides
        nothing, unless two verdicts rank equal: then the gate order picks
        the first, and the caller's general path runs."""
        pieces: dict[str, tuple[int, int]] = {}
        for start, end in spans:
            pieces.setdefault(text[start:end], (start, end))
            if len(pieces) > MAX_SCORED_WINDOWS:
                return None
        verdicts = [self._full(piece, span) for piece, span in pieces.items()]
        ranks = [self._rank(v) for v in verdicts]
        if len(set(ranks)) < len(ranks):
            return None
        return verdicts[ranks.index(max(ranks))]

    def _rank(self, verdict: ModelVerdict) -> tuple[bool, float, float]:
        report = verdict.report >= self.report_threshold
        return (report, verdict.urgent if report else 0.0, verdict.report)

    def _window_logits(self, text: str, spans: list[tuple[int, int]]) -> list[float]:
        """Estimated report scores of many windows, from prefix sums over the
        bigram at each position (its weight, and whether it is known): for
        ranking the windows of a huge text only."""
        values = list(map(self._report.get, map(add, text, text[1:])))
        weight = [0.0, *accumulate(0.0 if v is None else v for v in values)]
        known = [0, *accumulate(v is not None for v in values)]
        last = len(values)
        out = []
        for s, e in spans:
            e = min(e, last)
            n = known[e] - known[s]
            out.append((weight[e] - weight[s]) / math.sqrt(n) if n else 0.0)
        return out

    def _full(self, window: str, span: tuple[int, int]) -> ModelVerdict:
        if self._scorer is not None:
            n, *sums = self._scorer.sums(window)
            root = math.sqrt(n) or 1.0
            heads = [bias + total / root for bias, total in zip(self._bias_list, sums)]
        else:
            heads = self._reference_heads(window)
        cats = heads[1:9]
        top = max(cats)
        exps = [math.exp(c - top) for c in cats]
        best = cats.index(top)
        return ModelVerdict(
            report=_sigmoid(heads[0]),
            category=CATEGORY_IDS[best],
            category_prob=exps[best] / sum(exps),
            urgent=_sigmoid(heads[_URGENT]),
            number_probs=tuple(_sigmoid(heads[_NUMBERS + j]) for j in range(len(NUMBERS))),
            window=span,
            text=window,
            register=_sigmoid(heads[_REGISTER]),
        )

    def _reference_heads(self, window: str) -> list[float]:
        """Every head's raw score of `window` without the compiled scorer."""
        import numpy as np

        rows = self._grams.rows(window)
        if not rows:
            return list(self._bias_list)
        # The rows summed in float64; fromiter + take skip building a list and an index array.
        taken = self._weights.take(np.fromiter(rows, dtype=np.intp, count=len(rows)), axis=0)
        return (taken.sum(axis=0, dtype=np.float64) / math.sqrt(len(rows)) + self._biases).tolist()

    def explain(self, verdict: ModelVerdict) -> tuple[str, ...]:
        """Up to five n-grams of two or more characters that raised the verdict's
        category (and the report head) most, none inside another one chosen.

        Asked only for what an officer will see (a suspected report), not on
        every scored window."""
        column = 1 + CATEGORY_IDS.index(verdict.category)
        if not self._built:
            self._build()
        index = self._index
        candidates = {}
        for g in set(grams(verdict.text)):
            i = index.get(g)
            if i is not None and len(g) > 1 and g.isalnum():  # no punctuation in what officers read
                candidates[g] = float(self._weights[i, column]) + float(self._weights[i, 0])
        chosen: list[str] = []
        for g, w in sorted(candidates.items(), key=lambda p: (-p[1], -len(p[0]), p[0])):
            if w <= 0 or len(chosen) == 5:
                break
            if not any(g in c or c in g for c in chosen):
                chosen.append(g)
        return tuple(chosen)


def write_model(path: Path, vocabulary: list[str], weights, biases, header: dict) -> None:
    """Write a model file; the same arguments always give the same bytes."""
    import numpy as np

    header = {**header, "heads": list(HEADS)}
    head = json.dumps(header, ensure_ascii=False, sort_keys=True).encode("utf-8")
    vocab = "\n".join(vocabulary).encode("utf-8")
    body = [
        MAGIC,
        struct.pack("<I", len(head)),
        head,
        struct.pack("<I", len(vocab)),
        vocab,
        np.ascontiguousarray(weights, dtype=WEIGHT_TYPES[header.get("weights", "f4")]).tobytes(),
        np.ascontiguousarray(biases, dtype="<f4").tobytes(),
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(b"".join(body))
    tmp.replace(path)
