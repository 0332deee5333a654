"""Serving the workspace service in this test process, and reaching its database."""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import psycopg2
from prometheus_client import CollectorRegistry

from app.config import DbConfig, Env
from app.db import create_pool
from app.localpg import free_port
from app.web.server import listen
from app.workspace.app import make_app
from app.workspace.config import WorkspaceConfig
from tests.support.http import Response, call

API_KEY = "workspace-test-key-0123456789"


def workspace_env(db: DbConfig, **overrides: str) -> dict[str, str]:
    env = {
        "TIMESCALEDB_HOST": db.host,
        "TIMESCALEDB_PORT": str(db.port),
        "TIMESCALEDB_DATABASE": db.database,
        "TIMESCALEDB_USER": db.user,
        "TIMESCALEDB_SCHEMA": db.schema,
        "WORKSPACE_API_KEY": API_KEY,
        "CORS_ORIGIN": "http://dashboard.example",
        "RATE_LIMIT_MAX": "100000",
        "LOG_LEVEL": "warning",
    }
    env.update(overrides)
    return {key: value for key, value in env.items() if value != ""}


@contextlib.asynccontextmanager
async def serve_workspace(
    env: dict[str, str], registry: CollectorRegistry | None = None
) -> AsyncIterator[str]:
    port = free_port()
    config = WorkspaceConfig.from_env(Env({**env, "PORT": str(port)}))
    pool = await create_pool(config.db, minsize=0, maxsize=config.db_pool_max)
    app = make_app(config, pool=pool, registry=registry or CollectorRegistry())
    server = listen(app, port, "127.0.0.1")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        await server.close_all_connections()
        pool.close()
        await pool.wait_closed()


@dataclass
class Client:
    """Calls the service; writes carry the API key unless told otherwise."""

    url: str
    key: str | None = API_KEY
    user: str | None = None

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> Response:
        all_headers: dict[str, str] = {}
        if self.key and method not in ("GET", "HEAD", "OPTIONS"):
            all_headers["X-API-Key"] = self.key
        if self.user:
            all_headers["X-User"] = self.user
        all_headers.update(headers or {})
        return await call(method, self.url + path, json_body=body, headers=all_headers)

    async def get(self, path: str, **kwargs: Any) -> Response:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, body: Any = None, **kwargs: Any) -> Response:
        return await self.request("POST", path, body, **kwargs)

    async def put(self, path: str, body: Any = None, **kwargs: Any) -> Response:
        return await self.request("PUT", path, body, **kwargs)

    async def patch(self, path: str, body: Any = None, **kwargs: Any) -> Response:
        return await self.request("PATCH", path, body, **kwargs)

    async def delete(self, path: str, **kwargs: Any) -> Response:
        return await self.request("DELETE", path, **kwargs)


def new_item(**overrides: Any) -> dict[str, Any]:
    item = {
        "title": "Backtest the swing strategy",
        "description": "Run the backtest on 2023 data and compare with live signals.",
        "category": "analise-dados",
        "priority": "high",
        "tags": ["backtest", "swing"],
        "metadata": {"owner": "ana"},
    }
    item.update(overrides)
    return item


def connect(db: DbConfig) -> psycopg2.extensions.connection:
    conn = psycopg2.connect(db.dsn())
    conn.autocommit = True
    return conn


def query(db: DbConfig, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    conn = connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else []
    finally:
        conn.close()


def seed_items(db: DbConfig, rows: list[dict[str, Any]]) -> None:
    """Insert items directly (fast), as an operator would; the audit trigger still runs."""
    conn = connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute(
                """
                INSERT INTO workspace_items
                    (id, title, description, category, priority, status, tags, metadata,
                     created_at, updated_at)
                SELECT id, title, description, category, priority, status, tags,
                       coalesce(metadata, '{}'), created_at, created_at
                FROM jsonb_to_recordset(%s::jsonb) AS x(
                    id text, title text, description text, category text, priority text,
                    status text, tags text[], metadata jsonb, created_at timestamptz)
                """,
                (json.dumps(rows),),
            )
    finally:
        conn.close()
