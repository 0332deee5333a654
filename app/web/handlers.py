"""The base request handler: JSON in and out, errors as JSON, request ids,
CORS, security headers and rate limiting. Service handlers stay thin on top."""

from __future__ import annotations

import itertools
import logging
import re
import time
import uuid
from collections.abc import Callable
from http import HTTPStatus
from typing import Any

import tornado.web
from prometheus_client import CollectorRegistry, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from tornado import httputil

from app.logs import ring_buffer
from app.web import jsonutil
from app.web.ratelimit import RateLimiter
from app.web.security import SECURITY_HEADERS, CorsPolicy

log = logging.getLogger("app.http")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
_CONTENT_LENGTH = re.compile(r"^[0-9]{1,19}$")
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


_date: tuple[int, str] = (0, "")


def _http_date() -> str:
    """The Date header's text for the current second."""
    global _date
    now = int(time.time())
    if _date[0] != now:
        _date = (now, httputil.format_timestamp(now))
    return _date[1]


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


def _skip_method(*args: Any, **kwargs: Any) -> None:
    """Stands in for the HTTP method once a streamed body has been refused."""


@tornado.web.stream_request_body
class BaseHandler(tornado.web.RequestHandler):
    """Every handler streams its body: `prepare` runs as soon as the headers are in,
    so credentials and the declared length are checked before a byte of the body
    is read, and `data_received` keeps at most `max_body_bytes` of it."""

    route = "unmatched"
    rate_limited = True
    max_body_bytes = 1_048_576
    # Methods that change something need the handler's credential (see `authenticate`).
    WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

    def initialize(self, route: str = "unmatched") -> None:
        self.route = route
        self._sticky: dict[str, str] = {}
        self._body = bytearray()
        # Set here, not in prepare: a 405 for an unknown method is answered before prepare.
        incoming = self.request.headers.get("X-Request-Id", "")
        self.request_id = (
            incoming if _REQUEST_ID.match(incoming) else f"{_ID_PREFIX}{next(_id_counter):016x}"
        )
        self.sticky_header("X-Request-Id", self.request_id)

    # -- plumbing -------------------------------------------------------------
    def clear(self) -> None:
        # tornado.web.RequestHandler.clear, without its Server header and with the
        # Date header formatted once per second rather than per request (6 µs).
        self._headers = httputil.HTTPHeaders({"Date": _http_date()})
        self.set_default_headers()
        self._write_buffer: list[bytes] = []
        self._status_code = 200
        self._reason = httputil.responses[200]

    def set_default_headers(self) -> None:
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

    @classmethod
    def allowed_methods(cls) -> list[str]:
        """The methods this handler implements, for 405 answers' Allow header."""
        return [
            method
            for method in cls.SUPPORTED_METHODS
            if getattr(cls, method.lower(), None)
            is not getattr(tornado.web.RequestHandler, method.lower(), None)
        ]

    def prepare(self) -> None:
        self._counted = True
        inflight = self.settings.setdefault("inflight", [0])
        inflight[0] += 1
        origin = self.cors.allowed_origin(self.request.headers.get("Origin"))
        if origin:
            self.sticky_header("Access-Control-Allow-Origin", origin)
            self.sticky_header("Access-Control-Expose-Headers", self.cors.expose_headers)
            if origin != "*":
                self.sticky_header("Vary", "Origin")
        if self.rate_limited:
            self.apply_rate_limit(self.rate_limiter(), self.client_address())
        if self.request.method == "OPTIONS":
            return
        self.check_method()
        self.authenticate()
        length = self.request.headers.get("Content-Length", "")
        if length and not _CONTENT_LENGTH.match(length):  # str.isdigit() takes "²" too
            raise ApiError(400, "invalid_header", "Content-Length must be a decimal number")
        if length and int(length) > self.max_body_bytes:
            raise ApiError(
                413,
                "payload_too_large",
                f"request body of {length} bytes exceeds the limit of {self.max_body_bytes}",
            )
        arguments = self.request.query_arguments
        repeated = [name for name, values in arguments.items() if len(values) > 1]
        if repeated:  # which one would count? The request is ambiguous.
            raise ApiError(
                400,
                "invalid_query",
                "query parameters given more than once",
                fields={name: ["given more than once"] for name in repeated},
            )
        self.request.body = self._body  # type: ignore[assignment]  # filled as it streams in

    def check_method(self) -> None:
        """405 before credentials or body: a method the route lacks is never a 401."""
        if self.request.method not in self.allowed_methods():
            raise tornado.web.HTTPError(405)

    def authenticate(self) -> None:
        """Hook: raise ApiError (401/403) when the request lacks its credential.

        Runs in `prepare`, after the headers and before the body is read, so a
        request without credentials never makes the process hold its body.
        """

    def data_received(self, chunk: bytes) -> None:
        if self._finished:
            return  # answered early; the rest of the body is dropped
        if len(self._body) + len(chunk) > self.max_body_bytes:
            # A chunked (or lying) body past the limit: answer now, keep nothing.
            self._body.clear()
            # Tornado still calls the method once the body ends; it must not run.
            setattr(self, (self.request.method or "get").lower(), _skip_method)
            error = ApiError(
                413, "payload_too_large", f"request body exceeds {self.max_body_bytes} bytes"
            )
            self.on_body_too_large()
            self.send_error(413, exc_info=(ApiError, error, None))
            return
        self._body += chunk

    def on_body_too_large(self) -> None:
        """Hook for handlers that count their own outcomes."""

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
        if not self._body:
            raise ApiError(400, "empty_body", "request body must be a JSON document")
        content_type = self.request.headers.get("Content-Type", "application/json")
        if "json" not in content_type.lower():
            raise ApiError(
                415,
                "unsupported_media_type",
                f"Content-Type must be application/json, got {content_type!r}",
            )
        try:
            return jsonutil.loads(self._body)
        except jsonutil.BadJson as exc:
            raise ApiError(
                400, "malformed_json", f"request body is not valid JSON: {exc}"
            ) from None

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
        if status_code == 405:
            self.set_header("Allow", ", ".join(self.allowed_methods()))
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

    def check_method(self) -> None:
        raise ApiError(404, "not_found", f"no route for {self.request.method} {self.request.path}")

    def prepare(self) -> None:
        super().prepare()
        self.check_method()  # OPTIONS too


class MetricsHandler(BaseHandler):
    rate_limited = False

    def get(self) -> None:
        registry: CollectorRegistry = self.settings["registry"]
        self.set_header("Content-Type", CONTENT_TYPE_LATEST)
        self.finish(generate_latest(registry))


class LogsHandler(BaseHandler):
    """Recent log records. They hold client addresses and error details, so a
    service routes a subclass whose `authenticate` demands its API key."""

    def authenticate(self) -> None:
        raise ApiError(403, "logs_disabled", "this service does not serve its logs")

    def get(self) -> None:
        limit = self.query_int("limit", 200, 1, 500)
        level = self.get_query_argument("level", None)
        if level is not None and level not in ("debug", "info", "warning", "error", "critical"):
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
