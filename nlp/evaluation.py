"""Detector metrics on labelled TSV files (`pingan eval`).

Files are UTF-8 TSV with a `text`, `label`, `source` header and no quoting.
`label` is a category id, a dataset label mapped below, or `none` for a
negative; any other label (`other`, a report that fits no category, or e.g.
`civic:教育文体`, an unlabelled row) is only counted by what it was flagged as,
and by its urgency when the file says. The source tag is the part of
`source` before the first ':'.
"""
from __future__ import annotations

import csv
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from nlp.detection import CATEGORIES, Detection

NEGATIVE_LABELS = frozenset({"none", "", "0", "negative"})

# Dataset labels that are not our category ids: which predictions count as
# correct, the first one being the category the row's recall is counted in.
LABEL_MAPPING: dict[str, tuple[str, ...]] = {
    "child_safety": ("campus", "security"),
    "other_crime": ("security",),
}


class EvalFileError(ValueError):
    """An evaluation file that cannot be read; str() is one line."""


@dataclass(frozen=True)
class Row:
    text: str
    label: str
    source: str
    # The numbers an urgent reply must name; () not urgent; None: the file does not say.
    urgent: tuple[str, ...] | None = None

    @property
    def tag(self) -> str:
        return self.source.split(":", 1)[0]

    @property
    def accepted(self) -> tuple[str, ...]:
        """Categories that count as a correct prediction ((): a negative or unlabelled row)."""
        if self.label in CATEGORIES:
            return (self.label,)
        return LABEL_MAPPING.get(self.label, ())

    @property
    def negative(self) -> bool:
        return self.label in NEGATIVE_LABELS


