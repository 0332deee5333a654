"""The gateway assembled: outbox, publisher, Telegram side and HTTP, started and
stopped in order. `main.py` runs it until SIGTERM; tests run it in-process."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import tornado.httpserver
from prometheus_client import CollectorRegistry
from telethon.sessions import Session

from app.config import token_preview
from app.gateway.apiclient import ApiClient
from app.gateway.clients import ClientFactory
from app.gateway.config import Backfill, GatewayConfig
from app.gateway.http import make_app
from app.gateway.metrics import GatewayMetrics
from app.gateway.outbox import Outbox
from app.gateway.publisher import Publisher
from app.gateway.telegram import CONNECTED, TelegramSide, registry_refs
from app.web.server import listen

log = logging.getLogger("app.gateway")

HEALTH_WRITE_TIMEOUT_S = 3.0


class Gateway:
    def __init__(
        self,
        config: GatewayConfig,
        *,
        factory: ClientFactory,
        registry: CollectorRegistry,
        user_session: Session | None,
        bot_session: Session | None = None,
        flood_sleep: Callable[[float], Awaitable[None]] | None = None,
    ) -> None:
        self.config = config
        self.metrics = GatewayMetrics(registry, config.max_retry_attempts)
        self.registry = registry
        self.outbox = Outbox.open(config.outbox_path, config.outbox_max_bytes)
        self.api = ApiClient(config.endpoints, config.token, config.request_timeout_s)
        self.telegram = TelegramSide(
            config,
            factory,
            self.outbox,
            self.metrics,
            user_session=user_session,
            bot_session=bot_session,
            flood_sleep=flood_sleep,
            fetch_registry=self._fetch_registry,
        )
        self.publisher = Publisher(
            self.outbox,
            self.api,
            self.metrics,
            max_attempts=config.max_retry_attempts,
            retry_delay_s=config.retry_delay_ms / 1000,
            on_delivered=self._after_delivery,
        )
        self.server: tornado.httpserver.HTTPServer | None = None
        self._publisher_task: asyncio.Task[None] | None = None

    async def start(self, address: str = "") -> None:
        released = await self.outbox.run(self.outbox.store.release_all_held)
        if released:
            log.warning(
                "entries held for forwarding at the last stop are published without a forward",
                extra={"count": released},
            )
        self.server = listen(
            make_app(self, self.registry, self.config.token), self.config.port, address
        )
        await self.telegram.load_registry_cache()
        self.telegram.start()
        self._publisher_task = asyncio.create_task(self.publisher.run(), name="publisher")
        self._publisher_task.add_done_callback(_log_crash)
        log.info(
            "gateway started",
            extra={
                "port": self.config.port,
                "endpoints": list(self.config.endpoints),
                "api_token": token_preview(self.config.token),
                "outbox": str(self.config.outbox_path),
                "channels": [str(c) for c in self.config.channels],
            },
        )

    async def stop(self) -> None:
        """HTTP first, then Telethon (it flushes its session), then the outbox."""
        if self.server is not None:
            self.server.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.server.close_all_connections(), 5)
        await self.telegram.stop()
        if self._publisher_task is not None:
            self._publisher_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._publisher_task
        await self.outbox.close()
        self.api.close()
        log.info("gateway stopped")

    async def _fetch_registry(self) -> tuple[int | str, ...]:
        answer = await self.api.get_json("/ingest/channels")
        return registry_refs(answer.body)

    async def request_backfill(self, ref: int | str, spec: Backfill) -> dict[str, Any]:
        """`tpcap gateway backfill`: schedule a history read of a channel listened to."""
        channel = self.telegram.find_channel(ref)
        if channel is None:
            raise LookupError(
                f"{ref} is not a channel this gateway listens to "
                "(add it to TELEGRAM_CHANNELS or the api's channel registry)"
            )
        job = await self.telegram.start_backfill(channel, spec)
        return job.as_dict()

    async def backfills(self) -> list[dict[str, Any]]:
        jobs = await self.outbox.run(self.outbox.store.backfills)
        return [job.as_dict() for job in jobs]

    def _after_delivery(self) -> None:
        store = self.outbox.store
        if store.refusals_pending and store.bytes_used < store.max_bytes / 2:
            store.refusals_pending = False
            log.info("outbox has room again; re-reading channels for refused messages")
            self.telegram.request_catch_up()

    async def health(self) -> dict[str, Any]:
        reasons: list[str] = []
        writable = True
        try:
            await asyncio.wait_for(self.outbox.run(self.outbox.store.touch), HEALTH_WRITE_TIMEOUT_S)
        except Exception as exc:
            writable = False
            reasons.append(f"outbox: not writable ({type(exc).__name__}: {exc})")
        stats = await self.outbox.run(self.outbox.store.stats)
        if self.telegram.state != CONNECTED:
            reasons.append(f"telegram: {self.telegram.state}")
        if self.publisher.status.misconfigured:
            reasons.append(self.publisher.status.misconfigured)
        if stats.bytes_used >= stats.max_bytes * 0.95:
            reasons.append("outbox: full")
        oldest = None
        if stats.oldest_created_at is not None:
            oldest = round(max(0.0, time.time() - stats.oldest_created_at), 3)
        telegram = self.telegram.describe()
        backfills = {job["channelId"]: job for job in await self.backfills()}
        for channel in telegram["channels"]:
            job = backfills.get(channel["id"])
            if job is not None:
                channel["backfill"] = job
                if not job["done"]:
                    channel["state"] = "backfilling"
        return {
            "status": "ok" if not reasons else "unavailable",
            "reasons": reasons,
            "telegram": telegram,
            "outbox": {
                "writable": writable,
                "backlog": stats.pending,
                "deadLetters": stats.dead,
                "oldestEntryAgeSeconds": oldest,
                "bytes": stats.bytes_used,
                "maxBytes": stats.max_bytes,
            },
            "lastPublish": self.publisher.status.as_dict(),
        }


def _log_crash(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("publisher stopped unexpectedly", exc_info=task.exception())
