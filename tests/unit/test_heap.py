"""Freezing the start-up heap: what is alive moves out of the collector's walks."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from app.heap import freeze_startup_heap
from app.parsing import lexicon


@pytest.fixture
def frozen_heap() -> Iterator[int]:
    lexicon.active()  # loaded at start-up, as `tpcap api` does before it serves
    try:
        yield freeze_startup_heap()
    finally:
        gc.unfreeze()  # the rest of the test session collects as before


def test_the_lexicon_is_frozen_and_later_objects_are_not(frozen_heap: int) -> None:
    table = lexicon.active().seen
    assert frozen_heap > 10_000  # the lexicon's tables alone are tens of thousands
    tracked = {id(o) for o in gc.get_objects()}
    assert id(table) not in tracked, "a start-up object is still walked by full collections"

    made_later = {"messageId": 1, "parts": [1, 2]}
    assert gc.is_tracked(made_later)
    assert id(made_later) in {id(o) for o in gc.get_objects()}


def test_garbage_left_by_start_up_is_collected_not_frozen() -> None:
    cycle: list[object] = []
    cycle.append(cycle)
    del cycle
    try:
        freeze_startup_heap()
        # the collect before the freeze took the cycle: nothing is left to find
        assert gc.collect() == 0
    finally:
        gc.unfreeze()
