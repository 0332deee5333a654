"""Workspace fixtures: a migrated template database per session, a fresh copy
per test, and the service served in-process over real HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from prometheus_client import CollectorRegistry

from app.config import DbConfig
from app.localpg import LocalPg
from tests.support import pg as pgsupport
from tests.workspace.support import Client, serve_workspace, workspace_env


@pytest.fixture(scope="session")
def workspace_template(pg_server: LocalPg) -> str:
    return pgsupport.make_template(pg_server, "workspace")


@pytest.fixture
def workspace_db(pg_server: LocalPg, workspace_template: str) -> Iterator[DbConfig]:
    name = pgsupport.create_database_from(pg_server, workspace_template, prefix="ws")
    yield pgsupport.db_config(pg_server, name, "workspace")
    pgsupport.drop_database(pg_server, name)


@pytest.fixture
def ws_registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
async def ws_url(workspace_db: DbConfig, ws_registry: CollectorRegistry) -> AsyncIterator[str]:
    async with serve_workspace(workspace_env(workspace_db), ws_registry) as url:
        yield url


@pytest.fixture
def client(ws_url: str) -> Client:
    return Client(ws_url)
