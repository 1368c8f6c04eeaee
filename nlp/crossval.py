"""Leave-one-batch-out cross-validation of the whole detector (`pingan train --cv`).

Each written batch is judged by a detector whose model was trained on every
other batch, so no row is scored by a model that saw it, nor anything its
writer wrote in the same sitting. The real chat file is never held out as a
batch (it is not a batch of writing); its fixed held-out part is scored by
the model trained on everything else. The lexicon is the same in every fold:
it was tuned by hand on earlier batches, which flatters the group-message
batch (named in the report).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from nlp.classifier import Classifier, Evidence, withdrawn
from nlp.corpus import REAL_CHAT_BATCH as REAL_CHAT
from nlp.corpus import Example, held_out_chat, training_rows
from nlp.detection import Detection
from nlp.detector import Detector
from nlp.evaluation import Row
from nlp.model import TextModel
from nlp.train import fit
from nlp.urgency import UrgencyJudge



def as_row(example: Example) -> Row:
    return Row(example.text, example.label, f"{example.batch}:{example.source}", example.urgent)


def train_model(rows: list[Example], options: dict | None = None) -> TextModel:
    vocabulary, weights, biases, header = fit(rows, options)
    return TextModel(vocabulary, weights, biases, header)


def leave_one_batch_out(
    rows: list[Example],
    lexicon: Detector,
    urgency: UrgencyJudge,
    options: dict | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> list[tuple[Row, Detection]]:
    """Every written row judged by a model that never saw its batch."""
    return [(row, classifier.decide(ev)) for row, ev, classifier in fold_evidence(rows, lexicon, urgency, options, progress)]


def fold_evidence(
    rows: list[Example],
    lexicon: Detector,
    urgency: UrgencyJudge,
    options: dict | None = None,
    progress: Callable[[str], None] = lambda _: None,
) -> list[tuple[Row, Evidence, Classifier]]:
    """Each stage's evidence on every held-out row, with the fold's classifier,
    so decision thresholds can be tuned without training again."""
    train_pool = training_rows(rows)
    batches = sorted({r.batch for r in rows} - {REAL_CHAT})
    out: list[tuple[Row, Evidence, Classifier]] = []

    def judge(classifier: Classifier, held: list[Example]) -> None:
        for r in held:
            ev = classifier.evidence(r.text)
            if ev.model is None and classifier.model is not None and not withdrawn(ev.lexicon):
                # Force the model's opinion so every threshold can be tried.
                ev = replace(ev, model=classifier.model.score(r.text, force=True))
            out.append((as_row(r), ev, classifier))

    for batch in batches:
        classifier = Classifier(lexicon, train_model([r for r in train_pool if r.batch != batch], options), urgency)
        judge(classifier, [r for r in rows if r.batch == batch])
        progress(batch)
    classifier = Classifier(lexicon, train_model(train_pool, options), urgency)
    judge(classifier, held_out_chat(rows))
    progress(f"{REAL_CHAT} (held-out part)")
    return out

