"""Issue 10 on the workspace, at the HTTP level: huge integers and odd JSON are
400, credentials are checked before the body is read, 405 says what is
allowed, and OPTIONS counts against the rate limit."""

from __future__ import annotations

import pytest

from app.config import DbConfig
from tests.support.http import call
from tests.workspace.support import API_KEY, Client, serve_workspace, workspace_env

HUGE_INT = "9" * 5000
JSON = {"Content-Type": "application/json", "X-API-Key": API_KEY}


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("POST", "/api/items", '{"title": "t", "description": "d", "category": %s}'),
        ("POST", "/items", '{"title": "t", "metadata": {"n": %s}}'),
        ("PATCH", "/api/items/some-id", '{"title": %s}'),
        ("POST", "/api/categories", '{"name": "x", "sort_order": %s}'),
        ("PUT", "/api/categories/dashboard", '{"sort_order": -%s}'),
        ("POST", "/api/categories/validate", '{"name": %s}'),
    ],
)
async def test_huge_integer_is_400(client: Client, method: str, path: str, template: str) -> None:
    answer = await call(method, client.url + path, body=template % HUGE_INT, headers=JSON)
    assert answer.status == 400, answer.body[:300]
    assert answer.json["error"]["code"] == "malformed_json"


async def test_write_without_key_is_refused_before_its_body(client: Client) -> None:
    # Checked in prepare(), before the body is read (tests/integration/test_http_limits.py
    # shows it on a raw socket that never sends the body).
    answer = await call(
        "POST",
        client.url + "/api/items",
        body=b"{}",
        headers={"Content-Type": "application/json", "X-Api-Key": "wrong-key-0123456789"},
    )
    assert answer.status == 401


async def test_public_validation_takes_only_a_small_body(client: Client) -> None:
    big = '{"name": "' + "a" * 20_000 + '"}'
    answer = await call("POST", client.url + "/api/categories/validate", body=big, headers=JSON)
    assert answer.status == 413


async def test_strict_booleans(client: Client) -> None:
    for value in ("1", "0", '"true"', "null"):
        body = f'{{"name": "fresh-one", "is_active": {value}}}'
        answer = await call("POST", client.url + "/api/categories", body=body, headers=JSON)
        assert answer.status == 400, (value, answer.body)
    for query in ("active=1", "active=yes", "active=TRUE"):
        assert (await call("GET", client.url + f"/api/categories?{query}")).status == 400
    assert (await call("GET", client.url + "/api/categories?active=true")).status == 200


async def test_405_names_the_allowed_methods(client: Client) -> None:
    answer = await call("DELETE", client.url + "/api/items", headers={"X-Request-Id": "w-405"})
    assert answer.status == 405
    assert answer.headers["Allow"] == "GET, POST, OPTIONS"
    assert answer.json["error"]["requestId"] == "w-405"


async def test_options_counts_against_the_rate_limit(workspace_db: DbConfig) -> None:
    async with serve_workspace(workspace_env(workspace_db, RATE_LIMIT_MAX="3")) as url:
        statuses = [(await call("OPTIONS", url + "/api/items")).status for _ in range(4)]
        assert statuses == [204, 204, 204, 429]
