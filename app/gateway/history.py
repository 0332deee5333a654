"""Reading a channel's older history: bounded backfills and the edit rescan.

A backfill reads the ids in (floor, upto] oldest first, 100 per request, into
the outbox (so the same retries and the api's idempotent ingest apply), and
records its cursor after every chunk: a restart resumes where it stopped.
`FloodWaitError` is slept out as Telegram says, logged, counted, and the read
goes on from the last stored id. Telethon itself paces long reads (it waits a
second between history requests when no limit is given).

The edit rescan re-reads a window of recent history after every (re)start and
reconnection and resends each message whose `edit_date` is newer than the
newest edit an api accepted for it: edits made while the gateway was down
would otherwise be lost. The api ignores stale edits, so a resend is safe.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

from telethon import errors

from app.gateway.catchup import CHUNK, Channel
from app.gateway.config import Backfill
from app.gateway.metrics import GatewayMetrics
from app.gateway.outbox import BackfillJob, Outbox
from app.gateway.payload import iso
from app.gateway.receiver import Incoming, Receiver

log = logging.getLogger("app.gateway.history")

Sleep = Callable[[float], Awaitable[None]]
OUTBOX_PAUSE_FRACTION = 0.5  # a backfill waits while the outbox is fuller than this
STORE_BATCH = 500  # the publisher's batch size


async def newest_id(client: Any, entity: Any) -> int:
    newest = [m async for m in client.iter_messages(entity, limit=1)]
    return newest[0].id if newest else 0


async def backfill_floor(client: Any, entity: Any, spec: Backfill, now: dt.datetime) -> int:
    """The id after which a backfill starts: before the N-th newest, or the first since."""
    if spec.limit is not None:
        nth = [m async for m in client.iter_messages(entity, limit=1, add_offset=spec.limit - 1)]
        return nth[0].id - 1 if nth else 0
    assert spec.since is not None
    first = [
        m
        async for m in client.iter_messages(
            entity, limit=1, offset_date=now - spec.since, reverse=True
        )
    ]
    return first[0].id - 1 if first else await newest_id(client, entity)


async def _pages(
    client: Any,
    channel: Channel,
    metrics: GatewayMetrics,
    flood_sleep: Sleep,
    *,
    after: int,
    until: int | None,
    offset_date: dt.datetime | None = None,
) -> AsyncIterator[list[Any]]:
    """Chunks of messages with ids in (after, until], oldest first, through flood waits."""
    last = after
    while True:
        chunk: list[Any] = []
        try:
            # Telegram takes either an id or a date to start from: the date only on the
            # first request, the last id read after a flood wait.
            kwargs: dict[str, Any] = {"reverse": True}
            if offset_date is not None and last == after:
                kwargs["offset_date"] = offset_date
            else:
                kwargs["min_id"] = last
            if until is not None:
                kwargs["max_id"] = until + 1
            async for message in client.iter_messages(channel.entity, **kwargs):
                chunk.append(message)
                if len(chunk) >= CHUNK:
                    last = chunk[-1].id
                    yield chunk
                    chunk = []
            if chunk:
                yield chunk
            return
        except errors.FloodWaitError as exc:
            if chunk:
                last = chunk[-1].id
                yield chunk
            yield []  # a pause follows: the caller stores what it holds first
            metrics.flood_waits.inc()
            log.warning(
                "telegram flood wait while reading history; sleeping as told",
                extra={"channel_id": channel.id, "seconds": exc.seconds, "after_id": last},
            )
            await flood_sleep(exc.seconds)


async def _outbox_has_room(outbox: Outbox, sleep: Sleep) -> None:
    store = outbox.store
    while store.bytes_used > store.max_bytes * OUTBOX_PAUSE_FRACTION:
        await sleep(1.0)


async def run_backfill(
    client: Any,
    channel: Channel,
    job: BackfillJob,
    outbox: Outbox,
    receiver: Receiver,
    metrics: GatewayMetrics,
    *,
    flood_sleep: Sleep = asyncio.sleep,
    sleep: Sleep = asyncio.sleep,
) -> int:
    """Read the job's ids from its cursor to its end into the outbox; returns how many."""
    read = 0
    log.info("backfill: reading history", extra={**job.as_dict()})
    pending: list[Any] = []

    async def store() -> None:
        nonlocal read, pending
        await _outbox_has_room(outbox, sleep)
        await receiver.accept(
            [Incoming(m, channel.name, "user", False, forward=False) for m in pending]
        )
        read += len(pending)
        await outbox.run(
            outbox.store.advance_backfill, channel.id, pending[-1].id, len(pending), False
        )
        pending = []

    async for chunk in _pages(
        client, channel, metrics, flood_sleep, after=job.cursor, until=job.upto
    ):
        pending.extend(chunk)
        # Pages of 100 are stored 500 at a time (one outbox commit, one api batch),
        # and before any flood wait (an empty chunk), so a wait never holds messages.
        if pending and (len(pending) >= STORE_BATCH or not chunk):
            await store()
    if pending:
        await store()
    await outbox.run(outbox.store.advance_backfill, channel.id, job.upto, 0, True)
    log.info("backfill: done", extra={"channel_id": channel.id, "messages": read})
    return read


async def rescan_edits(
    client: Any,
    channel: Channel,
    outbox: Outbox,
    receiver: Receiver,
    metrics: GatewayMetrics,
    window: dt.timedelta,
    *,
    lowest_known: int,
    flood_sleep: Sleep = asyncio.sleep,
) -> int:
    """Resend messages in the window edited after the newest edit an api accepted."""
    floor = await outbox.run(outbox.store.channel_floor, channel.id)
    if floor is None:
        return 0
    delivered = await outbox.run(outbox.store.delivered_edits, channel.id)
    since = dt.datetime.now(dt.UTC) - window
    resent = 0
    async for chunk in _pages(
        client, channel, metrics, flood_sleep, after=0, until=floor, offset_date=since
    ):
        items = []
        for message in chunk:
            edited = iso(message.edit_date)
            if edited is None or message.id <= lowest_known:
                continue
            if edited > delivered.get(message.id, ""):
                items.append(
                    Incoming(message, channel.name, "user", False, is_edit=True, forward=False)
                )
        if items:
            await receiver.accept(items)
            resent += len(items)
    await outbox.run(outbox.store.prune_edits, time.time() - 2 * window.total_seconds())
    if resent:
        log.info(
            "edit rescan: edits made while away resent",
            extra={"channel_id": channel.id, "messages": resent},
        )
    return resent
