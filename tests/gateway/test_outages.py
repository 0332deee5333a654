"""The issue's outage scenarios, each checked in the database afterwards.

The api runs as a real process; the SIGKILL scenario runs the gateway as a real
process too, its Telegram replaced through the test-only client factory hook.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from app.config import DbConfig
from app.localpg import LocalPg
from app.migrate import migrate
from tests.conftest import api_env
from tests.gateway.conftest import (
    CHANNEL_BARE_ID,
    CHANNEL_ID,
    GatewayProcess,
    eventually,
    gateway_config,
    gateway_env,
    running_gateway,
    stored_counts,
    stored_ids,
)
from tests.gateway.fake_telegram import FakeTelegram, FeedWriter
from tests.support import pg as pgsupport
from tests.support.api import ApiProcess

pytestmark = pytest.mark.slow


async def post_stream(telegram: FakeTelegram, count: int, per_second: float) -> list[int]:
    ids = []
    loop = asyncio.get_running_loop()
    started = loop.time()
    for n in range(count):
        ids.append((await telegram.post(CHANNEL_ID, f"stream message {n}")).id)
        # Paced against the clock, so the rate holds even when posting itself is slow.
        delay = started + (n + 1) / per_second - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
    return ids


async def test_5000_messages_while_the_api_is_stopped_30s(
    tmp_path: Path, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    api = ApiProcess(api_env(signals_db), log_path=tmp_path / "api.log")
    await asyncio.to_thread(api.start)
    config = gateway_config(tmp_path, api.url)
    try:
        async with running_gateway(config, telegram) as gateway:
            await eventually(lambda: gateway.telegram.connected)
            stream = asyncio.create_task(post_stream(telegram, 5000, 125))
            await asyncio.sleep(4)
            await asyncio.to_thread(api.stop)
            await asyncio.sleep(30)
            assert stored_counts(signals_db)[0] < 5000
            await asyncio.to_thread(api.start)
            posted = await stream
            await eventually(lambda: stored_counts(signals_db)[0] >= 5000, timeout=90)
            assert gateway.registry.get_sample_value(
                "telegram_publish_failures_total", {"reason": "connection"}
            )
    finally:
        await asyncio.to_thread(api.stop)
    assert stored_counts(signals_db) == (5000, 5000)
    assert stored_ids(signals_db) == sorted(posted)


async def test_database_down_20s_api_answers_503_and_nothing_is_lost(
    tmp_path: Path, telegram: FakeTelegram
) -> None:
    # A server of our own: stopping it must not disturb the other tests' databases.
    pg = LocalPg(tmp_path / "pg", durable=False)
    await asyncio.to_thread(pg.start)
    db = pgsupport.db_config(pg, "outage", "signals")
    await asyncio.to_thread(migrate, db, "signals")
    api = ApiProcess(api_env(db), log_path=tmp_path / "api.log")
    await asyncio.to_thread(api.start)
    config = gateway_config(tmp_path, api.url)
    try:
        async with running_gateway(config, telegram) as gateway:
            await eventually(lambda: gateway.telegram.connected)
            stream = asyncio.create_task(post_stream(telegram, 1250, 50))
            await asyncio.sleep(3)
            await asyncio.to_thread(pg.stop)
            await asyncio.sleep(20)
            assert gateway.registry.get_sample_value(
                "telegram_publish_failures_total", {"reason": "unavailable"}
            ), "the api should have answered 503"
            stats = await gateway.outbox.run(gateway.outbox.store.stats)
            assert stats.pending + stats.dead > 0
            await asyncio.to_thread(pg.start)
            posted = await stream
            await eventually(lambda: stored_counts(db)[0] >= 1250, timeout=90)
        assert stored_counts(db) == (1250, 1250)
        assert stored_ids(db) == sorted(posted)
    finally:
        await asyncio.to_thread(api.stop)
        await asyncio.to_thread(pg.remove)


def test_sigkill_at_random_moments_gives_exactly_once(tmp_path: Path, signals_db: DbConfig) -> None:
    api = ApiProcess(api_env(signals_db), log_path=tmp_path / "api.log").start()
    feed = tmp_path / "telegram-feed.jsonl"
    writer = FeedWriter(feed)
    writer.channel(CHANNEL_BARE_ID, "TP Capital")
    env = gateway_env(tmp_path, api.url, RETRY_DELAY_MS="50")
    gateway = GatewayProcess(env, feed, log_path=tmp_path / "gateway.log").start()
    rng = random.Random(20240601)
    kills = {rng.randint(k * 800 + 100, k * 800 + 450) for k in range(6)}  # never overlapping
    posted: list[int] = []
    restart_at: int | None = None
    killed = 0
    try:
        wait_healthy(gateway)
        for n in range(5000):
            posted.append(writer.post(CHANNEL_BARE_ID, f"kill test {n}", gap=rng.choice((1, 1, 3))))
            if n in kills and restart_at is None:
                gateway.kill()  # SIGKILL: no shutdown code runs
                killed += 1
                restart_at = n + rng.randint(20, 300)  # posts go on while it is dead
            elif restart_at is not None and n >= restart_at:
                gateway.start()
                restart_at = None
            if n % 25 == 0:
                time.sleep(0.1)  # about 250 messages/s
        if restart_at is not None:
            gateway.start()
        wait_for(lambda: stored_counts(signals_db)[0] >= 5000, timeout=120)
        wait_healthy(gateway)
        assert gateway.stop() == 0  # SIGTERM: orderly stop
    finally:
        gateway.kill()
        api.stop()
        writer.close()
    assert killed >= 5
    assert stored_counts(signals_db) == (5000, 5000)
    assert stored_ids(signals_db) == posted


def wait_for(check: Callable[[], bool], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.2)
    raise AssertionError(f"not reached in {timeout}s")


def wait_healthy(gateway: GatewayProcess, timeout: float = 30) -> None:
    def healthy() -> bool:
        answer = gateway.health()
        return answer is not None and answer[0] == 200

    wait_for(healthy, timeout)
