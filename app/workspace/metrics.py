"""The workspace's Prometheus metrics (names kept from the Node service)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from app.db import ERROR_TYPES


class WorkspaceMetrics:
    def __init__(self, registry: CollectorRegistry) -> None:
        self.http_requests = Counter(
            "tradingsystem_http_requests_total",
            "HTTP requests, by method, route pattern and status",
            ["method", "route", "status"],
            registry=registry,
        )
        self.http_duration = Histogram(
            "tradingsystem_http_request_duration_seconds",
            "HTTP request duration",
            ["method", "route", "status"],
            registry=registry,
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.items_count = Gauge(
            "workspace_items_count", "Workspace items in the database", registry=registry
        )
        self.db_connection_status = Gauge(
            "workspace_db_connection_status",
            "1 when the last database check succeeded, 0 otherwise",
            registry=registry,
        )
        self.db_errors = Counter(
            "workspace_db_errors_total",
            "Database errors, by kind",
            ["error_type"],
            registry=registry,
        )
        self.auth_failures = Counter(
            "workspace_auth_failures_total",
            "Writes refused for a missing or wrong X-API-Key",
            registry=registry,
        )
        for error_type in ERROR_TYPES:
            self.db_errors.labels(error_type)
