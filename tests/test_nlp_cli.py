"""`pingan classify` and `pingan eval` through click's CliRunner."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from nlp import cli
from nlp.cli import classify_command, eval_command
from tests.test_nlp_lexicon import MINIMAL
from tests.test_nlp_shared import shared_rules_only

EVAL_ROWS = """\
text\tlabel\tsource
楼下两个人吵起来了，快打架了\tdispute\tdemo:a#1
有人打电话让我转账到安全账户\tfraud\tdemo:a#2
学校门口有个陌生男子一直盯着小孩看\tchild_safety\tdemo:a#3
有个小偷偷了我的电动车\tother_crime\tdemo:a#4
今天天气真好\tdispute\tdemo:a#5
他在打架子鼓\tnone\tchat:b#1
今天吃什么\tnone\tchat:b#2
我们这里有人打架\tnone\tsms:c#1
"""


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose commands reuse one rules-only detector (lexicon and urgency,
    no learned model) for the built-in lexicon: these tests are about the
    commands, and their verdicts must not move when the model is retrained."""
    real = cli.load_detector
    monkeypatch.setattr(
        cli, "load_detector", lambda path, model=None, rules_only=False: shared_rules_only() if path is None else real(path, model, rules_only)
    )
    return CliRunner()


def test_classify_prints_one_json_object_per_line(runner: CliRunner) -> None:
    result = runner.invoke(classify_command, [], input="楼下两个人吵起来了，快打架了\n\n他在打架子鼓\n着火了\n")
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0] == (
        '{"text": "楼下两个人吵起来了，快打架了", "flagged": true, "tier": "flagged", "category": "dispute", '
        '"severity": "high", "keywords": ["吵起来", "打架"], "numbers": []}'
    )
    blank, drum, fire = (json.loads(line) for line in lines[1:])
    assert blank == {"text": "", "flagged": False, "tier": None, "category": None, "severity": None, "keywords": [], "numbers": []}
    assert drum["flagged"] is False and drum["category"] is None and drum["severity"] is None
    assert (fire["category"], fire["severity"], fire["numbers"]) == ("fire", "urgent", ["119"])


def test_classify_survives_bytes_that_are_not_utf8(runner: CliRunner) -> None:
    result = runner.invoke(classify_command, [], input=b"\xff\xfe\xfa\n\x00\x01\n")
    assert result.exit_code == 0
    assert [json.loads(line)["flagged"] for line in result.stdout.splitlines()] == [False, False]


@pytest.mark.parametrize("command", [classify_command, eval_command])
def test_broken_lexicon_is_one_line_and_exit_2(runner: CliRunner, tmp_path: Path, command: object) -> None:
    lexicon = tmp_path / "broken.toml"
    lexicon.write_text(MINIMAL.replace('"normal"', '"severe"'), encoding="utf-8")
    data = tmp_path / "rows.tsv"
    data.write_text(EVAL_ROWS, encoding="utf-8")
    args = ["--lexicon", str(lexicon)] + ([str(data)] if command is eval_command else [])
    result = runner.invoke(command, args, input="打架\n")  # type: ignore[arg-type]
    assert result.exit_code == 2
    assert result.stdout == ""
    assert result.stderr.count("\n") == 1
    assert str(lexicon) in result.stderr and "categories.dispute.severity" in result.stderr


def test_missing_lexicon_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(classify_command, ["--lexicon", str(tmp_path / "nope.toml")], input="x\n")
    assert result.exit_code == 2
    assert "无法读取" in result.stderr


def test_replacement_lexicon_is_used(tmp_path: Path) -> None:
    # A real load of a replacement lexicon: only 吵架 is a word in it.
    lexicon = tmp_path / "mine.toml"
    lexicon.write_text(MINIMAL, encoding="utf-8")
    result = CliRunner().invoke(classify_command, ["--lexicon", str(lexicon), "--rules-only"], input="他们在吵架\n他们在打架\n")
    assert result.exit_code == 0, result.stderr
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert (first["flagged"], first["keywords"]) == (True, ["吵架"])
    assert second["flagged"] is False  # 打架 is a word of the built-in lexicon only


def test_eval_reports_metrics_rates_and_every_error(runner: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "rows.tsv"
    data.write_text(EVAL_ROWS, encoding="utf-8")
    result = runner.invoke(eval_command, [str(data)])
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    lines = out.splitlines()
    dispute = next(line for line in lines if line.startswith("dispute "))
    # Two dispute rows, one found; two rows judged dispute, one of them a negative.
    assert dispute.split()[2:7] == ["2", "2", "1", "50.00%", "50.00%"]
    # child_safety counts as campus; other_crime as security.
    assert next(line for line in lines if line.startswith("campus ")).split()[-1] == "100.00%"
    assert next(line for line in lines if line.startswith("security ")).split()[-1] == "100.00%"
    # False-positive rate per source tag.
    assert any(line.startswith("chat") and "0.00%" in line for line in lines)
    assert any(line.startswith("sms") and "100.00%" in line for line in lines)
    # Every false positive and false negative, with the keywords that fired.
    assert "误报（1 条）" in out and "[sms] dispute/high 关键词：打架" in out
    assert "漏报或判错类别（1 条）" in out and "今天天气真好" in out


def test_eval_summary_omits_the_lists(runner: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "rows.tsv"
    data.write_text(EVAL_ROWS, encoding="utf-8")
    result = runner.invoke(eval_command, [str(data), "--summary"])
    assert result.exit_code == 0
    assert "误报率" in result.stdout and "漏报或判错类别" not in result.stdout


def test_eval_bad_file_exits_2(runner: CliRunner, tmp_path: Path) -> None:
    data = tmp_path / "rows.tsv"
    data.write_text("words\tlabels\nfoo\tbar\n", encoding="utf-8")
    result = runner.invoke(eval_command, [str(data)])
    assert result.exit_code == 2
    assert "缺少列" in result.stderr and result.stderr.count("\n") == 1
    missing = runner.invoke(eval_command, [str(tmp_path / "absent.tsv")])
    assert missing.exit_code == 2 and "无法读取" in missing.stderr
