"""Preparing large batches in a worker process.

Validating and parsing are pure CPU (about 20 µs and 75 µs for a TP Capital
signal), and a 500-message batch spends more time there than in everything
else the api does with it. A worker process takes that off the event loop
and onto the second core; small batches run inline, where the hand-over
would cost more than it saves. If the worker dies, the batch runs inline and
a new worker is started for the next one.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from collections.abc import Callable, Sized
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import TypeVar

from app.heap import freeze_startup_heap
from app.parent_watch import exit_with_parent
from app.parsing import lexicon
from app.parsing.signals import NotASignal, Signal, parse_signal

log = logging.getLogger("app.api.parse_pool")


def _init_worker(parent_pid: int, lexicon_path: str | None) -> None:
    exit_with_parent(parent_pid)  # no orphan worker, even if the api is SIGKILLed
    lexicon.install(lexicon_path)  # the same words as the api process
    freeze_startup_heap()


Outcome = Signal | NotASignal
T = TypeVar("T", bound=Sized)
R = TypeVar("R")


def parse_many(texts: list[str]) -> list[Outcome]:
    return [parse_signal(text) for text in texts]


class ParsePool:
    def __init__(
        self, workers: int, *, min_batch: int = 32, lexicon_path: str | None = None
    ) -> None:
        self.workers = workers
        self.min_batch = min_batch
        # A spawned worker starts with the built-in lexicon; it installs the operator's
        # file (PARSER_LEXICON_PATH) once, so workers and inline parsing read alike.
        self.lexicon_path = lexicon_path
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            # spawn: a fresh interpreter, not a fork of a process with a running loop.
            context = multiprocessing.get_context("spawn")
            self._executor = ProcessPoolExecutor(
                self.workers,
                mp_context=context,
                initializer=_init_worker,
                initargs=(os.getpid(), self.lexicon_path),
            )
        return self._executor

    async def run(self, fn: Callable[[T], R], batch: T) -> R:
        """fn(batch) in the worker for large batches, inline otherwise; fn must be pure."""
        if self.workers < 1 or len(batch) < self.min_batch:
            return fn(batch)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._pool(), fn, batch)
        except BrokenProcessPool:
            log.error("parse worker died; running this batch inline and starting a new worker")
            self._executor = None
            return fn(batch)

    async def parse(self, texts: list[str]) -> list[Outcome]:
        return await self.run(parse_many, texts)

    def close(self) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
