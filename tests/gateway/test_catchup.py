"""Catch-up: posts made while the gateway was down or disconnected still arrive."""

from __future__ import annotations

from pathlib import Path

from app.config import DbConfig
from tests.gateway.conftest import (
    CHANNEL_BARE_ID,
    CHANNEL_ID,
    eventually,
    gateway_config,
    running_gateway,
    stored_counts,
    stored_ids,
)
from tests.gateway.fake_telegram import FakeTelegram


async def test_gateway_down_while_500_posted_then_started(
    tmp_path: Path, api_url: str, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    config = gateway_config(tmp_path, api_url)
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: gateway.telegram.connected)
        await telegram.post(CHANNEL_ID, "before the stop")
        await eventually(lambda: stored_counts(signals_db)[0] == 1)
    # Gateway down: 500 posts, ids with gaps (Telegram ids increase but skip).
    posted = [telegram.store(CHANNEL_ID, f"while down {n}").id for n in range(500)]
    assert posted[-1] - posted[0] > 500
    async with running_gateway(config, telegram):
        await eventually(lambda: stored_counts(signals_db)[0] == 501, timeout=60)
    assert stored_counts(signals_db) == (501, 501)
    assert set(posted) <= set(stored_ids(signals_db))


async def test_reconnect_reads_what_was_missed_before_live_messages_count(
    tmp_path: Path, api_url: str, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    config = gateway_config(tmp_path, api_url)
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: gateway.telegram.connected)
        await telegram.post(CHANNEL_ID, "one")
        await eventually(lambda: stored_counts(signals_db)[0] == 1)
        # The network goes away; posts happen meanwhile; Telegram is unreachable for a while.
        telegram.reachable = False
        telegram.drop_connections()
        missed = [telegram.store(CHANNEL_ID, f"missed {n}").id for n in range(20)]
        await eventually(lambda: gateway.telegram.state == "disconnected")
        telegram.reachable = True
        epoch = gateway.telegram.epoch
        await eventually(lambda: gateway.telegram.epoch > epoch, timeout=10)
        live = await telegram.post(CHANNEL_ID, "live after reconnect")
        await eventually(lambda: stored_counts(signals_db)[0] == 22, timeout=20)
    assert set([*missed, live.id]) <= set(stored_ids(signals_db))


async def test_telethon_auto_reconnect_triggers_catch_up(
    tmp_path: Path, api_url: str, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    config = gateway_config(tmp_path, api_url)
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: gateway.telegram.connected)
        await eventually(
            lambda: all(c["caughtUp"] for c in gateway.telegram.describe()["channels"])
        )
        # Updates lost inside Telethon's own reconnection: nobody was told about these.
        for n in range(5):
            telegram.store(CHANNEL_ID, f"lost update {n}")
        gateway.telegram.client.auto_reconnected()
        await eventually(lambda: stored_counts(signals_db)[0] == 5, timeout=20)


async def test_flood_wait_during_catch_up_is_waited_out_and_counted(
    tmp_path: Path, api_url: str, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    config = gateway_config(tmp_path, api_url)
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: gateway.telegram.connected)
        await eventually(
            lambda: all(c["caughtUp"] for c in gateway.telegram.describe()["channels"])
        )
    for n in range(30):
        telegram.store(CHANNEL_ID, f"while down {n}")
    telegram.flood_waits = [1]
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: stored_counts(signals_db)[0] == 30, timeout=20)
        assert gateway.metrics.flood_waits._value.get() == 1
        metrics = gateway.registry
        assert metrics.get_sample_value("telegram_flood_waits_total") == 1


async def test_each_message_is_forwarded_and_the_api_learns_where(
    tmp_path: Path, api_url: str, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    destination = telegram.add_channel(CHANNEL_BARE_ID + 1, "Mirror")
    config = gateway_config(
        tmp_path, api_url, TELEGRAM_DESTINATION_CHANNEL_ID=str(destination.marked_id)
    )
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: gateway.telegram.connected)
        for n in range(3):
            await telegram.post(CHANNEL_ID, f"to forward {n}")
        await eventually(lambda: stored_counts(signals_db)[0] == 3)
    assert len(telegram.forwarded) == 3
    import psycopg2

    with psycopg2.connect(signals_db.dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT forwarded_to FROM tp_capital.telegram_messages WHERE channel_id = %s",
            (CHANNEL_ID,),
        )
        forwarded = [row[0] for row in cur.fetchall()]
    conn.close()
    assert all(f and f["channelId"] == destination.marked_id for f in forwarded)
