"""Detector benchmark (not a test: pytest does not collect this file).

    python tests/nlp/bench_detector.py [--data DIR] [--rounds 15]

Prints, for the evaluation data mixed 1 positive : 20 negatives as in a real
group:
- messages per second of the detector and of a plain baseline — a jieba
  tokenizer with the same lexicon words, `lcut` (jieba's defaults, as
  `jieba.lcut`) and a set lookup — measured in the same process, taking
  turns, and the median over rounds of the ratio of their fastest passes;
- that the fast path (Aho-Corasick pre-scan, jieba only on candidate blocks)
  gives the same verdict as a full jieba analysis on every message;
- start-up time (import + lexicon load) and peak memory of the detector beside
  a bare `import jieba; jieba.initialize()`, each in a fresh interpreter, and
  the time of the first message that may flag (it builds the automaton of
  negations, context phrases and long words, which start-up leaves out).

Exit status 1 when any verdict differs.
"""
from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

import jieba  # noqa: E402

from nlp.classifier import Classifier  # noqa: E402
from nlp.detection import Detection  # noqa: E402
from nlp.detector import Detector  # noqa: E402
from nlp.model import DEFAULT_MODEL_PATH, TextModel  # noqa: E402

DEFAULT_DATA = Path(os.environ.get("PINGAN_EVAL_DIR", ROOT.parent / "shared" / "data" / "eval"))
NEGATIVES_PER_POSITIVE = 20

# Each snippet runs in a fresh interpreter and prints seconds and peak RSS (KiB).
_BARE = "import jieba; jieba.setLogLevel(60); jieba.initialize()"
_DETECTOR = (
    "import logging; logging.getLogger('jieba').setLevel(60)\n"
    "from nlp.classifier import Classifier; Classifier.load()"
)
# The first message that may flag also builds the marker automaton (kept out
# of start-up on purpose); how long that message takes, in milliseconds.
_FIRST_CANDIDATE = (
    "import logging, time; logging.getLogger('jieba').setLevel(60)\n"
    "from nlp.classifier import Classifier; d = Classifier.load()\n"
    "t = time.perf_counter(); d.detect('楼下两个人打起来了'); print((time.perf_counter() - t) * 1000)"
)
_PROBE = """
import resource, time
t0 = time.perf_counter()
{code}
t1 = time.perf_counter()
print(t1 - t0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
# (wall time: start-up includes reading jieba's cache from disk)
"""


def read_texts(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)]


