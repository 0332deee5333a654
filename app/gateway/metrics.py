"""The gateway's Prometheus metrics, with the names of the original design notes.

Label values come from closed sets and are created up front, so a failure
counter exists (at 0) before the first failure.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

FAILURE_REASONS = (
    "unauthorized",  # 401: wrong X-Gateway-Token
    "unavailable",  # 503: the api's database is down
    "server_error",  # other 5xx
    "connection",  # refused, reset, DNS
    "timeout",
    "rate_limited",  # 429
    "invalid",  # 400: dead-lettered
    "too_large",  # 413: dead-lettered
    "exhausted",  # every attempt failed: dead-lettered until an api is healthy
    "outbox_full",  # refused before storing
    "misconfigured",  # 404, 405, or 400 on the whole request: API_ENDPOINT is wrong
)
MISCONFIGURED_STATUSES = ("400", "401", "404", "405")


class GatewayMetrics:
    def __init__(self, registry: CollectorRegistry, max_retry_attempts: int = 3) -> None:
        self.connection_status = Gauge(
            "telegram_connection_status",
            "1 when the Telegram user client is connected and authorised, else 0",
            registry=registry,
        )
        self.messages_received = Counter(
            "telegram_messages_received_total",
            "Channel messages and edits received from Telegram (live and catch-up)",
            ["channel_id", "channel_name"],
            registry=registry,
        )
        self.messages_published = Counter(
            "telegram_messages_published_total",
            "Outbox entries an api acknowledged with 2xx (duplicates included)",
            registry=registry,
        )
        self.publish_failures = Counter(
            "telegram_publish_failures_total",
            "Failed publish attempts and refusals, by reason",
            ["reason"],
            registry=registry,
        )
        self.retry_attempts = Counter(
            "telegram_retry_attempts_total",
            "Publish attempts after the first, by attempt number",
            ["attempt_number"],
            registry=registry,
        )
        self.failure_queue_size = Gauge(
            "telegram_failure_queue_size",
            "Dead-lettered outbox entries (kept on disk, exportable with `tpcap recover`)",
            registry=registry,
        )
        # Beyond the original names: what the outbox size cap and flood waits need.
        self.failure_queue_bytes = Gauge(
            "telegram_failure_queue_bytes",
            "Bytes of the dead-lettered entries (accounted as for OUTBOX_MAX_BYTES)",
            registry=registry,
        )
        self.outbox_entries = Gauge(
            "telegram_outbox_entries", "Outbox entries waiting for delivery", registry=registry
        )
        self.outbox_bytes = Gauge(
            "telegram_outbox_bytes", "Bytes accounted against OUTBOX_MAX_BYTES", registry=registry
        )
        self.outbox_max_bytes = Gauge(
            "telegram_outbox_max_bytes", "OUTBOX_MAX_BYTES", registry=registry
        )
        self.flood_waits = Counter(
            "telegram_flood_waits_total",
            "FloodWaitError answers from Telegram (each waited out as told)",
            registry=registry,
        )
        self.api_misconfigured = Counter(
            "telegram_api_misconfigured_total",
            "Api answers that mean the gateway's configuration is wrong, by HTTP status",
            ["status"],
            registry=registry,
        )
        for status in MISCONFIGURED_STATUSES:
            self.api_misconfigured.labels(status)
        for reason in FAILURE_REASONS:
            self.publish_failures.labels(reason)
        for attempt in range(2, max_retry_attempts + 1):
            self.retry_attempts.labels(str(attempt))
        self.connection_status.set(0)