@dataclass
class Report:
    """Counts for the printed report; everything is derived from `results`."""

    results: list[tuple[Row, Detection]] = field(default_factory=list)

    def add(self, row: Row, detection: Detection) -> None:
        self.results.append((row, detection))

    def per_category(self) -> dict[str, tuple[int, int, int]]:
        """category → (gold rows, predicted rows, correct predictions)."""
        gold: Counter[str] = Counter()
        predicted: Counter[str] = Counter()
        correct_pred: Counter[str] = Counter()
        for row, det in self.results:
            if row.accepted:
                gold[row.accepted[0]] += 1
            if det.flagged and det.category:
                predicted[det.category] += 1
                if det.category in row.accepted:
                    correct_pred[det.category] += 1
        return {c: (gold[c], predicted[c], correct_pred[c]) for c in CATEGORIES}

    def recall_hits(self) -> Counter[str]:
        """category → gold rows (by first accepted category) predicted correctly."""
        hits: Counter[str] = Counter()
        for row, det in self.results:
            if row.accepted and det.flagged and det.category in row.accepted:
                hits[row.accepted[0]] += 1
        return hits

    def per_label(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(original label, source tag) → (rows, correctly flagged), for positive rows."""
        out: dict[tuple[str, str], list[int]] = {}
        for row, det in self.results:
            if row.accepted:
                counts = out.setdefault((row.label, row.tag), [0, 0])
                counts[0] += 1
                counts[1] += int(det.flagged and det.category in row.accepted)
        return {k: (v[0], v[1]) for k, v in sorted(out.items())}

    def per_source(self, negative: bool) -> dict[str, tuple[int, int]]:
        """source tag → (rows, flagged) for negative (or unlabelled) rows."""
        out: dict[str, list[int]] = {}
        for row, det in self.results:
            if row.accepted or row.negative != negative:
                continue
            counts = out.setdefault(row.tag, [0, 0])
            counts[0] += 1
            counts[1] += int(det.flagged)
        return {k: (v[0], v[1]) for k, v in sorted(out.items())}

    def tiers(self) -> dict[str, tuple[int, int, int, int]]:
        """tier ("flagged", "suspected", "all") → (reports caught in their category,
        reports, negatives flagged, negatives), for labelled rows."""
        out: dict[str, tuple[int, int, int, int]] = {}
        positives = [(r, d) for r, d in self.results if r.accepted]
        negatives = [(r, d) for r, d in self.results if r.negative]
        for tier in ("flagged", "suspected", "all"):
            def counts(d: Detection) -> bool:
                return d.flagged and (tier == "all" or (d.tier or "flagged") == tier)

            caught = sum(1 for r, d in positives if counts(d) and d.category in r.accepted)
            flagged = sum(1 for r, d in negatives if counts(d))
            out[tier] = (caught, len(positives), flagged, len(negatives))
        return out

    def urgency(self) -> dict[str, tuple[int, int]]:
        """Counts over rows whose file says whether they are urgent."""
        urgent = [(r, d) for r, d in self.results if r.urgent]
        calm = [(r, d) for r, d in self.results if r.urgent == () and r.accepted]
        negatives = [(r, d) for r, d in self.results if r.urgent == () and r.negative]
        return {
            "urgent": (sum(1 for _, d in urgent if d.urgent), len(urgent)),
            "all_numbers": (sum(1 for r, d in urgent if d.urgent and set(r.urgent or ()) <= set(d.reply_numbers)), len(urgent)),
            "a_number": (sum(1 for r, d in urgent if d.urgent and set(r.urgent or ()) & set(d.reply_numbers)), len(urgent)),
            "calm_as_urgent": (sum(1 for _, d in calm if d.urgent), len(calm)),
            "negative_as_urgent": (sum(1 for _, d in negatives if d.urgent), len(negatives)),
        }

    def false_positives(self) -> list[tuple[Row, Detection]]:
        return [(r, d) for r, d in self.results if r.negative and d.flagged]

    def false_negatives(self) -> list[tuple[Row, Detection]]:
        """Positive rows not flagged, or flagged with a wrong category."""
        return [(r, d) for r, d in self.results if r.accepted and not (d.flagged and d.category in r.accepted)]


def read_rows(path: Path) -> list[Row]:
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
            missing = {"text", "label", "source"} - set(reader.fieldnames or ())
            if missing:
                raise EvalFileError(f"{path}: 缺少列 {', '.join(sorted(missing))}（表头应为 text\\tlabel\\tsource）")
            has_urgent = "urgent" in (reader.fieldnames or ())
            return [
                Row(r["text"] or "", (r["label"] or "").strip(), r["source"] or "", _numbers(r.get("urgent")) if has_urgent else None)
                for r in reader
            ]
    except OSError as exc:
        raise EvalFileError(f"{path}: 无法读取文件（{exc.strerror or exc}）") from None
    except UnicodeDecodeError:
        raise EvalFileError(f"{path}: 文件不是 UTF-8 编码") from None
    except csv.Error as exc:
        raise EvalFileError(f"{path}: TSV 格式错误：{exc}") from None


def _numbers(value: str | None) -> tuple[str, ...]:
    parts = set((value or "").split("+"))
    return tuple(n for n in ("110", "119", "120") if n in parts)


def evaluate(rows: Iterable[Row], detect: Callable[[str], Detection]) -> Report:
    report = Report()
    for row in rows:
        report.add(row, detect(row.text))
    return report


def _pct(num: int, den: int) -> str:
    return f"{100.0 * num / den:6.2f}%" if den else "     -"


def _clip(text: str, limit: int = 80) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def format_report(
    report: Report,
    *,
    list_errors: bool = True,
    explain: Callable[[str], Detection] | None = None,
) -> str:
    """The report `pingan eval` prints: metrics first, then every error.

    `explain` (Detector.detect_reference) re-reads a missed row to show the
    words found even below the threshold, which the fast path skips.
    """
    lines = ["按类别（精确率 = 判对 / 判为该类；召回率 = 该类样本判对 / 该类样本）"]
    lines.append(f"{'类别':<10}{'名称':<8}{'样本':>6}{'判为':>6}{'判对':>6}{'精确率':>9}{'召回率':>9}")
    hits = report.recall_hits()
    for cat, (gold, predicted, correct) in report.per_category().items():
        if not gold and not predicted:
            continue
        lines.append(
            f"{cat:<10}{CATEGORIES[cat]:<8}{gold:>6}{predicted:>6}{correct:>6}"
            f"{_pct(correct, predicted):>9}{_pct(hits[cat], gold):>9}"
        )
    labels = report.per_label()
    if labels:
        lines.append("")
        lines.append("按原始标签与来源（child_safety 判为 campus 或 security 均算对；other_crime → security）")
        for (label, tag), (n, ok) in labels.items():
            accepted = "/".join(LABEL_MAPPING.get(label, (label,)))
            lines.append(f"{label:<14}{tag:<10}→ {accepted:<18}{n:>6}{ok:>6}{_pct(ok, n):>9}")
    lines.append("")
    lines.append("分层（flagged：词库或紧急信号确认；suspected：仅模型判断，待核实）")
    for tier, (caught, n_pos, flagged, n_neg) in report.tiers().items():
        name = {"flagged": "flagged", "suspected": "suspected", "all": "合计"}[tier]
        lines.append(f"{name:<10} 报告判对类别 {caught:>5}/{n_pos:<5}{_pct(caught, n_pos)}   负样本误报 {flagged:>4}/{n_neg:<5}{_pct(flagged, n_neg)}")
    urgency = report.urgency()
    if urgency["urgent"][1]:
        lines.append("")
        lines.append("紧急（文件标明是否危及生命的样本）")
        labels_u = {
            "urgent": "判为紧急",
            "all_numbers": "回复含全部应拨号码",
            "a_number": "回复至少含一个对的号码",
            "calm_as_urgent": "非紧急报告判为紧急",
            "negative_as_urgent": "负样本判为紧急",
        }
        for key, (k, n) in urgency.items():
            lines.append(f"{labels_u[key]:<14}{k:>6}/{n:<6}{_pct(k, n)}")
    negatives = report.per_source(negative=True)
    if negatives:
        lines.append("")
        lines.append("负样本误报率（按来源）")
        for tag, (n, flagged) in negatives.items():
            lines.append(f"{tag:<14}{n:>6} 条  误报 {flagged:>4}  误报率 {_pct(flagged, n)}")
    unlabelled = report.per_source(negative=False)
    if unlabelled:
        lines.append("")
        lines.append("无类别（other）或无标注样本命中率（按来源）")
        for tag, (n, flagged) in unlabelled.items():
            lines.append(f"{tag:<14}{n:>6} 条  命中 {flagged:>4}  命中率 {_pct(flagged, n)}")
    if list_errors:
        fps = report.false_positives()
        lines.append("")
        lines.append(f"误报（{len(fps)} 条）")
        for row, det in fps:
            lines.append(
                f"[{row.tag}] {det.category}/{det.severity} 关键词：{'、'.join(det.keywords) or '无'}"
                f" 规则：{'、'.join(det.rules)} | {_clip(row.text)}"
            )
        fns = report.false_negatives()
        lines.append("")
        lines.append(f"漏报或判错类别（{len(fns)} 条）")
        for row, det in fns:
            verdict = f"判为 {det.category}" if det.flagged else "未命中"
            if not det.flagged and explain is not None:
                det = explain(row.text)
            lines.append(
                f"[{row.label}] {verdict} 关键词：{'、'.join(det.keywords) or '无'}"
                f" 规则：{'、'.join(det.rules) or '无'} | {_clip(row.text)}"
            )
    return "\n".join(lines)

