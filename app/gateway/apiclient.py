"""Talking to the api's ingest contract: one request, tried on each endpoint in turn.

Answers become either a parsed 2xx body or one of the errors below, which say
whether trying again can help. Which endpoint answered last is remembered, so
a healthy api keeps the traffic while the others are down.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPClientError, HTTPRequest, HTTPResponse

log = logging.getLogger("app.gateway.api")


class PublishError(Exception):
    reason = "server_error"
    retryable = True

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        endpoint: str | None = None,
        retry_after: float | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.endpoint = endpoint
        self.retry_after = retry_after
        self.body = body


class Unavailable(PublishError):
    """503, other 5xx, 429, refused connection or timeout: another try may work."""

    def __init__(self, message: str, *, reason: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason


class Misconfigured(PublishError):
    """404, 405, 401, or 400 on the whole request: the URL or the token is wrong.

    Sending again cannot help and dead-lettering would hide the mistake: the
    entries stay pending, the error is loud, and only an operator can fix it.
    """

    reason = "misconfigured"
    retryable = False

    def hint(self) -> str:
        if self.status == 401:
            return "API_SECRET_TOKEN does not match the api's GATEWAY_SECRET_TOKEN"
        return "API_ENDPOINT does not point at the api (it must be its base URL or .../ingest)"


class Unauthorized(Misconfigured):
    """401 from every endpoint: the token is wrong; only an operator can fix it."""

    reason = "unauthorized"


class Rejected(PublishError):
    """400 or 413: the api refuses this content; sending it again cannot help."""

    retryable = False

    def __init__(self, message: str, *, reason: str, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Answer:
    endpoint: str
    status: int
    body: Any


def _retry_after(response: HTTPResponse) -> float | None:
    value = response.headers.get("Retry-After") if response.headers else None
    if value and value.strip().isdigit():
        return float(value.strip())
    return None


def _json(response: HTTPResponse) -> Any:
    try:
        return json.loads(response.body) if response.body else None
    except (ValueError, UnicodeDecodeError):
        return None


def _is_validation_error(body: Any) -> bool:
    """The api's answer to one message it refuses: code validation_failed, field errors."""
    error = body.get("error") if isinstance(body, dict) else None
    return isinstance(error, dict) and error.get("code") == "validation_failed"


