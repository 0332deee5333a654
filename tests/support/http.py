"""A small HTTP client for tests: real HTTP over loopback, answers never raise."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from tornado.httpclient import AsyncHTTPClient, HTTPRequest


@dataclass
class Response:
    status: int
    headers: Any
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


async def call(
    method: str,
    url: str,
    *,
    json_body: Any = None,
    body: bytes | str | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30.0,
) -> Response:
    headers = dict(headers or {})
    if json_body is not None:
        body = json.dumps(json_body)
        headers.setdefault("Content-Type", "application/json")
    if body is None and method in ("POST", "PUT", "PATCH"):
        body = b""
    request = HTTPRequest(
        url,
        method=method,
        body=body,
        headers=headers,
        request_timeout=timeout,
        connect_timeout=timeout,
        allow_nonstandard_methods=True,
    )
    answer = await AsyncHTTPClient().fetch(request, raise_error=False)
    if answer.code == 599:
        raise ConnectionError(f"{method} {url}: {answer.error}")
    return Response(answer.code, answer.headers, answer.body or b"")
