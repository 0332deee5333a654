"""Delivering the outbox to the api, oldest first, and removing only what it accepted.

One loop takes the oldest deliverable entries: one entry goes to POST /ingest,
a backlog to POST /ingest/batch. Each request is retried with tenacity
(exponential backoff from RETRY_DELAY_MS, MAX_RETRY_ATTEMPTS attempts, every
endpoint tried in each attempt). When the attempts run out the entries are
dead-lettered (kept on disk) and nothing more is sent until an api answers
/health with 200; then the dead letters are revived and go first, so each
channel stays in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from app.gateway.apiclient import ApiClient, Misconfigured, PublishError, Rejected
from app.gateway.metrics import GatewayMetrics
from app.gateway.outbox import Entry, Outbox

log = logging.getLogger("app.gateway.publisher")

MAX_BATCH = 500  # the api's limit for /ingest/batch
MAX_BATCH_BYTES = 8 * 1024 * 1024  # half the api's body limit for a batch
UNAUTHORIZED_MAX_BACKOFF_S = 300.0
HEALTH_POLL_MAX_S = 5.0
REVIVE_CHECK_INTERVAL_S = 30.0
GAUGE_REFRESH_S = 1.0


@dataclass
class PublishStatus:
    """What /health reports about the last request."""

    ok: bool | None = None
    at: float | None = None
    endpoint: str | None = None
    status: int | None = None
    reason: str | None = None
    delivered: int = 0
    waiting_for_api: bool = False
    # Set while an api answer says the gateway's configuration is wrong; /health reports it.
    misconfigured: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "at": dt.datetime.fromtimestamp(self.at, dt.UTC).isoformat() if self.at else None,
            "endpoint": self.endpoint,
            "httpStatus": self.status,
            "reason": self.reason,
            "deliveredInLastRequest": self.delivered,
            "waitingForHealthyApi": self.waiting_for_api,
            "misconfigured": self.misconfigured,
        }


def batch_body(entries: list[Entry]) -> bytes:
    # Payloads are stored already serialised: join them instead of re-encoding.
    return ('{"messages":[' + ",".join(e.payload for e in entries) + "]}").encode()


@dataclass(frozen=True, slots=True)
class BatchOutcome:
    delivered: list[int]
    invalid: list[tuple[int, str]]  # (seq, errors as JSON)


def read_batch_answer(entries: list[Entry], body: Any) -> BatchOutcome:
    """Which entries the api accepted (duplicates included) and which it refused."""
    results = body.get("results") if isinstance(body, dict) else None
    if not isinstance(results, list) or len(results) != len(entries):
        raise PublishError("batch answer without one result per message", body=body)
    delivered: list[int] = []
    invalid: list[tuple[int, str]] = []
    for result in results:
        entry = entries[result["index"]]
        if result.get("status") == "ok":
            delivered.append(entry.seq)
        else:
            invalid.append((entry.seq, json.dumps(result.get("errors"), ensure_ascii=False)))
    return BatchOutcome(delivered, invalid)


class Publisher:
    def __init__(
        self,
        outbox: Outbox,
        api: ApiClient,
        metrics: GatewayMetrics,
        *,
        max_attempts: int,
        retry_delay_s: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        on_delivered: Callable[[], None] | None = None,
    ) -> None:
        self.outbox = outbox
        self.api = api
        self.metrics = metrics
        self.max_attempts = max_attempts
        self.retry_delay_s = retry_delay_s
        self._sleep = sleep
        self.status = PublishStatus()
        self._unauthorized_backoff = retry_delay_s
        self._last_revive_check = 0.0
        self._gauges_at = 0.0
        self._on_delivered = on_delivered

    # -- the loop -------------------------------------------------------------
    async def run(self) -> None:
        await self.refresh_gauges(force=True)
        await self._revive_if_healthy(force=True)
        while True:
            try:
                await self._step()
            except asyncio.CancelledError:
                raise
            except Exception:
                # Entries stay in the outbox; a bug or a disk hiccup must not stop delivery.
                log.exception("publisher step failed; retrying")
                await self._sleep(self.retry_delay_s)

    async def _step(self) -> None:
        await self._revive_if_healthy()
        self.outbox.changed.clear()
        batch = await self.outbox.run(self.outbox.store.next_batch, MAX_BATCH, MAX_BATCH_BYTES)
        if not batch:
            await self.refresh_gauges(force=True)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.outbox.changed.wait(), REVIVE_CHECK_INTERVAL_S)
            return
        await self.deliver(batch)
        await self.refresh_gauges()

    async def deliver(self, batch: list[Entry]) -> None:
        try:
            outcome = await self._with_retries(batch)
        except Misconfigured as exc:
            self._record_misconfiguration(exc)
            await self._sleep(self._unauthorized_backoff)
            self._unauthorized_backoff = min(
                self._unauthorized_backoff * 2, UNAUTHORIZED_MAX_BACKOFF_S
            )
            return
        except Rejected as exc:
            self._record_failure(exc)
            if len(batch) > 1:
                # The batch as a whole was refused (too large, most likely): one by one
                # finds the entry at fault without holding back the others.
                for entry in batch:
                    await self.deliver([entry])
                return
            log.error(
                "api refused a message; dead-lettered",
                extra={"reason": exc.reason, "status": exc.status, "seq": batch[0].seq},
            )
            errors = json.dumps(exc.body, ensure_ascii=False) if exc.body else str(exc)
            await self.outbox.run(self.outbox.store.dead_letter, [batch[0].seq], exc.reason, errors)
            return
        except PublishError as exc:
            self._record_failure(exc)
            self.metrics.publish_failures.labels("exhausted").inc(len(batch))
            log.error(
                "publishing failed after every attempt; entries dead-lettered until an api "
                "is healthy",
                extra={"entries": len(batch), "reason": exc.reason, "attempts": self.max_attempts},
            )
            await self.outbox.run(
                self.outbox.store.dead_letter, [e.seq for e in batch], "exhausted", str(exc)
            )
            await self.refresh_gauges(force=True)
            await self._wait_until_healthy()
            return
        self._unauthorized_backoff = self.retry_delay_s
        self.status.misconfigured = None
        await self.outbox.run(self.outbox.store.mark_delivered, outcome.delivered)
        if outcome.invalid:
            self.metrics.publish_failures.labels("invalid").inc(len(outcome.invalid))
            log.error(
                "api refused messages in a batch; dead-lettered",
                extra={"count": len(outcome.invalid)},
            )
            for seq, errors in outcome.invalid:
                await self.outbox.run(self.outbox.store.dead_letter, [seq], "invalid", errors)
        self.metrics.messages_published.inc(len(outcome.delivered))
        self.status.delivered = len(outcome.delivered)
        if self._on_delivered is not None:
            self._on_delivered()

    async def _with_retries(self, batch: list[Entry]) -> BatchOutcome:
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception(lambda exc: isinstance(exc, PublishError) and exc.retryable),
            sleep=self._sleep,
            before_sleep=self._before_sleep,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                number = attempt.retry_state.attempt_number
                if number > 1:
                    self.metrics.retry_attempts.labels(str(number)).inc()
                return await self._send(batch)
        raise AssertionError("unreachable: tenacity reraises")  # pragma: no cover

    async def _send(self, batch: list[Entry]) -> BatchOutcome:
        if batch[0].is_deletion:
            body = '{"deletions":[' + ",".join(e.payload for e in batch) + "]}"
            answer = await self.api.post("/ingest/deletions", body.encode())
            outcome = BatchOutcome([e.seq for e in batch], [])
        elif len(batch) == 1:
            answer = await self.api.post("/ingest", batch[0].payload.encode())
            outcome = BatchOutcome([batch[0].seq], [])
        else:
            answer = await self.api.post("/ingest/batch", batch_body(batch))
            outcome = read_batch_answer(batch, answer.body)
        self.status.ok = True
        self.status.at = time.time()
        self.status.endpoint = answer.endpoint
        self.status.status = answer.status
        self.status.reason = None
        self.status.waiting_for_api = False
        return outcome

    def _wait(self, state: RetryCallState) -> float:
        backoff = wait_exponential(multiplier=self.retry_delay_s, max=self.retry_delay_s * 64)(
            state
        )
        exc = state.outcome.exception() if state.outcome else None
        retry_after = getattr(exc, "retry_after", None) or 0.0
        return max(backoff, retry_after)

    def _before_sleep(self, state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, PublishError):
            self._record_failure(exc)
            log.warning(
                "publish attempt failed; retrying",
                extra={
                    "attempt": state.attempt_number,
                    "reason": exc.reason,
                    "status": exc.status,
                    "wait_s": round(state.upcoming_sleep, 3),
                },
            )

    def _record_failure(self, exc: PublishError) -> None:
        self.metrics.publish_failures.labels(exc.reason).inc()
        self.status.ok = False
        self.status.at = time.time()
        self.status.endpoint = exc.endpoint
        self.status.status = exc.status
        self.status.reason = exc.reason
        self.status.delivered = 0

    def _record_misconfiguration(self, exc: Misconfigured) -> None:
        """Loud: one error line naming the URL and status, /health 503, a metric by status."""
        self._record_failure(exc)
        self.metrics.api_misconfigured.labels(str(exc.status)).inc()
        url = str(exc).rsplit(" answered ", 1)[0]
        self.status.misconfigured = f"api: {url} answered {exc.status}: {exc.hint()}"
        log.error(
            "API ANSWER MEANS A WRONG CONFIGURATION (%s %s): %s; messages are kept in the outbox",
            exc.status,
            url,
            exc.hint(),
            extra={"url": url, "status": exc.status, "retry_in_s": self._unauthorized_backoff},
        )

    # -- dead letters ---------------------------------------------------------
    async def _wait_until_healthy(self) -> None:
        self.status.waiting_for_api = True
        delay = min(self.retry_delay_s, HEALTH_POLL_MAX_S)
        while await self.api.healthy_endpoint() is None:
            wrong = self.api.health_misconfigured
            if wrong is not None:
                self._record_misconfiguration(wrong)
                delay = self._unauthorized_backoff
                self._unauthorized_backoff = min(delay * 2, UNAUTHORIZED_MAX_BACKOFF_S)
            await self._sleep(delay)
            delay = min(delay * 2, HEALTH_POLL_MAX_S)
        self.status.waiting_for_api = False
        self.status.misconfigured = None
        await self._revive()

    async def _revive_if_healthy(self, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last_revive_check < REVIVE_CHECK_INTERVAL_S:
            return
        self._last_revive_check = now
        stats = await self.outbox.run(self.outbox.store.stats)
        if stats.dead and await self.api.healthy_endpoint() is not None:
            await self._revive()

    async def _revive(self) -> None:
        revived = await self.outbox.run(self.outbox.store.revive_dead)
        if revived:
            log.info("an api is healthy again; dead letters back in line", extra={"count": revived})
        await self.refresh_gauges(force=True)

    async def refresh_gauges(self, *, force: bool = False) -> None:
        # Counting a 100,000-entry backlog takes milliseconds: not after every batch.
        now = time.monotonic()
        if not force and now - self._gauges_at < GAUGE_REFRESH_S:
            return
        self._gauges_at = now
        stats = await self.outbox.run(self.outbox.store.stats)
        self.metrics.outbox_entries.set(stats.pending)
        self.metrics.failure_queue_size.set(stats.dead)
        self.metrics.failure_queue_bytes.set(stats.dead_bytes)
        self.metrics.outbox_bytes.set(stats.bytes_used)
        self.metrics.outbox_max_bytes.set(stats.max_bytes)
