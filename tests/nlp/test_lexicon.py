"""Lexicon loading: the built-in file is valid; every mistake is one clear line."""
from __future__ import annotations

from pathlib import Path

import pytest

from nlp.lexicon import BUILTIN_LEXICON, LexiconError, load_lexicon

MINIMAL = """\
[categories.dispute]
severity = "normal"

[[categories.dispute.words]]
words = ["吵架"]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lexicon.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_builtin_lexicon_loads_with_all_eight_categories() -> None:
    lexicon = load_lexicon()
    assert lexicon.path == str(BUILTIN_LEXICON)
    assert set(lexicon.default_severity) == {
        "dispute", "campus", "traffic", "fraud", "drowning", "fire", "missing", "security",
    }
    assert lexicon.words["打架"].severity == "high"
    assert lexicon.words["着火"].number == "119"


def test_minimal_lexicon_gets_defaults(tmp_path: Path) -> None:
    lexicon = load_lexicon(write(tmp_path, MINIMAL))
    assert lexicon.words["吵架"].weight == 1.0
    assert lexicon.threshold == 1.0
    assert lexicon.number_priority == ("119", "120", "110")


@pytest.mark.parametrize(
    ("text", "key", "problem"),
    [
        ("x = [\n", "", "TOML 语法错误"),
        ("colour = 1\n" + MINIMAL, "colour", "未知的键"),
        (MINIMAL + "colour = 1\n", "categories.dispute.words[0].colour", "未知的键"),
        (MINIMAL.replace('"normal"', '"severe"'), "categories.dispute.severity", "应为"),
        (MINIMAL.replace("dispute", "gossip"), "categories.gossip", "未知的键"),
        (
            MINIMAL + '[[categories.dispute.words]]\nseverity = "urgent"\nwords = ["砍人"]\n',
            "categories.dispute.words[1].number",
            "110 / 119 / 120",
        ),
        (MINIMAL + '[[categories.dispute.words]]\nwords = ["吵架"]\n', "categories.dispute.words[1].words[0]", "重复"),
        (MINIMAL + '[[categories.dispute.words]]\nweight = -1\nwords = ["骂人"]\n', "categories.dispute.words[1].weight", "正数"),
        (MINIMAL.replace('["吵架"]', '["吵 架"]'), "categories.dispute.words[0].words[0]", "空格或标点"),
        (MINIMAL + '[[notice]]\npatterns = ["【(提醒"]\n', "notice[0].patterns[0]", "正则表达式无效"),
        (MINIMAL + '[[combos]]\ncategory = "dispute"\nall = [["打"]]\n', "combos[0].all", "至少两组"),
        (MINIMAL + '[negation]\nwords = ["吵架"]\n', "negation.words", "同时是类别词"),
        (MINIMAL + '[[distant]]\ncategories = ["weather"]\nphrases = ["去年"]\n', "distant[0].categories[0]", "未知类别"),
    ],
)
def test_malformed_lexicon_names_file_key_and_problem(tmp_path: Path, text: str, key: str, problem: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(LexiconError) as caught:
        load_lexicon(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    assert key in message and problem in message
    assert caught.value.key == key


def test_missing_file_is_a_lexicon_error(tmp_path: Path) -> None:
    with pytest.raises(LexiconError, match="无法读取"):
        load_lexicon(tmp_path / "absent.toml")


def test_non_utf8_file_is_a_lexicon_error(tmp_path: Path) -> None:
    path = tmp_path / "gbk.toml"
    path.write_bytes(MINIMAL.encode("gbk"))
    with pytest.raises(LexiconError, match="UTF-8"):
        load_lexicon(path)


def test_words_are_normalised_like_messages(tmp_path: Path) -> None:
    # Full-width letters in the file match the half-width, lower-case text.
    lexicon = load_lexicon(write(tmp_path, MINIMAL.replace('["吵架"]', '["吵架", "ＱＱ群"]')))
    assert "qq群" in lexicon.words
