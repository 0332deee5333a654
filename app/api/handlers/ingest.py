"""POST /ingest and POST /ingest/batch: the producers' contract."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from marshmallow import ValidationError

from app.api.handlers.base import ApiHandler
from app.api.ingest import IngestRecord, build_record, prepare_batch
from app.api.schemas import MAX_BATCH, IngestBatchSchema, IngestMessageSchema
from app.api.store.ingest import DUPLICATE, StoreOutcome, store_payload
from app.web.handlers import ApiError

log = logging.getLogger("app.api.ingest")
_message_schema = IngestMessageSchema()
_batch_schema = IngestBatchSchema()


def signal_view(record: IngestRecord, outcome: StoreOutcome) -> dict[str, Any] | None:
    if record.signal is None:
        return None
    view = record.signal.as_dict()
    view.update(
        id=outcome.signal_id,
        channel_id=record.channel_id,
        channel_name=record.channel_name,
        message_id=record.message_id,
        ts=record.ts,
        source=record.source,
    )
    return view


def answer(record: IngestRecord, outcome: StoreOutcome) -> dict[str, Any]:
    return {
        "status": "ok",
        "duplicate": outcome.duplicate,
        "edited": outcome.edited,
        "parse": {"status": record.parse_status, "reason": record.parse_reason},
        "signal": signal_view(record, outcome),
    }


class _IngestBase(ApiHandler):
    rate_limited = False  # applied after the token check, with the right limiter

    def prepare(self) -> None:
        if self.request.method == "OPTIONS":
            self.apply_rate_limit(self.ctx.limiter, self.client_address())
        try:
            super().prepare()
        except ApiError as exc:
            if exc.status == 413:
                self.ctx.metrics.ingestion_requests.labels("too_large").inc()
            raise

    def on_body_too_large(self) -> None:
        self.ctx.metrics.ingestion_requests.labels("too_large").inc()

    def authenticate(self) -> None:
        given = self.request.headers.get("X-Gateway-Token", "")
        expected = self.ctx.config.gateway_token
        if not hmac.compare_digest(given.encode(), expected.encode()):
            metrics = self.ctx.metrics
            metrics.auth_failures.labels("X-Gateway-Token").inc()
            metrics.ingestion_requests.labels("unauthorized").inc()
            log.warning(
                "rejected gateway token",
                extra={"client": self.client_address(), "present": bool(given)},
            )
            # Failed attempts count against the ordinary limit: no brute force at ingest speed.
            self.apply_rate_limit(self.ctx.limiter, self.client_address())
            raise ApiError(401, "invalid_gateway_token", "missing or wrong X-Gateway-Token")
        try:
            self.apply_rate_limit(self.ctx.ingest_limiter, self.client_address())
        except ApiError:
            self.ctx.metrics.ingestion_requests.labels("rate_limited").inc()
            raise

    def count(self, record: IngestRecord, outcome: StoreOutcome) -> None:
        metrics = self.ctx.metrics
        if outcome.duplicate:
            metrics.child(metrics.ingestion_requests, "duplicate").inc()
            return
        status = "edited" if outcome.edited else "stored"
        metrics.child(metrics.ingestion_requests, status).inc()
        metrics.child(metrics.messages_stored, record.parse_status).inc()
        if outcome.signal_new and record.signal is not None:
            metrics.child(metrics.signals_inserted, record.signal.signal_type).inc()

    def on_database_unavailable(self) -> None:
        self.ctx.metrics.ingestion_requests.labels("db_unavailable").inc()


class IngestHandler(_IngestBase):
    max_body_bytes = 256 * 1024

    async def post(self) -> None:
        body = self.json_body()
        try:
            message = _message_schema.load(body)
        except ValidationError as exc:
            self.ctx.metrics.ingestion_requests.labels("invalid").inc()
            raise ApiError(
                400, "validation_failed", "message failed validation", fields=exc.messages
            ) from None
        record = build_record(0, message)
        outcome = await self.ctx.coalescer.submit(record)
        self.ctx.metrics.db_up.set(1)
        self.count(record, outcome)
        self.write_json(answer(record, outcome))


class IngestBatchHandler(_IngestBase):
    max_body_bytes = 16 * 1024 * 1024

    async def post(self) -> None:
        body = self.json_body()
        if isinstance(body, list):
            body = {"messages": body}
        batch = self.load(_batch_schema, body)
        items = batch["messages"]
        prepared = await self.ctx.parse_pool.run(prepare_batch, items)
        results: list[dict[str, Any]] = [{} for _ in items]
        for index, errors in prepared.invalid.items():
            self.ctx.metrics.ingestion_requests.labels("invalid").inc()
            results[index] = {"index": index, "status": "invalid", "errors": errors}
        outcomes = await store_payload(self.pool, prepared.payload, prepared.survivors)
        self.ctx.metrics.db_up.set(1)
        for record in prepared.records:
            # A copy folded into another one of this batch is a duplicate.
            outcome = outcomes.get(record.index, DUPLICATE)
            self.count(record, outcome)
            results[record.index] = {
                "index": record.index,
                "channelId": record.channel_id,
                "messageId": record.message_id,
                **answer(record, outcome),
            }
        folded = len(prepared.records) - len(prepared.survivors)
        accepted = sum(1 for r in results if r.get("status") == "ok")
        self.write_json(
            {
                "status": "ok",
                "accepted": accepted,
                "duplicates": sum(1 for r in results if r.get("duplicate")),
                "rejected": len(results) - accepted,
                "folded": folded,
                "maxBatch": MAX_BATCH,
                "results": results,
            }
        )
