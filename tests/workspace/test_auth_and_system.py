"""Write credentials, CORS, rate limits, health, readiness, metrics, OpenAPI, config."""

from __future__ import annotations

import asyncio
import logging

import pytest
from prometheus_client import CollectorRegistry

from app.config import ConfigError, DbConfig, Env
from app.localpg import free_port
from app.workspace import main
from app.workspace.config import WorkspaceConfig
from tests.support.http import call
from tests.workspace.support import API_KEY, Client, new_item, serve_workspace, workspace_env

WRITES = [
    ("POST", "/api/items", new_item()),
    ("PATCH", "/api/items/some-id", {"title": "x"}),
    ("PUT", "/api/items/some-id", {"title": "x"}),
    ("DELETE", "/api/items/some-id", None),
    ("POST", "/api/categories", {"name": "x"}),
    ("PATCH", "/api/categories/dashboard", {"sort_order": 1}),
    ("DELETE", "/api/categories/dashboard", None),
    ("PATCH", "/api/categories/dashboard/toggle", None),
]


@pytest.mark.parametrize(("method", "path", "body"), WRITES)
async def test_writes_need_the_key(client: Client, method: str, path: str, body: object) -> None:
    client.key = None
    answer = await client.request(method, path, body)
    assert answer.status == 401
    assert answer.json["error"]["code"] == "invalid_api_key"
    client.key = "wrong-key-0123456789abcdef"
    assert (await client.request(method, path, body)).status == 401


async def test_writes_refused_when_no_key_is_configured(workspace_db: DbConfig) -> None:
    env = workspace_env(workspace_db, WORKSPACE_API_KEY="")
    async with serve_workspace(env) as url:
        client = Client(url)
        answer = await client.post("/api/items", new_item())
        assert answer.status == 403
        assert answer.json["error"]["code"] == "writes_disabled"
        assert (await client.get("/api/items")).status == 200
        assert (await client.get("/")).json["writes"] == "disabled"


async def test_tp_capital_api_key_is_the_fallback(workspace_db: DbConfig) -> None:
    key = "operators-shared-key-0123456789"
    env = workspace_env(workspace_db, WORKSPACE_API_KEY="", TP_CAPITAL_API_KEY=key)
    async with serve_workspace(env) as url:
        assert (await Client(url, key=key).post("/api/items", new_item())).status == 201
        assert (await Client(url).post("/api/items", new_item())).status == 401


def test_config_defaults_and_errors() -> None:
    config = WorkspaceConfig.from_env(Env({}))
    assert config.port == 3200
    assert (config.db.database, config.db.schema, config.db.port) == (
        "APPS-WORKSPACE",
        "workspace",
        5433,
    )
    assert config.api_key is None
    assert config.lowdb_requested is False
    config = WorkspaceConfig.from_env(
        Env({"LIBRARY_DB_STRATEGY": "lowdb", "TIMESCALEDB_DATABASE": "other", "PORT": "3300"})
    )
    assert config.lowdb_requested and config.db.database == "other" and config.port == 3300
    with pytest.raises(ConfigError, match="WORKSPACE_API_KEY"):
        WorkspaceConfig.from_env(Env({"WORKSPACE_API_KEY": "short"}))
    with pytest.raises(ConfigError, match="LIBRARY_DB_STRATEGY"):
        WorkspaceConfig.from_env(Env({"LIBRARY_DB_STRATEGY": "mongodb"}))
    with pytest.raises(ConfigError, match="RATE_LIMIT_MAX"):
        WorkspaceConfig.from_env(Env({"RATE_LIMIT_MAX": "lots"}))


