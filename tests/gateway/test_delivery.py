"""Delivery failures: wrong token, failover, 429, full outbox, dead letters, `tpcap recover`."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry

from app.config import DbConfig
from app.localpg import free_port
from tests.conftest import api_env
from tests.gateway.conftest import (
    CHANNEL_ID,
    REPO,
    eventually,
    gateway_config,
    gateway_env,
    running_gateway,
    stored_counts,
)
from tests.gateway.fake_telegram import FakeTelegram
from tests.support.api import ApiProcess, serve_api
from tests.support.http import call


def failures(gateway, reason: str) -> float:
    return gateway.registry.get_sample_value("telegram_publish_failures_total", {"reason": reason})


async def test_wrong_token_keeps_messages_without_a_tight_loop(
    tmp_path: Path,
    api_url: str,
    signals_db: DbConfig,
    telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="app.gateway.publisher")
    wrong = gateway_config(tmp_path, api_url, API_SECRET_TOKEN="w" * 40)
    async with running_gateway(wrong, telegram) as gateway:
        await eventually(lambda: gateway.telegram.connected)
        for n in range(3):
            await telegram.post(CHANNEL_ID, f"kept {n}")
        await asyncio.sleep(3.0)
        unauthorized = failures(gateway, "unauthorized")
        # RETRY_DELAY_MS=100 doubling: about 5 tries in 3 s, not hundreds.
        assert 1 <= unauthorized <= 6, unauthorized
        stats = await gateway.outbox.run(gateway.outbox.store.stats)
        assert (stats.pending, stats.dead) == (3, 0)
        health = await call("GET", f"http://127.0.0.1:{wrong.port}/health")
        assert health.json["lastPublish"]["reason"] == "unauthorized"
    assert any("401" in r.getMessage() for r in caplog.records)
    assert stored_counts(signals_db)[0] == 0
    # The operator fixes the token: the kept messages go out.
    right = gateway_config(tmp_path, api_url)
    async with running_gateway(right, telegram):
        await eventually(lambda: stored_counts(signals_db)[0] == 3)


async def test_failover_to_the_next_endpoint(
    tmp_path: Path, api_url: str, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    config = gateway_config(tmp_path, f"{dead},{api_url}")
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: gateway.telegram.connected)
        for n in range(5):
            await telegram.post(CHANNEL_ID, f"failover {n}")
        await eventually(lambda: stored_counts(signals_db)[0] == 5)
        assert failures(gateway, "exhausted") == 0


async def test_429_retry_after_is_honoured(
    tmp_path: Path, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    env = api_env(signals_db, INGEST_RATE_LIMIT_MAX="3", RATE_LIMIT_WINDOW_MS="1000")
    async with serve_api(env, CollectorRegistry()) as url:
        config = gateway_config(tmp_path, url, MAX_RETRY_ATTEMPTS="5")
        async with running_gateway(config, telegram) as gateway:
            await eventually(lambda: gateway.telegram.connected)
            for n in range(12):
                await telegram.post(CHANNEL_ID, f"burst {n}")
                await asyncio.sleep(0.02)
            await eventually(lambda: stored_counts(signals_db)[0] == 12, timeout=30)
            assert failures(gateway, "rate_limited") >= 1
    assert stored_counts(signals_db) == (12, 12)


async def test_full_outbox_refuses_loudly_then_catch_up_recovers(
    tmp_path: Path,
    signals_db: DbConfig,
    telegram: FakeTelegram,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="app.gateway")
    api = ApiProcess(api_env(signals_db), log_path=tmp_path / "api.log")
    config = gateway_config(tmp_path, api.url, OUTBOX_MAX_BYTES="65536")
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: gateway.telegram.connected)
        await eventually(
            lambda: all(c["caughtUp"] for c in gateway.telegram.describe()["channels"])
        )
        for n in range(40):
            await telegram.post(CHANNEL_ID, f"{n:03d} " + "x" * 3000)
        await telegram.clients[0].idle()
        assert failures(gateway, "outbox_full") > 0
        messages = [r.getMessage() for r in caplog.records]
        assert any("OUTBOX ALMOST FULL" in m for m in messages)
        assert any("OUTBOX FULL" in m for m in messages)
        health = await call("GET", f"http://127.0.0.1:{config.port}/health")
        assert health.status == 503 and "outbox: full" in health.json["reasons"]
        await asyncio.to_thread(api.start)
        try:
            await eventually(lambda: stored_counts(signals_db)[0] == 40, timeout=60)
        finally:
            await asyncio.to_thread(api.stop)
    assert stored_counts(signals_db) == (40, 40)


async def test_dead_letters_export_and_replay_with_recover(
    tmp_path: Path, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    api = ApiProcess(api_env(signals_db), log_path=tmp_path / "api.log")
    env = gateway_env(tmp_path, api.url, MAX_RETRY_ATTEMPTS="2")
    from app.config import Env
    from app.gateway.config import GatewayConfig

    config = GatewayConfig.from_env(Env(env))
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: gateway.telegram.connected)
        for n in range(7):
            await telegram.post(CHANNEL_ID, f"dead letter {n}")
        await eventually(lambda: failures(gateway, "exhausted") >= 1, timeout=20)
        await telegram.clients[0].idle()
        await gateway.publisher.refresh_gauges(force=True)
        dead = gateway.registry.get_sample_value("telegram_failure_queue_size")
        dead_bytes = gateway.registry.get_sample_value("telegram_failure_queue_bytes")
        assert dead is not None and dead >= 1
        assert dead_bytes is not None and dead_bytes > 100 * dead
    await asyncio.to_thread(recover_round_trip, env, api, signals_db)


def recover_round_trip(env: dict[str, str], api: ApiProcess, signals_db: DbConfig) -> None:
    cli_env = {**os.environ, **env, "PYTHONPATH": str(REPO)}

    def recover(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "app", "recover", *args],
            env=cli_env,
            capture_output=True,
            text=True,
            timeout=60,
            cwd=REPO,
        )

    exported = recover("export")
    assert exported.returncode == 0, exported.stderr
    queue = Path(env["FAILURE_QUEUE_PATH"])
    lines = queue.read_text().splitlines()
    assert lines and all("failedAt" in json.loads(line) for line in lines)
    dead_count = len(lines)
    with open(queue, "a") as handle:
        handle.write('{"channelId": 1, "messageId"\n')  # malformed
        handle.write('{"channelId": -1001234567890, "messageId": 99999, "timest')  # truncated
    api.start()
    try:
        replayed = recover("replay")
    finally:
        api.stop()
    assert replayed.returncode == 1  # the two bad lines stay
    assert f"line {dead_count + 1}: skipped" in replayed.stderr
    assert f"line {dead_count + 2}: skipped" in replayed.stderr
    assert "replay [" in replayed.stderr
    assert f"accepted {dead_count}" in replayed.stdout
    remaining = queue.read_text().splitlines()
    assert len(remaining) == 2
    assert stored_counts(signals_db)[0] == dead_count
