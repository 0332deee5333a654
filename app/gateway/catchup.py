"""Reading a channel's history after the last message known to be safe.

Live updates alone lose what was posted while the gateway was down or
disconnected, and Telethon's own catch-up only surfaces missed posts with the
next update. So after every (re)connection each channel's history is read
with `iter_messages(min_id=floor, reverse=True)`: oldest first, ids strictly
above the floor. Ids increase but skip, so nothing assumes `floor + 1`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telethon import errors

from app.gateway.metrics import GatewayMetrics
from app.gateway.outbox import Outbox
from app.gateway.receiver import Incoming, Receiver

log = logging.getLogger("app.gateway.catchup")

CHUNK = 100  # Telethon fetches history 100 messages per request


@dataclass
class Channel:
    id: int  # marked id, -100...
    name: str | None
    entity: Any
    source: str = "config"  # TELEGRAM_CHANNELS, the api's registry, or both


async def catch_up_channel(
    client: Any,
    channel: Channel,
    outbox: Outbox,
    receiver: Receiver,
    metrics: GatewayMetrics,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    on_first_sight: Callable[[int], Awaitable[None]] | None = None,
) -> int:
    """Store every message after the channel's floor; returns how many were read.

    The first time a channel is seen its newest id becomes the baseline;
    `on_first_sight(baseline)` may then schedule a bounded backfill of older history.
    """
    floor = await outbox.run(outbox.store.take_catchup_floor, channel.id)
    if floor is None:
        newest = [m async for m in client.iter_messages(channel.entity, limit=1)]
        baseline = newest[0].id if newest else 0
        if on_first_sight is not None:
            # Before the baseline is stored: if this fails, the next catch-up tries again.
            await on_first_sight(baseline)
        await outbox.run(outbox.store.set_meta, f"baseline:{channel.id}", str(baseline))
        await outbox.run(outbox.store.set_baseline, channel.id, baseline)
        log.info(
            "first sight of channel: starting after its newest message",
            extra={"channel_id": channel.id, "message_id": baseline},
        )
        return 0
    last = floor
    read = 0
    try:
        while True:
            chunk: list[Incoming] = []
            try:
                async for message in client.iter_messages(
                    channel.entity, min_id=last, reverse=True
                ):
                    chunk.append(Incoming(message, channel.name, "user", advances_sync=True))
                    if len(chunk) >= CHUNK:
                        await receiver.accept(chunk)
                        last, read, chunk = chunk[-1].message.id, read + len(chunk), []
                if chunk:
                    await receiver.accept(chunk)
                    last, read = chunk[-1].message.id, read + len(chunk)
                break
            except errors.FloodWaitError as exc:
                if chunk:
                    await receiver.accept(chunk)
                    last, read = chunk[-1].message.id, read + len(chunk)
                metrics.flood_waits.inc()
                log.warning(
                    "flood wait during catch-up; waiting as told",
                    extra={"channel_id": channel.id, "seconds": exc.seconds},
                )
                await sleep(exc.seconds)
    except BaseException:
        # Whatever stopped us, the next catch-up must start where this one did not finish.
        await asyncio.shield(outbox.run(outbox.store.mark_refused, channel.id, last + 1))
        raise
    if read:
        log.info(
            "caught up channel history",
            extra={"channel_id": channel.id, "messages": read, "after_id": floor},
        )
    return read
