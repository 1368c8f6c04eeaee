"""The labelled messages the learned stage is trained on (`nlp/data/corpus/`).

Every file is one batch and keeps its origin: the file name is the batch id,
and each row's `source` says who wrote it and in what style. Files are TSV
with the header `text	label	source` and an optional fourth column `urgent`
(empty: no life at risk; otherwise the emergency numbers the reply must name,
"110+120"). A file without the column says nothing about urgency, and its
reports are left out of the urgency heads rather than counted as not urgent.

`label` is a category id, `none` for a negative, or `other`
(`NO_CATEGORY`) for a report none of the eight categories fits: someone
collapsed at home, a child choking, pills swallowed. Such a row teaches the
report and urgency heads and is left out of the category head, which would
otherwise learn that a stroke is 治安防范 from whatever placeholder a writer
chose.

The real chat file (LCCC, MIT licence) is ordinary chatter; the rows whose
md5 of `text` starts with "f" are held out of all training and tuning and
give the false-alarm rate on real chat (`HELD_OUT_PREFIX`).

Officers' feedback joins as two more batches when a database is given:
texts marked 误报 (negatives) and texts entered with 补录 (missed reports).
"""
from __future__ import annotations

import csv
import hashlib
from dataclasses import dataclass
from pathlib import Path

from nlp.detection import CATEGORIES

CORPUS_DIR = Path(__file__).resolve().parent / "data" / "corpus"
REAL_CHAT_BATCH = "lccc_chat"  # the batch id (file name) of the real chat
HELD_OUT_PREFIX = "f"
NUMBER_ORDER = ("110", "119", "120")
NO_CATEGORY = "other"
# The register of a row, from the words of its `source` ("b27:official-gridworker",
# "notice:batch-2026-11"): a source with one of these words is pasted, scripted
# or official text (a notice, a scam SMS or call script, a court report, a
# letter); any other is a resident's own chat. A source that also says "chat"
# (publicity-chat) is chat.
FORMAL_STYLE_WORDS = frozenset(
    {"official", "court", "publicity", "pufa", "summary", "gov", "minutes", "notice", "letter", "paste", "pasted",
     "transcript", "forwarded", "ad", "promo", "warning", "roster", "formal", "sms", "article", "announcement", "flyer", "bulletin"}
)


class CorpusError(ValueError):
    """A corpus file that cannot be read; str() is one line."""


@dataclass(frozen=True)
class Example:
    text: str
    label: str  # a category id, "none" or NO_CATEGORY
    batch: str
    source: str
    # None: the batch did not say; () not urgent; else the numbers the reply must name.
    urgent: tuple[str, ...] | None

    @property
    def positive(self) -> bool:
        return self.label != "none"

    @property
    def formal(self) -> bool:
        """Pasted, scripted or official wording rather than chat (FORMAL_STYLE_WORDS)."""
        words = set(self.source.replace(":", "-").split("-"))
        return bool(words & FORMAL_STYLE_WORDS) and "chat" not in words


def held_out(text: str) -> bool:
    """True for the fixed part of the real chat kept out of all training."""
    return hashlib.md5(text.encode("utf-8")).hexdigest().startswith(HELD_OUT_PREFIX)


def read_batch(path: Path) -> list[Example]:
    batch = path.stem
    try:
        with path.open(encoding="utf-8", newline="") as f:
            reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
            header = next(reader, None)
            if header is None or header[:3] != ["text", "label", "source"]:
                raise CorpusError(f"{path}: 表头应为 text/label/source[/urgent]")
            has_urgent = len(header) > 3 and header[3] == "urgent"
            rows: list[Example] = []
            for line_no, fields in enumerate(reader, 2):
                if not fields:
                    continue
                if len(fields) < 3:
                    raise CorpusError(f"{path}:{line_no}: 应有至少3列，实有{len(fields)}列")
                text, label, source = fields[0], fields[1], fields[2]
                if label not in ("none", NO_CATEGORY) and label not in CATEGORIES:
                    raise CorpusError(f"{path}:{line_no}: 未知类别 {label!r}")
                urgent: tuple[str, ...] | None = None
                if has_urgent:
                    value = fields[3] if len(fields) > 3 else ""
                    numbers = tuple(n for n in NUMBER_ORDER if n in value.split("+")) if value else ()
                    if value and (not numbers or label == "none"):
                        raise CorpusError(f"{path}:{line_no}: urgent 列应为空或 110/119/120 的组合，且只用于报告")
                    urgent = numbers
                elif label == "none":
                    urgent = ()  # a negative is never urgent
                rows.append(Example(text, label, batch, source, urgent))
            return rows
    except OSError as exc:
        raise CorpusError(f"{path}: 无法读取（{exc.strerror or exc}）") from None
    except UnicodeDecodeError:
        raise CorpusError(f"{path}: 不是 UTF-8 文本") from None


def load_corpus(directory: Path = CORPUS_DIR) -> list[Example]:
    """Every batch, in file-name order (so training is deterministic)."""
    files = sorted(directory.glob("*.tsv"))
    if not files:
        raise CorpusError(f"{directory}: 没有训练数据（*.tsv）")
    return [row for path in files for row in read_batch(path)]


def training_rows(rows: list[Example]) -> list[Example]:
    """All rows but the held-out part of the real chat."""
    return [r for r in rows if not (r.batch == REAL_CHAT_BATCH and held_out(r.text))]


def held_out_chat(rows: list[Example]) -> list[Example]:
    return [r for r in rows if r.batch == REAL_CHAT_BATCH and held_out(r.text)]


def feedback_examples(db_path: Path) -> list[Example]:
    """Officers' verdicts from a bot database: 补录 texts as reports of their
    case's category, 误报 texts as negatives. Read-only; the bot may be running."""
    import sqlite3

    if not db_path.is_file():
        raise CorpusError(f"{db_path}: 数据库文件不存在")
    try:
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            tables = {r[0] for r in conn.execute("select name from sqlite_master where type = 'table'")}
            if "detector_feedback" not in tables:
                return []
            rows = conn.execute("select kind, category, text from detector_feedback order by id").fetchall()
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise CorpusError(f"{db_path}: 无法读取数据库（{exc}）") from None
    out: list[Example] = []
    for kind, category, text in rows:
        if kind == "missed" and category in CATEGORIES:
            out.append(Example(text, category, "feedback_missed", "desk:补录", None))
        elif kind == "false_alarm":
            out.append(Example(text, "none", "feedback_false_alarm", "desk:误报", ()))
    return out
