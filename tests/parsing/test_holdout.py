"""The held-out set: 219 messages written by someone who never saw the parser or its corpus,
used to measure how well the parser reads formats rather than memorised messages.

It was held out while the parser was built (the parser's authors saw only its aggregate
score); it is kept here as a regression set. Do not tune the parser against these messages:
write a fresh held-out set for the next round instead (docs/parser-corpus.md).
"""

from __future__ import annotations

from pathlib import Path

from tests.parsing.corpus_check import evaluate, load_corpus

HOLDOUT = Path(__file__).parent / "holdout"


def test_holdout_accuracy_and_false_positives() -> None:
    cases = load_corpus(HOLDOUT)
    assert len(cases) >= 200
    result = evaluate(cases)
    wrong = [f"{r.case.family}#{r.case.index}: {r.mismatches}" for r in result.failures]
    assert result.overall.accuracy >= 0.97, wrong
    assert result.false_positive_rate <= 0.01, wrong
