"""Verdict dump for detector changes that must not change any verdict (not a test).

    python tests/nlp/bench_verdicts.py dump BEFORE.jsonl [--variants]   # on the old tree
    python tests/nlp/bench_verdicts.py dump AFTER.jsonl [--variants]    # on the new tree
    python tests/nlp/bench_verdicts.py diff BEFORE.jsonl AFTER.jsonl

Dumps the whole detector's verdict (and its keywords, rules and score) on every
message of the evaluation data (PINGAN_EVAL_DIR, default ../shared/data/eval),
the sealed holdout and the training corpus; `--variants` adds forms of them
that take other paths (an @-mention, upper case and emoji, a phone number,
long messages made of ten and forty consecutive ones). Run each dump with
the tree under test first on sys.path (PYTHONPATH=...). `diff` exits 1 when a
verdict differs.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EVAL = Path(os.environ.get("PINGAN_EVAL_DIR", ROOT.parent / "shared" / "data" / "eval"))
SOURCES = (EVAL, ROOT / "tests" / "data" / "detector_holdout", ROOT / "nlp" / "data" / "corpus")
VERDICT = ("flagged", "tier", "category", "severity", "urgent", "numbers", "reply_numbers")


def messages(variants: bool) -> Iterator[tuple[str, str]]:
    for folder in SOURCES:
        for path in sorted(folder.glob("*.tsv")):
            with path.open(encoding="utf-8", newline="") as handle:
                rows = [row["text"] for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)]
            key = f"{folder.name}/{path.name}"
            for i, text in enumerate(rows):
                yield f"{key}:{i}", text
            if variants:
                for i, text in enumerate(rows[:400]):
                    yield f"{key}:{i}:at", "@平安助手 " + text
                    yield f"{key}:{i}:up", text.upper() + "!!!  😂"
                    yield f"{key}:{i}:num", text + " 电话13812345678 ，，"
                for i in range(0, min(len(rows), 2000), 10):
                    yield f"{key}:{i}:long", "".join(rows[i : i + 10])
                    yield f"{key}:{i}:long2", "".join(rows[i : i + 40])


def dump(out: Path, variants: bool) -> None:
    import jieba

    jieba.setLogLevel(60)
    from nlp.classifier import Classifier

    classifier = Classifier.load()
    print(f"detector from {sys.modules['nlp'].__file__}", file=sys.stderr)
    count = 0
    with out.open("w", encoding="utf-8") as handle:
        for key, text in messages(variants):
            d = classifier.detect(text)
            row = {
                "key": key, "flagged": d.flagged, "tier": d.tier, "category": d.category, "severity": d.severity,
                "urgent": d.urgent, "numbers": d.numbers, "reply_numbers": d.reply_numbers, "keywords": d.keywords,
                "rules": d.rules, "emergency_number": d.emergency_number, "score": round(d.score, 9),
            }
            handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            count += 1
    print(f"{count} messages", file=sys.stderr)


def diff(before: Path, after: Path) -> int:
    old = [json.loads(line) for line in before.open(encoding="utf-8")]
    new = [json.loads(line) for line in after.open(encoding="utf-8")]
    if [r["key"] for r in old] != [r["key"] for r in new]:
        print("the two dumps hold different messages")
        return 2
    verdicts = [(a, b) for a, b in zip(old, new) if any(a[f] != b[f] for f in VERDICT)]
    fields = [(a, b) for a, b in zip(old, new) if a != b]
    print(f"{len(verdicts)} verdict differences, {len(fields)} differences in any field, over {len(old)} messages")
    for a, b in fields[:20]:
        print(a["key"], {f: (a[f], b[f]) for f in a if a[f] != b[f]})
    return 1 if verdicts else 0


def main() -> int:
    parser = argparse.ArgumentParser(description="识别器判定对照：改动前后逐条比较。")
    sub = parser.add_subparsers(dest="command", required=True)
    d = sub.add_parser("dump")
    d.add_argument("out", type=Path)
    d.add_argument("--variants", action="store_true")
    c = sub.add_parser("diff")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = parser.parse_args()
    if args.command == "dump":
        dump(args.out, args.variants)
        return 0
    return diff(args.before, args.after)


if __name__ == "__main__":
    sys.exit(main())
