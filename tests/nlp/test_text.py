"""Normalisation: pure string functions."""
from __future__ import annotations

import pytest

from nlp.normalize import collapse_runs, nearly_normal, normalize


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＱＱ号１２３", "qq号123"),  # full-width letters and digits
        ("APP下载", "app下载"),
        ("打架了！！！！快来", "打架了！快来"),  # repeated punctuation
        ("真的吗？？?!", "真的吗？"),
        ("着火了🔥🔥🔥", "着火了"),  # emoji
        ("没有😂打架", "没有打架"),  # removed, not replaced: the negation stays adjacent
        ("👨‍👩‍👧", ""),  # emoji with zero-width joiners
        ("[图片]楼下[动画表情]吵架[捂脸]", "楼下吵架"),  # WeChat placeholders
        ("@李警官 楼下有人吵架", "楼下有人吵架"),  # mention + space
        ("@李警官\u2005楼下有人吵架", "楼下有人吵架"),  # mention + four-per-em space
        ("楼下有人吵架 @李警官", "楼下有人吵架"),  # mention at the end
        ("打\u200b架", "打架"),  # zero-width space
        ("\ufeff打架", "打架"),  # BOM
        ("打\ud800架", "打架"),  # lone surrogate
        ("打\x00架\x07了", "打 架 了"),  # control characters become spaces
        ("  多个   空格\n换行 ", "多个 空格 换行"),
        ("\u3000全角空格\u3000", "全角空格"),
        ("", ""),
    ],
)
def test_normalize(raw: str, expected: str) -> None:
    assert normalize(raw) == expected


@pytest.mark.parametrize(
    ("raw", "fast"),
    [
        ("楼下有人吵架", "楼下有人吵架"),
        ("打架了！！！！快来", "打架了！！！！快来"),  # runs collapse later, offsets stay raw
        ("APP下载，加VIP群", "app下载，加vip群"),  # A-Z only needs lower()
        ("ＱＱ号１２３", None),  # full-width: the whole normalisation
        ("着火了🔥", None),
        ("@李警官 楼下有人吵架", None),
        ("[图片]吵架", None),
        ("İ", None),  # lower() would lengthen it
        ("", ""),
    ],
)
def test_nearly_normal_needs_only_the_last_step(raw: str, fast: str | None) -> None:
    # The detector's fast path pre-scans this form instead of normalising:
    # it must differ from the normal form only by collapsed runs.
    assert nearly_normal(raw) == fast
    if fast is not None:
        assert collapse_runs(fast) == normalize(raw)


def test_normalize_is_idempotent_and_bounded() -> None:
    text = "@张三 ＡＢＣ！！！😀" * 1000
    once = normalize(text, max_chars=50)
    assert len(once) <= 50
    assert normalize(once, max_chars=50) == once


def test_normalize_bounds_work_on_huge_input() -> None:
    assert normalize("打" * 5_000_000, max_chars=2000) == "打" * 2000
