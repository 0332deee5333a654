"""The database goes away and comes back: 503 while it is gone, nothing lost."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from prometheus_client import CollectorRegistry

from app.config import DbConfig
from app.localpg import LocalPg
from tests.conftest import GATEWAY_TOKEN, api_env
from tests.support import pg as pgsupport
from tests.support.api import serve_api
from tests.support.http import call
from tests.support.messages import message

TOKEN = {"X-Gateway-Token": GATEWAY_TOKEN}


@pytest.fixture
def own_pg(tmp_path: Path) -> Iterator[tuple[LocalPg, DbConfig]]:
    """A server of this test's own, so stopping it disturbs no other test."""
    server = pgsupport.start_server(tmp_path / "pg", durable=True)
    db = pgsupport.db_config(server, "outage", "signals")
    from app.migrate import migrate

    migrate(db, "signals")
    yield server, db
    server.remove()


async def test_database_down_answers_503_then_recovers(own_pg: tuple[LocalPg, DbConfig]) -> None:
    server, db = own_pg
    async with serve_api(api_env(db), CollectorRegistry()) as url:
        assert (
            await call("POST", url + "/ingest", json_body=message(1), headers=TOKEN)
        ).status == 200

        await asyncio.to_thread(server.stop, "immediate")
        down = await call("POST", url + "/ingest", json_body=message(2), headers=TOKEN)
        assert down.status == 503
        assert down.json["error"]["code"] == "database_unavailable"
        assert down.headers["Retry-After"] == "5"
        batch = await call("POST", url + "/ingest/batch", json_body=[message(3)], headers=TOKEN)
        assert batch.status == 503
        health = await call("GET", url + "/health")
        assert health.status == 503
        assert health.json["checks"]["database"]["status"] == "down"
        assert (await call("GET", url + "/healthz")).status == 200
        assert (await call("GET", url + "/signals")).status == 503

        await asyncio.to_thread(server.start)
        assert (await call("GET", url + "/health")).status == 200
        for i in (2, 3):
            answer = await call("POST", url + "/ingest", json_body=message(i), headers=TOKEN)
            assert answer.status == 200 and answer.json["duplicate"] is False

        metrics = (await call("GET", url + "/metrics")).body.decode()
        assert 'api_ingestion_requests_total{status="db_unavailable"} 2.0' in metrics
        assert 'api_timescaledb_errors_total{error_type="connection"}' in metrics
        assert 'api_timescaledb_errors_total{error_type="connection"} 0.0' not in metrics

    with psycopg2.connect(db.dsn()) as conn, conn.cursor() as cur:
        cur.execute("SELECT message_id FROM telegram_messages ORDER BY message_id")
        assert [r[0] for r in cur.fetchall()] == [1, 2, 3]
