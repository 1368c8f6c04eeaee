"""One Detector for every tests/test_nlp_*.py module (no tests here).

Loading takes a second or two (jieba's dictionary); building it once per test
session keeps the suite fast. The test modules import `shared_detector`
(as `tests.test_nlp_shared`) and wrap it in a fixture.
"""
from __future__ import annotations

import functools
from nlp.classifier import Classifier
from nlp.corpus import CORPUS_DIR
from nlp.detector import Detector
from nlp.urgency import UrgencyJudge

DATA = CORPUS_DIR


@functools.cache
def shared_detector() -> Detector:
    return Detector.load()


@functools.cache
def shared_rules_only() -> Classifier:
    """The lexicon and the urgency rules, without the learned model."""
    return Classifier(shared_detector(), None, UrgencyJudge.load())
