"""The base request handler: JSON in and out, errors as JSON, request ids,
CORS, security headers and rate limiting. Service handlers stay thin on top."""

from __future__ import annotations

import itertools
import json
import logging
import re
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import tornado.web
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from app.logs import ring_buffer
from app.web import jsonutil
from app.web.ratelimit import RateLimiter
from app.web.security import SECURITY_HEADERS, CorsPolicy

log = logging.getLogger("app.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
# Generated request ids: 32 hex digits like a uuid4, from a random per-process
# prefix and a counter, without a call to the kernel's random source per request.
_ID_PREFIX = uuid.uuid4().hex[:16]
_id_counter = itertools.count()
# Set on every answer; validated once here rather than by set_header per request.
_DEFAULT_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Type": "application/json; charset=utf-8",
    "Cache-Control": "no-store",
}


class ApiError(Exception):
    """An error answer: HTTP status, a stable code, a message, optional field errors."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        fields: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.fields = fields
        self.headers = headers or {}


class BaseHandler(tornado.web.RequestHandler):
    route = "unmatched"
    rate_limited = True
    max_body_bytes = 1_048_576

    def initialize(self, route: str = "unmatched") -> None:
        self.route = route
        self.request_id = ""
        self._sticky: dict[str, str] = {}

    # -- plumbing -------------------------------------------------------------
    def set_default_headers(self) -> None:
        self.clear_header("Server")
        self._headers.update(_DEFAULT_HEADERS)

    @property
    def cors(self) -> CorsPolicy:
        return self.settings["cors"]

    def client_address(self) -> str:
        return self.request.remote_ip or "unknown"

    def sticky_header(self, name: str, value: str) -> None:
        """A header that must survive an error answer (send_error clears headers)."""
        self._sticky[name] = value
        self.set_header(name, value)

    def prepare(self) -> None:
        self._counted = True
        inflight = self.settings.setdefault("inflight", [0])
        inflight[0] += 1
        incoming = self.request.headers.get("X-Request-Id", "")
        self.request_id = (
            incoming if _REQUEST_ID.match(incoming) else f"{_ID_PREFIX}{next(_id_counter):016x}"
        )
        self.sticky_header("X-Request-Id", self.request_id)
        origin = self.cors.allowed_origin(self.request.headers.get("Origin"))
        if origin:
            self.sticky_header("Access-Control-Allow-Origin", origin)
            self.sticky_header("Access-Control-Expose-Headers", self.cors.expose_headers)
            if origin != "*":
                self.sticky_header("Vary", "Origin")
        if self.request.method == "OPTIONS":
            return
        length = self.request.headers.get("Content-Length")
        if length and length.isdigit() and int(length) > self.max_body_bytes:
            raise ApiError(
                413,
                "payload_too_large",
                f"request body of {length} bytes exceeds the limit of {self.max_body_bytes}",
            )
        if len(self.request.body) > self.max_body_bytes:
            raise ApiError(
                413, "payload_too_large", f"request body exceeds {self.max_body_bytes} bytes"
            )
        if self.rate_limited:
            self.apply_rate_limit(self.rate_limiter(), self.client_address())

    def compute_etag(self) -> str | None:
        # Answers are Cache-Control: no-store, so an ETag (a SHA-1 of every body) buys nothing.
        return None

    def rate_limiter(self) -> RateLimiter:
        return self.settings["rate_limiter"]

    def apply_rate_limit(self, limiter: RateLimiter, key: str) -> None:
        decision = limiter.hit(key)
        for name, value in decision.headers().items():
            self.sticky_header(name, value)
        if not decision.allowed:
            raise ApiError(
                429,
                "rate_limited",
                f"more than {decision.limit} requests in the current window; "
                f"retry after {decision.reset_seconds} s",
                headers={"Retry-After": str(decision.reset_seconds)},
            )

    def on_finish(self) -> None:
        if getattr(self, "_counted", False):
            self.settings["inflight"][0] -= 1
            self._counted = False

    def options(self, *args: Any, **kwargs: Any) -> None:
        origin = self.cors.allowed_origin(self.request.headers.get("Origin"))
        if origin:
            self.set_header("Access-Control-Allow-Methods", self.cors.allow_methods)
            self.set_header("Access-Control-Allow-Headers", self.cors.allow_headers)
            self.set_header("Access-Control-Max-Age", str(self.cors.max_age))
        self.set_status(204)
        self.finish()

    # -- input and output -----------------------------------------------------
    def json_body(self) -> Any:
        if not self.request.body:
            raise ApiError(400, "empty_body", "request body must be a JSON document")
        content_type = self.request.headers.get("Content-Type", "application/json")
        if "json" not in content_type.lower():
            raise ApiError(
                415,
                "unsupported_media_type",
                f"Content-Type must be application/json, got {content_type!r}",
            )
        try:
            return json.loads(self.request.body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(
                400, "malformed_json", f"request body is not valid JSON: {exc}"
            ) from None
        except RecursionError:
            raise ApiError(400, "malformed_json", "request body is nested too deeply") from None

    def write_json(self, value: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(jsonutil.dumps_bytes(value))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        for name, value in self._sticky.items():
            self.set_header(name, value)
        if isinstance(exc, ApiError):
            for name, value in exc.headers.items():
                self.set_header(name, value)
            body: dict[str, Any] = {"code": exc.code, "message": exc.message}
            if exc.fields is not None:
                body["fields"] = exc.fields
        elif isinstance(exc, tornado.web.HTTPError):
            reason = exc.log_message or HTTPStatus(status_code).phrase
            code = HTTPStatus(status_code).phrase.lower().replace(" ", "_")
            body = {"code": code, "message": reason % exc.args if exc.args else reason}
        else:
            body = {"code": "internal_error", "message": "internal server error"}
        body["status"] = status_code
        body["requestId"] = self.request_id
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(jsonutil.dumps_bytes({"error": body}))

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, ApiError):
            status_code = exc.status
        super().send_error(status_code, **kwargs)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if isinstance(value, ApiError | tornado.web.HTTPError):
            return
        log.error(
            "unhandled error",
            exc_info=(typ, value, tb),
            extra={"request_id": self.request_id, "route": self.route},
        )

    def query_int(self, name: str, default: int, minimum: int, maximum: int) -> int:
        raw = self.get_query_argument(name, None)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ApiError(
                400, "invalid_query", f"{name} must be an integer", fields={name: [raw]}
            ) from None
        if not minimum <= value <= maximum:
            raise ApiError(
                400,
                "invalid_query",
                f"{name} must be between {minimum} and {maximum}",
                fields={name: [f"got {value}"]},
            )
        return value


class NotFoundHandler(BaseHandler):
    rate_limited = False

    def prepare(self) -> None:
        super().prepare()
        raise ApiError(404, "not_found", f"no route for {self.request.method} {self.request.path}")


class MetricsHandler(BaseHandler):
    rate_limited = False

    def get(self) -> None:
        registry: CollectorRegistry = self.settings["registry"]
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(generate_latest(registry))


class LogsHandler(BaseHandler):
    def get(self) -> None:
        limit = self.query_int("limit", 200, 1, 500)
        level = self.get_query_argument("level", None)
        if level and level.lower() not in ("debug", "info", "warning", "error", "critical"):
            raise ApiError(400, "invalid_query", f"unknown level {level!r}")
        records = ring_buffer().tail(limit, level)
        self.write_json({"count": len(records), "logs": records})


def request_logger(histogram: Histogram) -> Callable[[tornado.web.RequestHandler], None]:
    """Tornado `log_function`: one JSON line and one histogram sample per request."""

    children: dict[tuple[str, str, int], Any] = {}  # labels() takes a lock and builds a key

    def log_request(handler: tornado.web.RequestHandler) -> None:
        status = handler.get_status()
        duration = handler.request.request_time()
        route = getattr(handler, "route", "unmatched")
        key = (handler.request.method or "", route, status)
        child = children.get(key)
        if child is None:
            child = children[key] = histogram.labels(key[0], route, str(status))
        child.observe(duration)
        level = logging.WARNING if status >= 500 else logging.DEBUG
        if status >= 400 and status != 404:
            level = max(level, logging.INFO)
        if log.isEnabledFor(level):
            log.log(
                level,
                "request",
                extra={
                    "method": handler.request.method,
                    "path": handler.request.path,
                    "route": route,
                    "status": status,
                    "duration_ms": round(duration * 1000, 2),
                    "client": handler.request.remote_ip,
                    "request_id": getattr(handler, "request_id", ""),
                },
            )

    return log_request


def route(pattern: str, handler: type[tornado.web.RequestHandler], **kwargs: Any) -> Any:
    """A URL rule whose pattern becomes the handler's `route` label."""
    return tornado.web.url(pattern, handler, {"route": pattern, **kwargs})
