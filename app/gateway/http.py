"""The gateway's own HTTP surface: /health, /healthz, /metrics, and /backfills (for
`tpcap gateway backfill`, behind the gateway token since the port may be reachable)."""

from __future__ import annotations

import hmac
from typing import Any, Protocol

import tornado.web
from prometheus_client import CollectorRegistry, Histogram

from app.gateway.backfill_request import BackfillRequestError, parse_backfill_request
from app.gateway.config import Backfill
from app.web.handlers import (
    ApiError,
    BaseHandler,
    MetricsHandler,
    NotFoundHandler,
    request_logger,
    route,
)
from app.web.security import CorsPolicy


class HealthSource(Protocol):
    async def health(self) -> dict[str, Any]: ...

    async def request_backfill(self, ref: int | str, spec: Backfill) -> dict[str, Any]: ...

    async def backfills(self) -> list[dict[str, Any]]: ...


class BackfillsHandler(BaseHandler):
    rate_limited = False

    def prepare(self) -> None:
        super().prepare()
        given = self.request.headers.get("X-Gateway-Token", "")
        expected = self.settings["token"]
        if not expected or not hmac.compare_digest(given.encode(), expected.encode()):
            raise ApiError(401, "invalid_gateway_token", "missing or wrong X-Gateway-Token")

    async def get(self) -> None:
        self.write_json({"backfills": await self.settings["gateway"].backfills()})

    async def post(self) -> None:
        try:
            ref, spec = parse_backfill_request(self.json_body())
        except BackfillRequestError as exc:
            raise ApiError(400, "invalid_backfill", str(exc)) from None
        try:
            job = await self.settings["gateway"].request_backfill(ref, spec)
        except LookupError as exc:
            raise ApiError(404, "unknown_channel", str(exc.args[0])) from None
        except ConnectionError as exc:
            raise ApiError(503, "telegram_unavailable", str(exc)) from None
        self.write_json(job, status=202)


class HealthHandler(BaseHandler):
    rate_limited = False

    async def get(self) -> None:
        report = await self.settings["gateway"].health()
        self.write_json(report, status=200 if report["status"] == "ok" else 503)


class LivenessHandler(BaseHandler):
    rate_limited = False

    def get(self) -> None:
        self.write_json({"status": "ok"})


def make_app(
    gateway: HealthSource, registry: CollectorRegistry, token: str = ""
) -> tornado.web.Application:
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
            route("/backfills", BackfillsHandler),
        ],
        gateway=gateway,
        token=token,
        registry=registry,
        cors=CorsPolicy(()),
        default_handler_class=NotFoundHandler,
        log_function=request_logger(duration),
    )
