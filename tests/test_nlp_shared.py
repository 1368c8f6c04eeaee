"""One Detector for every tests/test_nlp_*.py module (no tests here).

Loading takes a second or two (jieba's dictionary); building it once per test
session keeps the suite fast. The test modules import `shared_detector`
(pytest puts tests/ on sys.path) and wrap it in a fixture.
"""
from __future__ import annotations

import functools
from pathlib import Path

from nlp.detector import Detector

DATA = Path(__file__).parent / "data"


@functools.cache
def shared_detector() -> Detector:
    return Detector.load()