def mixed_messages(data: Path) -> list[str]:
    """All negatives and one positive per 20 of them, shuffled with a fixed seed."""
    rng = random.Random(20260301)
    positives = read_texts(data / "dev_positives.tsv")
    negatives = read_texts(data / "dev_negatives.tsv")
    chosen = rng.sample(positives, max(1, len(negatives) // NEGATIVES_PER_POSITIVE))
    messages = negatives + chosen
    rng.shuffle(messages)
    return messages


def pass_times(fn: Callable[[str], object], messages: list[str], min_seconds: float) -> list[float]:
    """CPU seconds of each whole pass over `messages`, for at least `min_seconds`.

    CPU time of this process, not wall time: the machine is shared, and
    other processes' load should not decide the ratio.
    """
    times: list[float] = []
    total = 0.0
    while total < min_seconds:
        start = time.process_time()
        for text in messages:
            fn(text)
        times.append(time.process_time() - start)
        total += times[-1]
    return times


def compare(contenders: dict[str, Callable[[str], object]], messages: list[str], rounds: int) -> dict[str, list[float]]:
    """Per round, each contender's fastest pass (seconds), the contenders taking turns.

    On a shared VM back-to-back runs of the same code differ by 15%; a pass
    that was slowed down says nothing about the code, so each round keeps
    its fastest pass (as timeit advises), and turns within a round are short
    so that a busy spell falls on both sides alike. The caller reports the
    median over rounds of the per-round ratios.
    """
    best: dict[str, list[float]] = {name: [] for name in contenders}
    # One untimed pass each: the detector builds its automata and loads the
    # model's weights on first use, which is start-up, not throughput (the
    # first round's ratio was 0.4-0.5 in every run without it).
    for fn in contenders.values():
        for text in messages:
            fn(text)
    for _ in range(rounds):
        for name, fn in contenders.items():
            best[name].append(min(pass_times(fn, messages, min_seconds=0.6)))
    return best


def probe(code: str) -> tuple[float, int]:
    out = subprocess.run(
        [sys.executable, "-c", _PROBE.format(code=code)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), int(out[1])


def verdict(d: Detection) -> tuple[object, ...]:
    """What the bot acts on; keywords too, since officers see them."""
    return (d.flagged, d.category, d.severity, d.emergency_number, d.keywords if d.flagged else ())


def main() -> int:
    parser = argparse.ArgumentParser(description="识别器基准测试：吞吐量、判定一致性、启动时间与内存。")
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="评测数据目录（dev_positives.tsv、dev_negatives.tsv）")
    parser.add_argument("--rounds", type=int, default=15, help="交替测量的轮数：每轮各方取最快一遍，报告各轮倍数的中位数")
    args = parser.parse_args()

    jieba.setLogLevel(60)
    messages = mixed_messages(args.data)
    classifier = Classifier.load()
    detector = classifier.lexicon
    words = detector.lexicon.trigger_words()

    # The baseline: a tokenizer that knows the same words, cut as jieba.lcut does.
    baseline_tokenizer = jieba.Tokenizer()
    baseline_tokenizer.initialize()
    for word in sorted(detector.lexicon.token_words()):
        baseline_tokenizer.add_word(word)

    def baseline(text: str) -> bool:
        return not words.isdisjoint(baseline_tokenizer.lcut(text))

    def baseline_no_hmm(text: str) -> bool:
        return not words.isdisjoint(baseline_tokenizer.lcut(text, HMM=False))

    # Verdicts: the fast path against a full segmentation, on every message we have.
    everything = list(messages)
    for name in ("dev_positives.tsv", "dev_negatives.tsv", "civic_complaints_unlabeled.tsv"):
        if (args.data / name).exists():
            everything += read_texts(args.data / name)
    everything += read_texts(ROOT / "nlp" / "data" / "corpus" / "group_messages.tsv")
    mismatches = [t for t in everything if verdict(detector.detect(t)) != verdict(detector.detect_reference(t))]

    seconds = compare(
        {"detector": classifier.detect, "lexicon": detector.detect, "baseline": baseline, "baseline_no_hmm": baseline_no_hmm},
        messages,
        args.rounds,
    )
    rate = {name: len(messages) / statistics.median(times) for name, times in seconds.items()}
    ratios = {
        name: sorted(b / d for b, d in zip(seconds[name], seconds["detector"], strict=True))
        for name in ("baseline", "baseline_no_hmm")
    }
    ratios["lexicon_only"] = sorted(b / d for b, d in zip(seconds["baseline"], seconds["lexicon"], strict=True))
    ratio = {name: statistics.median(r) for name, r in ratios.items()}

    # The whole message at bounded cost: one megabyte of chat, judged whole.
    megabyte = ("".join(messages[:2000]) * 20)[:1_000_000]
    long_seconds = []
    for _ in range(3):
        start = time.process_time()
        classifier.detect(megabyte)
        long_seconds.append(time.process_time() - start)
    load_seconds = []
    for _ in range(5):
        start = time.perf_counter()
        TextModel.load()
        load_seconds.append(time.perf_counter() - start)

    probe(_BARE)  # make sure jieba's dictionary cache exists before timing anything
    bare, loaded = [], []
    for _ in range(args.rounds):  # in pairs: one slow spell of the VM falls on both alike
        bare.append(probe(_BARE))
        loaded.append(probe(_DETECTOR))
    bare_time = statistics.median(t for t, _ in bare)
    det_time = statistics.median(t for t, _ in loaded)
    startup_ratio = statistics.median(d / b for (d, _), (b, _) in zip(loaded, bare, strict=True))
    first_ms = statistics.median(
        float(subprocess.run([sys.executable, "-c", _FIRST_CANDIDATE], cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout)
        for _ in range(3)
    )
    bare_mem = statistics.median(m for _, m in bare)
    det_mem = statistics.median(m for _, m in loaded)

    flagged = sum(classifier.detect(t).flagged for t in messages)
    print(f"混合数据：{len(messages)} 条（正负比 1:{NEGATIVES_PER_POSITIVE}），其中命中 {flagged} 条（含疑似）")
    print(f"识别器（词库+模型+紧急）{rate['detector']:>10.0f} 条/秒")
    print(f"仅词库            {rate['lexicon']:>10.0f} 条/秒   对基线倍数 {ratio['lexicon_only']:.1f}×")
    for name, label in (("baseline", "基线 jieba.lcut  "), ("baseline_no_hmm", "基线（HMM=False）")):
        spread = f"{args.rounds} 轮 {ratios[name][0]:.1f}–{ratios[name][-1]:.1f}"
        print(f"{label} {rate[name]:>10.0f} 条/秒   倍数 {ratio[name]:.1f}×（中位数；{spread}）")
    print(f"判定一致性：{len(everything)} 条中 {len(mismatches)} 条与完整分词判定不同")
    for text in mismatches[:20]:
        print(f"  不一致：{text[:60]}")
    print(f"启动时间：识别器 {det_time:.2f} 秒，裸 jieba {bare_time:.2f} 秒，比值 {startup_ratio:.2f}（逐对比值的中位数）")
    print(f"首条可疑消息：{first_ms:.0f} 毫秒（含首次建立标记自动机）")
    print(f"峰值内存：识别器 {det_mem / 1024:.0f} MiB，裸 jieba {bare_mem / 1024:.0f} MiB，比值 {det_mem / bare_mem:.2f}")
    print(f"1 MB 消息：{statistics.median(long_seconds):.2f} 秒（3 次中位数）")
    model_mb = DEFAULT_MODEL_PATH.stat().st_size / 1e6
    print(f"模型文件：{model_mb:.1f} MB，载入 {statistics.median(load_seconds) * 1000:.0f} 毫秒（5 次中位数）")
    print(
        json.dumps(
            {
                "throughput_ratio": round(ratio["baseline"], 2),
                "throughput_ratio_range": [round(ratios["baseline"][0], 2), round(ratios["baseline"][-1], 2)],
                "throughput_ratio_no_hmm": round(ratio["baseline_no_hmm"], 2),
                "verdict_mismatches": len(mismatches),
                "startup_ratio": round(startup_ratio, 2),
                "first_candidate_ms": round(first_ms),
                "memory_ratio": round(det_mem / bare_mem, 2),
                "lexicon_only_ratio": round(ratio["lexicon_only"], 2),
                "megabyte_seconds": round(statistics.median(long_seconds), 3),
                "model_mb": round(model_mb, 1),
                "model_load_ms": round(statistics.median(load_seconds) * 1000),
            }
        )
    )
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
