"""`pingan classify` and `pingan eval`: the detector from the command line.

Both commands are plain click commands; bot/cli.py registers them in the
`pingan` group. A broken lexicon or input file prints one line on stderr and
exits with status 2 — never a traceback.
"""
from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import click

from nlp.detection import NOT_FLAGGED, Detection
from nlp.detector import Detector
from nlp.evaluation import EvalFileError, evaluate, format_report, read_rows
from nlp.lexicon import LexiconError

EXIT_BAD_INPUT = 2

_LEXICON_OPTION = click.option(
    "--lexicon",
    "lexicon_path",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="词库文件（TOML），替换内置词库。",
)


def load_detector(lexicon_path: Path | None) -> Detector:
    """Build the detector for a command (tests replace this to reuse one instance)."""
    # jieba announces its dictionary loading on stderr through its own
    # handler; on the command line that noise would hide real errors.
    logging.getLogger("jieba").setLevel(logging.WARNING)
    return Detector.load(lexicon_path)


def _detector_or_exit(lexicon_path: Path | None) -> Detector:
    try:
        return load_detector(lexicon_path)
    except LexiconError as exc:
        click.echo(f"词库错误：{exc}", err=True)
        raise click.exceptions.Exit(EXIT_BAD_INPUT) from None


def classification_json(text: str, detection: Detection) -> str:
    """One output line of `pingan classify`, exactly as SPEC.md shows it."""
    return json.dumps(
        {
            "text": text,
            "flagged": detection.flagged,
            "category": detection.category if detection.flagged else None,
            "severity": detection.severity if detection.flagged else None,
            "keywords": list(detection.keywords) if detection.flagged else [],
        },
        ensure_ascii=False,
    )


@click.command("classify", help="逐行读取标准输入的消息，每行输出一个 JSON 判定结果。")
@_LEXICON_OPTION
def classify_command(lexicon_path: Path | None) -> None:
    detector = _detector_or_exit(lexicon_path)
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
@click.option("--summary", is_flag=True, help="只打印指标，不逐条列出误报和漏报。")
def eval_command(files: tuple[Path, ...], lexicon_path: Path | None, summary: bool) -> None:
    try:
        rows = [row for path in files for row in read_rows(path)]
    except EvalFileError as exc:
        click.echo(f"评测文件错误：{exc}", err=True)
        raise click.exceptions.Exit(EXIT_BAD_INPUT) from None
    detector = _detector_or_exit(lexicon_path)
    report = evaluate(rows, detector.detect)
    click.echo(format_report(report, list_errors=not summary, explain=detector.detect_reference))


@click.group(help="平安群助手识别器（开发用入口；正式命令为 pingan classify / pingan eval）。")
def _standalone() -> None:
    pass


_standalone.add_command(classify_command)
_standalone.add_command(eval_command)

if __name__ == "__main__":  # python -m nlp.cli eval FILE.tsv…
    _standalone()
