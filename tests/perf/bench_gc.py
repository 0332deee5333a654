"""A full garbage collection in the api process, before and after its start-up heap
is frozen (`app.heap.freeze_startup_heap`, called by `tpcap api` once it listens
and by each parse worker once its lexicon is in).

    .venv/bin/python tests/perf/bench_gc.py

A generation-2 collection walks every tracked object, and the CPython collector
runs one whenever enough objects have survived the younger generations: under
sustained load that is a pause for every request in flight. This prints its
length here, with what start-up leaves behind (the api's modules and the
parser's lexicon), then with that heap frozen.
"""

from __future__ import annotations

import gc
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import app.api.app  # what `tpcap api` imports: its modules are part of the heap
import app.api.main  # noqa: F401
from app.heap import freeze_startup_heap
from app.parsing import lexicon
from app.parsing.signals import parse_signal

TEXT = "Ativo: BOVAW32\nCompra: 1,04 a 1,06\nAlvo 1: 1,15\nStop: 0,80"


def full_collection_ms(rounds: int = 7) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        gc.collect(2)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def main() -> None:
    lexicon.install(None)
    parse_signal(TEXT)
    gc.collect()
    tracked = len(gc.get_objects())
    before = full_collection_ms()
    frozen = freeze_startup_heap()
    # what requests leave alive between collections: a few thousand objects
    live = [{"id": i, "text": TEXT, "parts": [i, str(i)]} for i in range(2000)]
    after = full_collection_ms()
    print(f"tracked objects after start-up: {tracked}; frozen: {frozen}")
    print(f"full collection, start-up heap tracked: {before:.2f} ms (median of 7)")
    print(
        f"full collection, start-up heap frozen:  {after:.2f} ms with {len(live)} live "
        f"request objects -> {after / before:.3f}x"
    )


if __name__ == "__main__":
    main()