class ApiClient:
    def __init__(self, endpoints: tuple[str, ...], token: str, timeout_s: float = 10.0) -> None:
        self.endpoints = endpoints
        self._token = token
        self.timeout_s = timeout_s
        self._preferred = 0
        self.health_misconfigured: Misconfigured | None = None
        self._http = AsyncHTTPClient(force_instance=True, max_clients=8)

    def close(self) -> None:
        self._http.close()

    def _order(self) -> list[str]:
        n = len(self.endpoints)
        return [self.endpoints[(self._preferred + i) % n] for i in range(n)]

    async def _fetch(self, url: str, method: str, body: bytes | None) -> HTTPResponse:
        headers = {"X-Gateway-Token": self._token}
        if body is not None:
            headers["Content-Type"] = "application/json"
        request = HTTPRequest(
            url,
            method=method,
            body=body,
            headers=headers,
            request_timeout=self.timeout_s,
            connect_timeout=self.timeout_s,
            decompress_response=False,
        )
        return await self._http.fetch(request, raise_error=False)

    async def post(self, path: str, body: bytes) -> Answer:
        """POST to the first endpoint that takes it; raise the most telling failure."""
        failures: list[PublishError] = []
        for index, endpoint in enumerate(self._order()):
            error = await self._post_once(endpoint, path, body)
            if isinstance(error, Answer):
                self._preferred = self.endpoints.index(endpoint)
                return error
            if isinstance(error, Rejected):
                raise error
            failures.append(error)
            if index + 1 < len(self.endpoints):
                log.info(
                    "api endpoint failed, trying the next",
                    extra={"endpoint": endpoint, "reason": error.reason, "status": error.status},
                )
        misconfigured = [f for f in failures if isinstance(f, Misconfigured)]
        if len(misconfigured) == len(failures):
            raise misconfigured[0]
        retryable = [f for f in failures if not isinstance(f, Misconfigured)]
        waits = [f.retry_after for f in retryable if f.retry_after is not None]
        last = retryable[-1]
        if waits:
            last.retry_after = min(waits)
        raise last

    async def _post_once(self, endpoint: str, path: str, body: bytes) -> Answer | PublishError:
        try:
            response = await self._fetch(endpoint + path, "POST", body)
        except (OSError, HTTPClientError) as exc:
            return Unavailable(str(exc), reason="connection", endpoint=endpoint)
        status = response.code
        if 200 <= status < 300:
            return Answer(endpoint, status, _json(response))
        if status == 599:
            reason = "timeout" if "Timeout" in type(response.error).__name__ else "connection"
            return Unavailable(str(response.error), reason=reason, endpoint=endpoint)
        body_json = _json(response)
        message = f"{endpoint}{path} answered {status}"
        if status == 401:
            return Unauthorized(message, status=status, endpoint=endpoint)
        if status in (404, 405):
            return Misconfigured(message, status=status, endpoint=endpoint, body=body_json)
        if status == 400:
            if path == "/ingest" and _is_validation_error(body_json):
                return Rejected(
                    message, reason="invalid", status=status, endpoint=endpoint, body=body_json
                )
            # A batch or deletion envelope is the gateway's own making: refused whole,
            # the api at that URL is not the api this gateway speaks to.
            return Misconfigured(message, status=status, endpoint=endpoint, body=body_json)
        if status == 413:
            return Rejected(message, reason="too_large", status=status, endpoint=endpoint)
        if status == 429:
            return Unavailable(
                message,
                reason="rate_limited",
                status=status,
                endpoint=endpoint,
                retry_after=_retry_after(response),
            )
        reason = "unavailable" if status == 503 else "server_error"
        return Unavailable(
            message,
            reason=reason,
            status=status,
            endpoint=endpoint,
            retry_after=_retry_after(response) if status == 503 else None,
        )

    async def healthy_endpoint(self) -> str | None:
        """The first endpoint whose GET /health answers 200, if any.

        `health_misconfigured` keeps the last answer that says the URL is wrong
        (404, 405, 401), so a wait for a healthy api cannot stall silently.
        """
        self.health_misconfigured = None
        for endpoint in self._order():
            try:
                response = await self._fetch(endpoint + "/health", "GET", None)
            except (OSError, HTTPClientError):
                continue
            if response.code == 200:
                self._preferred = self.endpoints.index(endpoint)
                return endpoint
            if response.code in (401, 404, 405):
                self.health_misconfigured = Misconfigured(
                    f"{endpoint}/health answered {response.code}",
                    status=response.code,
                    endpoint=endpoint,
                )
        return None

    async def get_json(self, path: str) -> Answer:
        """GET from the first endpoint that answers 2xx (the channel registry)."""
        failures: list[PublishError] = []
        for endpoint in self._order():
            try:
                response = await self._fetch(endpoint + path, "GET", None)
            except (OSError, HTTPClientError) as exc:
                failures.append(Unavailable(str(exc), reason="connection", endpoint=endpoint))
                continue
            if 200 <= response.code < 300:
                return Answer(endpoint, response.code, _json(response))
            message = f"{endpoint}{path} answered {response.code}"
            if response.code in (400, 401, 404, 405):
                failures.append(Misconfigured(message, status=response.code, endpoint=endpoint))
            else:
                reason = "connection" if response.code == 599 else "server_error"
                failures.append(
                    Unavailable(message, reason=reason, status=response.code, endpoint=endpoint)
                )
        raise failures[-1] if failures else PublishError("no endpoint")
