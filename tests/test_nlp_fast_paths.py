"""The detector's shortcuts give the very verdicts of the plain computation.

Speed comes from structures built at load (an automaton over the model's
n-grams, one combined automaton for the first look at a message); each is
checked here against the slow definition it replaces, on real data.
"""
from __future__ import annotations

import csv
import random

import pytest

from nlp.corpus import CORPUS_DIR
from nlp.features import grams, prepare
from nlp.gram_index import GramIndex


def _corpus_texts(limit: int, seed: int = 7) -> list[str]:
    texts: list[str] = []
    for path in sorted(CORPUS_DIR.glob("*.tsv")):
        with path.open(encoding="utf-8", newline="") as handle:
            texts += [row["text"] for row in csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)]
    return random.Random(seed).sample(texts, min(limit, len(texts)))


@pytest.fixture(scope="module")
def texts() -> list[str]:
    return _corpus_texts(3000)


def test_gram_index_finds_exactly_the_known_ngrams(classifier, texts) -> None:
    model = classifier.model
    model.report_logit("")  # builds the model
    index = model._index
    for text in texts:
        prepared = prepare(text)
        expected = {index[g] for g in set(grams(prepared)) if g in index}
        assert model._grams.rows(prepared) == expected, text


def test_gram_index_of_an_unusual_vocabulary() -> None:
    """Repeated entries mean their last row, as the heads' dicts do; entries a
    window can never hold (empty, longer than three characters) match nothing."""
    vocabulary = ["打", "打架", "打架了吗", "", "打", "架"]
    index = GramIndex(dict(zip(vocabulary, range(len(vocabulary)))))
    assert index.rows("他们打架了吗") == {4, 1, 5}
    assert index.rows("") == set() and GramIndex({}).rows("打架") == set()
