"""Shared fixtures: a real PostgreSQL server for the session, a fresh migrated
database per test, and the api served over real HTTP on loopback."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from app.config import DbConfig
from app.localpg import LocalPg
from tests.support import pg as pgsupport

GATEWAY_TOKEN = "test-gateway-token-0123456789abcdef-XYZ"
API_KEY = "test-api-key-0123456789abcdef"


def require_or_skip(condition: bool, reason: str) -> None:
    """Skip when infrastructure is missing, except in CI where that is a failure."""
    if condition:
        return
    if os.environ.get("TPCAP_CI"):
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[LocalPg]:
    # Not under pytest's basetemp: every new pytest session chmods
    # /tmp/pytest-of-<user> back to 0700, which locks the `postgres` user out of a
    # server another session is still running (PANIC on pg_control).
    folder = Path(tempfile.mkdtemp(prefix="tpcap-test-pg-"))
    server = pgsupport.start_server(folder / "data")
    yield server
    server.remove()
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def signals_template(pg_server: LocalPg) -> str:
    return pgsupport.make_template(pg_server, "signals")


@pytest.fixture
def signals_db(pg_server: LocalPg, signals_template: str) -> Iterator[DbConfig]:
    name = pgsupport.create_database_from(pg_server, signals_template)
    yield pgsupport.db_config(pg_server, name, "signals")
    pgsupport.drop_database(pg_server, name)


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def api_env(db: DbConfig, **overrides: str) -> dict[str, str]:
    env = {
        "TIMESCALEDB_HOST": db.host,
        "TIMESCALEDB_PORT": str(db.port),
        "TIMESCALEDB_DATABASE": db.database,
        "TIMESCALEDB_USER": db.user,
        "TIMESCALEDB_SCHEMA": db.schema,
        "GATEWAY_SECRET_TOKEN": GATEWAY_TOKEN,
        "TP_CAPITAL_API_KEY": API_KEY,
        "CORS_ORIGIN": "http://dashboard.example",
        "LOG_LEVEL": "warning",
    }
    env.update(overrides)
    return env


@pytest.fixture
async def api_url(signals_db: DbConfig, registry: CollectorRegistry) -> AsyncIterator[str]:
    """The api in this process, on a free loopback port, against a fresh database."""
    from tests.support.api import serve_api

    async with serve_api(api_env(signals_db), registry) as url:
        yield url