async def test_lowdb_strategy_logs_a_warning(
    workspace_db: DbConfig, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = workspace_env(workspace_db, LIBRARY_DB_STRATEGY="lowdb", PORT=str(free_port()))
    config = WorkspaceConfig.from_env(Env(env))

    async def stop_at_once() -> str:
        return "TEST"

    monkeypatch.setattr(main, "wait_for_stop_signal", stop_at_once)
    with caplog.at_level(logging.WARNING, logger="app.workspace"):
        await asyncio.wait_for(main.serve(config, "127.0.0.1"), 20)
    assert any("no longer supported" in r.getMessage() for r in caplog.records)


async def test_cors_preflight_allows_the_user_header(client: Client) -> None:
    answer = await call(
        "OPTIONS",
        client.url + "/api/items",
        headers={"Origin": "http://dashboard.example", "Access-Control-Request-Method": "POST"},
    )
    assert answer.status == 204
    assert answer.headers["Access-Control-Allow-Origin"] == "http://dashboard.example"
    assert "X-User" in answer.headers["Access-Control-Allow-Headers"]
    assert "X-API-Key" in answer.headers["Access-Control-Allow-Headers"]
    other = await call("GET", client.url + "/api/items", headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in other.headers


async def test_rate_limit(workspace_db: DbConfig) -> None:
    async with serve_workspace(workspace_env(workspace_db, RATE_LIMIT_MAX="3")) as url:
        statuses = [(await call("GET", url + "/api/items")).status for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        limited = await call("GET", url + "/api/items")
        assert "Retry-After" in limited.headers
        assert (await call("GET", url + "/health")).status == 200


async def test_security_headers_and_request_id(client: Client) -> None:
    answer = await call("GET", client.url + "/api/items", headers={"X-Request-Id": "abc-123"})
    assert answer.headers["X-Request-Id"] == "abc-123"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"


async def test_health_ready_liveness_root(client: Client) -> None:
    health = await client.get("/health")
    assert health.status == 200
    assert health.json["checks"]["database"]["status"] == "ok"
    ready = await client.get("/ready")
    assert ready.status == 200, ready.body
    assert ready.json["checks"]["migrations"] == {"status": "ok", "missing": []}
    assert (await client.get("/healthz")).json == {"status": "ok"}
    root = (await client.get("/")).json
    assert root["service"] == "tp-capital-workspace"
    assert "/api/items/stats" in root["endpoints"]


async def test_health_503_when_database_unreachable(workspace_db: DbConfig) -> None:
    env = workspace_env(workspace_db, TIMESCALEDB_PORT=str(free_port()))
    registry = CollectorRegistry()
    async with serve_workspace(env, registry) as url:
        answer = await call("GET", url + "/health")
        assert answer.status == 503
        assert answer.json["checks"]["database"]["status"] == "down"
        answer = await call("GET", url + "/api/items")
        assert answer.status == 503
        assert answer.json["error"]["code"] == "database_unavailable"
        assert answer.headers["Retry-After"] == "5"
        answer = await Client(url).post("/api/items", new_item())
        assert answer.status == 503
        metrics = (await call("GET", url + "/metrics")).body.decode()
        assert "workspace_db_connection_status 0.0" in metrics
        assert 'workspace_db_errors_total{error_type="connection"}' in metrics


async def test_metrics(client: Client, ws_registry: CollectorRegistry) -> None:
    await client.post("/api/items", new_item())
    await client.post("/api/items", new_item())
    await client.get("/api/items")
    await client.get("/api/items/nope")
    answer = await client.get("/metrics")
    assert answer.status == 200
    text = answer.body.decode()
    assert "workspace_items_count 2.0" in text
    assert "workspace_db_connection_status 1.0" in text
    assert (
        'tradingsystem_http_requests_total{method="POST",route="/api/items",status="201"} 2.0'
        in text
    )
    assert 'route="/api/items/([A-Za-z0-9][A-Za-z0-9._:-]{0,127})",status="404"' in text
    assert "tradingsystem_http_request_duration_seconds_bucket" in text


async def test_openapi_document(client: Client) -> None:
    answer = await client.get("/openapi.json")
    assert answer.status == 200
    spec = answer.json
    assert spec["openapi"] == "3.0.3"
    for path in (
        "/api/items",
        "/api/items/stats",
        "/api/items/{id}",
        "/items/{id}",
        "/api/items/{id}/history",
        "/api/categories",
        "/api/categories/{name}",
        "/api/categories/{name}/toggle",
        "/api/categories/validate",
        "/health",
        "/metrics",
    ):
        assert path in spec["paths"], path
    assert set(spec["paths"]["/api/items/{id}"]) == {"get", "put", "patch", "delete"}
    item_create = spec["components"]["schemas"]["ItemCreate"]
    assert set(item_create["required"]) == {"title", "description", "category"}
    assert spec["components"]["securitySchemes"]["apiKey"]["name"] == "X-API-Key"


def test_key_is_long_enough() -> None:
    assert len(API_KEY) >= 16
