"""What happens to a received message: the outbox first, then (maybe) the forward.

Nothing here talks to the api; the publisher picks entries up from the outbox.
A message to forward is stored "held", forwarded, then released with the
forwarded copy's reference, so the api learns where it was forwarded without
the message ever waiting on Telegram before it is on disk.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from telethon import errors
from telethon.tl.custom import Message

from app.gateway.metrics import GatewayMetrics
from app.gateway.outbox import AddResult, Outbox, deletion_entry, new_entry
from app.gateway.payload import Source, forwarded_reference, message_payload

log = logging.getLogger("app.gateway.receiver")

FORWARD_TIMEOUT_S = 15.0
FORWARD_MAX_FLOOD_WAIT_S = 30


@dataclass(frozen=True, slots=True)
class Incoming:
    message: Message
    channel_name: str | None
    source: Source
    advances_sync: bool
    is_edit: bool = False
    forward: bool = True  # False for history reads: old posts are not forwarded again


# (message) -> the forwarded copy; None when forwarding is off
Forward = Callable[[Message], Awaitable[Message | list[Message] | None]]


class Receiver:
    def __init__(
        self,
        outbox: Outbox,
        metrics: GatewayMetrics,
        *,
        forward: Forward | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.outbox = outbox
        self.metrics = metrics
        self.forward = forward
        self._sleep = sleep
        self._forward_lock = asyncio.Lock()  # forwards keep the arrival order

    async def accept(self, items: list[Incoming]) -> list[AddResult]:
        prepared = []
        for item in items:
            payload = message_payload(
                item.message, channel_name=item.channel_name, source=item.source
            )
            held = (
                self.forward is not None
                and item.forward
                and not item.is_edit
                and item.source == "user"
            )
            prepared.append(
                (item, payload, new_entry(payload, held=held, advances_sync=item.advances_sync))
            )
        # Concurrent adds become one transaction (the outbox's group commit).
        results = await asyncio.gather(*(self.outbox.add(entry) for _, _, entry in prepared))
        for (item, payload, entry), result in zip(prepared, results, strict=True):
            channel_id = payload["channelId"]
            self.metrics.messages_received.labels(str(channel_id), item.channel_name or "").inc()
            if result is AddResult.REFUSED:
                self.metrics.publish_failures.labels("outbox_full").inc()
                log.error(
                    "OUTBOX FULL: message refused; it will be re-read from the channel history "
                    "once space is free (raise OUTBOX_MAX_BYTES or fix delivery)",
                    extra={"channel_id": channel_id, "message_id": payload["messageId"]},
                )
            elif result is AddResult.STORED and entry.held:
                async with self._forward_lock:
                    await self._forward_and_release(item.message, payload, entry)
        return list(results)

    async def accept_deletions(self, channel_id: int, message_ids: list[int]) -> None:
        """Deleted in Telegram: recorded on the raw rows by the api, never erased."""
        now = dt.datetime.now(dt.UTC).isoformat()
        entries = [deletion_entry(channel_id, message_id, now) for message_id in message_ids]
        await asyncio.gather(*(self.outbox.add(entry) for entry in entries))
        log.info(
            "channel messages deleted in Telegram",
            extra={"channel_id": channel_id, "message_ids": message_ids[:20]},
        )

    async def _forward_and_release(
        self, message: Message, payload: dict[str, Any], entry: Any
    ) -> None:
        assert self.forward is not None
        reference = None
        for _ in range(2):
            try:
                forwarded = await asyncio.wait_for(self.forward(message), FORWARD_TIMEOUT_S)
                if isinstance(forwarded, list):
                    forwarded = forwarded[0] if forwarded else None
                reference = forwarded_reference(forwarded) if forwarded is not None else None
                break
            except errors.FloodWaitError as exc:
                self.metrics.flood_waits.inc()
                if exc.seconds > FORWARD_MAX_FLOOD_WAIT_S:
                    log.warning(
                        "forward skipped: flood wait too long", extra={"seconds": exc.seconds}
                    )
                    break
                await self._sleep(exc.seconds)
            except Exception as exc:
                log.warning(
                    "forward failed; message published without forwardedTo",
                    extra={"error": f"{type(exc).__name__}: {exc}", "message_id": message.id},
                )
                break
        released = None
        if reference is not None:
            released = json.dumps(
                {**payload, "forwardedTo": reference}, ensure_ascii=False, separators=(",", ":")
            )
        await self.outbox.run(self.outbox.store.release, entry, released)
        self.outbox.changed.set()
