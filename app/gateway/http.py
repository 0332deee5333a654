"""The gateway's own HTTP surface: /health, /healthz and /metrics."""

from __future__ import annotations

from typing import Any, Protocol

import tornado.web
from prometheus_client import CollectorRegistry, Histogram

from app.web.handlers import BaseHandler, MetricsHandler, NotFoundHandler, request_logger, route
from app.web.security import CorsPolicy


class HealthSource(Protocol):
    async def health(self) -> dict[str, Any]: ...


class HealthHandler(BaseHandler):
    rate_limited = False

    async def get(self) -> None:
        report = await self.settings["gateway"].health()
        self.write_json(report, status=200 if report["status"] == "ok" else 503)


class LivenessHandler(BaseHandler):
    rate_limited = False

    def get(self) -> None:
        self.write_json({"status": "ok"})


def make_app(gateway: HealthSource, registry: CollectorRegistry) -> tornado.web.Application:
    duration = Histogram(
        "gateway_http_request_duration_seconds",
        "Gateway HTTP request duration",
        ["method", "route", "status"],
        registry=registry,
    )
    return tornado.web.Application(
        [
            route("/health", HealthHandler),
            route("/healthz", LivenessHandler),
            route("/metrics", MetricsHandler),
        ],
        gateway=gateway,
        registry=registry,
        cors=CorsPolicy(()),
        default_handler_class=NotFoundHandler,
        log_function=request_logger(duration),
    )
