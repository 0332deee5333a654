"""Group commit for single-message ingest.

Each POST /ingest would otherwise cost one statement and one commit (one WAL
flush). Under load, requests that arrive while `max_inflight` statements are
already running wait together and go to the database as one batch statement;
at low load every request is flushed at once, so nothing waits for a timer.
Idempotency is unchanged: the batch statement is the same INSERT ... ON
CONFLICT, and copies of one message inside a batch are folded before it.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable

import aiopg

from app.api.ingest import IngestRecord, collapse_batch
from app.api.store.ingest import DUPLICATE, StoreOutcome, store_records


class IngestCoalescer:
    def __init__(
        self,
        pool: aiopg.Pool,
        *,
        max_batch: int = 500,
        max_inflight: int = 4,
        observe: Callable[[int], None] = lambda size: None,
    ) -> None:
        self._pool = pool
        self._observe = observe
        self._max_batch = max_batch
        self._max_inflight = max_inflight
        self._pending: list[tuple[IngestRecord, asyncio.Future[StoreOutcome]]] = []
        self._inflight = 0
        self._tasks: set[asyncio.Task[None]] = set()

    async def submit(self, record: IngestRecord) -> StoreOutcome:
        if not self._pending and self._inflight < self._max_inflight:
            return await self._store_alone(record)
        future: asyncio.Future[StoreOutcome] = asyncio.get_running_loop().create_future()
        self._pending.append((record, future))
        self._flush_what_we_can()
        return await future

    async def _store_alone(self, record: IngestRecord) -> StoreOutcome:
        """Nothing is waiting: store now, in the caller's coroutine (no task, no future)."""
        self._inflight += 1
        try:
            self._observe(1)
            if record.index != 0:
                record = dataclasses.replace(record, index=0)
            outcomes = await store_records(self._pool, [record])
            return outcomes.get(0, DUPLICATE)
        finally:
            self._inflight -= 1
            self._flush_what_we_can()

    def _flush_what_we_can(self) -> None:
        while self._pending and self._inflight < self._max_inflight:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            self._inflight += 1
            task = asyncio.create_task(self._flush(batch))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _flush(self, batch: list[tuple[IngestRecord, asyncio.Future[StoreOutcome]]]) -> None:
        try:
            records = [dataclasses.replace(r, index=i) for i, (r, _) in enumerate(batch)]
            survivors, _ = collapse_batch(records)
            self._observe(len(batch))
            outcomes = await store_records(self._pool, survivors)
            for i, (_, future) in enumerate(batch):
                if not future.done():
                    future.set_result(outcomes.get(i, DUPLICATE))
        except BaseException as exc:
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            if not isinstance(exc, Exception):
                raise
        finally:
            self._inflight -= 1
            self._flush_what_we_can()
