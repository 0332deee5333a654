"""Live messages and edits, through the real api into PostgreSQL; health; metrics."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app.config import DbConfig
from tests.gateway.conftest import (
    CHANNEL_ID,
    eventually,
    gateway_config,
    running_gateway,
    stored_counts,
)
from tests.gateway.fake_telegram import FakeTelegram
from tests.support.http import call

SIGNAL = """🟢Swing Trade

Ativo: BOVAW32
Compra: 1,04 a 1,06
Alvo 1: 1,15
Alvo 2: 2,15
Alvo final: 3,00
Stop: 0,80"""


async def test_live_messages_and_edits_reach_the_database(
    tmp_path: Path, api_url: str, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    config = gateway_config(tmp_path, api_url)
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: gateway.telegram.connected, message="connected")
        first = await telegram.post(CHANNEL_ID, SIGNAL)
        for n in range(9):
            await telegram.post(CHANNEL_ID, f"bom dia {n}")
        await eventually(lambda: stored_counts(signals_db)[0] == 10, message="10 rows")
        await telegram.edit(CHANNEL_ID, first.id, SIGNAL.replace("0,80", "0,85"))
        await eventually(
            lambda: gateway.metrics.messages_published._value.get() >= 11, message="edit sent"
        )
        health = await call("GET", f"http://127.0.0.1:{config.port}/health")
        assert health.status == 200, health.json
        assert health.json["telegram"]["state"] == "connected"
        assert health.json["outbox"]["writable"] is True
        assert health.json["lastPublish"]["ok"] is True
        metrics = (await call("GET", f"http://127.0.0.1:{config.port}/metrics")).body.decode()
        for name in (
            "telegram_connection_status 1.0",
            "telegram_messages_received_total{",
            "telegram_messages_published_total",
            'telegram_publish_failures_total{reason="unauthorized"} 0.0',
            "telegram_retry_attempts_total{",
            "telegram_failure_queue_size 0.0",
        ):
            assert name in metrics, name
    assert stored_counts(signals_db) == (10, 10)
    import psycopg2

    with psycopg2.connect(signals_db.dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT text, version, channel_name FROM tp_capital.telegram_messages"
            " WHERE message_id = %s",
            (first.id,),
        )
        text, version, name = cur.fetchone()
        cur.execute("SELECT count(*) FROM tp_capital.tp_capital_signals")
        signals = cur.fetchone()[0]
    conn.close()
    assert "0,85" in text and version == 2 and name == "TP Capital"
    assert signals >= 1


async def test_not_logged_in_runs_and_reports_503(
    tmp_path: Path, api_url: str, telegram: FakeTelegram
) -> None:
    config = gateway_config(tmp_path, api_url)
    async with running_gateway(config, telegram, logged_in=False):
        await asyncio.sleep(0.2)
        health = await call("GET", f"http://127.0.0.1:{config.port}/health")
        assert health.status == 503
        assert "telegram: not logged in" in health.json["reasons"]
        assert health.json["outbox"]["writable"] is True
