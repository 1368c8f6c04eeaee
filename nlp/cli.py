"""`pingan classify` and `pingan eval`: the detector from the command line.

Both commands are plain click commands; bot/run/cli.py registers them in the
`pingan` group. A broken lexicon or input file prints one line on stderr and
exits with status 2 — never a traceback.
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from nlp.classifier import Classifier
from nlp.detection import NOT_FLAGGED, Detection
from nlp.evaluation import EvalFileError, evaluate, format_report, read_rows
from nlp.lexicon import LexiconError
from nlp.model import DEFAULT_MODEL_PATH, ModelError
from nlp.urgency import UrgencyError

# The same status as bot/cli_errors.py's: nlp may not import bot (nlp < storage < bot).
EXIT_BAD_INPUT = 2

_LEXICON_OPTION = click.option(
    "--lexicon",
    "lexicon_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="词库文件（TOML），替换内置词库。",
)


_MODEL_OPTION = click.option(
    "--model",
    "model_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="模型文件（pingan train 生成），替换内置模型。",
)


_RULES_ONLY_OPTION = click.option(
    "--rules-only", is_flag=True, help="只用词库和紧急规则（不用学习模型），每条判定都可由词解释。"
)


def load_detector(lexicon_path: Path | None, model_path: Path | None = None, rules_only: bool = False) -> Classifier:
    """Build the detector for a command (tests replace this to reuse one instance)."""
    # jieba announces its dictionary loading on stderr through its own
    # handler; on the command line that noise would hide real errors.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    return Classifier.load(lexicon_path, model_path, rules_only=rules_only)


def _detector_or_exit(lexicon_path: Path | None, model_path: Path | None = None, rules_only: bool = False) -> Classifier:
    try:
        return load_detector(lexicon_path, model_path, rules_only)
    except LexiconError as exc:
        click.echo(f"词库错误：{exc}", err=True)
    except (ModelError, UrgencyError) as exc:
        click.echo(f"识别器文件错误：{exc}", err=True)
    raise click.exceptions.Exit(EXIT_BAD_INPUT)


def classification_json(text: str, detection: Detection) -> str:
    """One output line of `pingan classify`, exactly as SPEC.md shows it."""
    return json.dumps(
        {
            "text": text,
            "flagged": detection.flagged,
            "tier": (detection.tier or "flagged") if detection.flagged else None,
            "category": detection.category if detection.flagged else None,
            "severity": detection.severity if detection.flagged else None,
            "keywords": list(detection.keywords) if detection.flagged else [],
            "numbers": list(detection.numbers) if detection.urgent else [],
        },
        ensure_ascii=False,
    )


@click.command("classify", help="逐行读取标准输入的消息，每行输出一个 JSON 判定结果。")
@_LEXICON_OPTION
@_MODEL_OPTION
@_RULES_ONLY_OPTION
def classify_command(lexicon_path: Path | None, model_path: Path | None, rules_only: bool) -> None:
    detector = _detector_or_exit(lexicon_path, model_path, rules_only)
    # Bytes in, bytes out: input that is not valid UTF-8 still gets a verdict
    # (undecodable bytes become U+FFFD), and the output is UTF-8 whatever the
    # terminal's locale says.
    stdin = sys.stdin.buffer
    stdout = sys.stdout.buffer
    for raw in stdin:
        text = raw.decode("utf-8", errors="replace").rstrip("\r\n")
        detection = detector.detect(text) if text.strip() else NOT_FLAGGED
        stdout.write(classification_json(text, detection).encode("utf-8") + b"\n")
        # Line by line, so `classify` can sit in a pipe and answer as it reads.
        stdout.flush()


@click.command("eval", help="在带标注的 TSV 文件（表头 text/label/source）上计算识别器的精确率、召回率和误报率。")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@_LEXICON_OPTION
@_MODEL_OPTION
@_RULES_ONLY_OPTION
@click.option("--summary", is_flag=True, help="只打印指标，不逐条列出误报和漏报。")
def eval_command(files: tuple[Path, ...], lexicon_path: Path | None, model_path: Path | None, rules_only: bool, summary: bool) -> None:
    try:
        rows = [row for path in files for row in read_rows(path)]
    except EvalFileError as exc:
        click.echo(f"评测文件错误：{exc}", err=True)
        raise click.exceptions.Exit(EXIT_BAD_INPUT) from None
    detector = _detector_or_exit(lexicon_path, model_path, rules_only)
    report = evaluate(rows, detector.detect)
    click.echo(format_report(report, list_errors=not summary, explain=detector.lexicon.detect_reference))


@click.command("train", help="用仓库内的标注数据（nlp/data/corpus/）重新训练识别模型；同样的数据得到逐字节相同的模型文件。")
@click.option("--out", "out_path", type=click.Path(path_type=Path, dir_okay=False), default=DEFAULT_MODEL_PATH, show_default=True, help="模型文件")
@click.option("--corpus", "corpus_dir", type=click.Path(path_type=Path, file_okay=False), default=None, help="训练数据目录（默认 nlp/data/corpus）")
@click.option("--feedback-db", "feedback_db", type=click.Path(path_type=Path, dir_okay=False), default=None, help="加入该数据库中民警补录的漏报和标记的误报")
@click.option("--cv", is_flag=True, help="只做按批次留一交叉验证并打印结果，不写模型文件。")
def train_command(out_path: Path, corpus_dir: Path | None, feedback_db: Path | None, cv: bool) -> None:
    from nlp.corpus import CORPUS_DIR, CorpusError, feedback_examples, load_corpus, training_rows

    try:
        rows = load_corpus(corpus_dir or CORPUS_DIR)
        if feedback_db is not None:
            rows += feedback_examples(feedback_db)
    except CorpusError as exc:
        click.echo(f"训练数据错误：{exc}", err=True)
        raise click.exceptions.Exit(EXIT_BAD_INPUT) from None
    if cv:
        from nlp.crossval import leave_one_batch_out
        from nlp.evaluation import Report

        detector = _detector_or_exit(None)
        results = leave_one_batch_out(
            rows, detector.lexicon, detector.urgency, progress=lambda b: click.echo(f"已验证批次 {b}", err=True)
        )
        click.echo(format_report(Report(results), list_errors=False))
        return
    from nlp.model import write_model
    from nlp.train import fit

    vocabulary, weights, biases, header = fit(training_rows(rows))
    try:
        write_model(out_path, vocabulary, weights, biases, header)
    except OSError as exc:
        click.echo(f"无法写入模型文件 {out_path}：{exc.strerror or exc}", err=True)
        raise click.exceptions.Exit(EXIT_BAD_INPUT) from None
    size = out_path.stat().st_size
    click.echo(f"已训练：{len(rows)} 条样本，{len(vocabulary)} 个特征，模型 {size / 1e6:.1f} MB → {out_path}")


@click.group(help="平安群助手识别器（开发用入口；正式命令为 pingan classify / pingan eval）。")
def _standalone() -> None:
    pass


_standalone.add_command(classify_command)
_standalone.add_command(eval_command)
_standalone.add_command(train_command)

if __name__ == "__main__":  # python -m nlp.cli eval FILE.tsv…
    _standalone()
