"""The channel registry drives the channel list; history: backfill, edits made while
away, deletions. The real api and PostgreSQL; Telegram is the Telethon-level fake."""

from __future__ import annotations

import asyncio
import datetime as dt
from pathlib import Path

import psycopg2

from app.config import DbConfig
from app.gateway.service import Gateway
from tests.conftest import API_KEY, GATEWAY_TOKEN
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
from tests.support.http import call

SECOND_BARE_ID = CHANNEL_BARE_ID + 77


def rows(db: DbConfig, sql: str, *params: object) -> list[tuple]:
    with psycopg2.connect(db.dsn()) as conn, conn.cursor() as cur:
        cur.execute(sql, params)
        found = cur.fetchall()
    conn.close()
    return found


def caught_up(gateway: Gateway) -> bool:
    channels = gateway.telegram.describe()["channels"]
    return bool(channels) and all(c["caughtUp"] for c in channels)


async def test_gateway_routes_need_the_gateway_token(api_url: str) -> None:
    assert (await call("GET", api_url + "/ingest/channels")).status == 401
    answer = await call(
        "POST",
        api_url + "/ingest/deletions",
        json_body={"deletions": [{"channelId": 1}]},
        headers={"X-Gateway-Token": GATEWAY_TOKEN},
    )
    assert answer.status == 400 and "deletions" in answer.json["error"]["fields"]


async def test_channel_added_and_removed_through_the_registry_while_running(
    tmp_path: Path, api_url: str, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    second = telegram.add_channel(SECOND_BARE_ID, "Second", "second_signals")
    second.joined = False
    config = gateway_config(tmp_path, api_url, CHANNEL_REFRESH_SECONDS="1")
    health_url = f"http://127.0.0.1:{config.port}/health"
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: gateway.telegram.connected)
        created = await call(
            "POST",
            api_url + "/telegram-channels",
            json_body={"username": "@second_signals", "label": "Second"},
            headers={"X-API-Key": API_KEY},
        )
        assert created.status == 201, created.json

        async def listed() -> list[dict]:
            body = (await call("GET", health_url)).json
            return [c for c in body["telegram"]["channels"] if c["id"] == second.marked_id]

        # Within CHANNEL_REFRESH_SECONDS + 5 s: joined, caught up, delivered.
        found = await eventually(listed, timeout=20, message="registry channel listened to")
        assert found[0]["source"] == "registry"
        assert telegram.joins == [second.marked_id]
        await eventually(lambda: caught_up(gateway), timeout=20)
        await telegram.post(second, "from the registry channel")
        await eventually(lambda: stored_counts(signals_db, second.marked_id)[0] == 1, timeout=20)

        removed = await call(
            "DELETE",
            f"{api_url}/telegram-channels/{created.json['id']}",
            headers={"X-API-Key": API_KEY},
        )
        assert removed.status == 200
        await eventually(lambda: second.marked_id not in gateway.telegram.channels, timeout=20)
        assert not await listed()
        await telegram.post(second, "after removal")
        await telegram.post(CHANNEL_ID, "marker")
        await eventually(lambda: stored_counts(signals_db)[0] == 1)
        await gateway.telegram.client.idle()
        stats = await gateway.outbox.run(gateway.outbox.store.stats)
        assert stats.pending == 0
    assert stored_counts(signals_db, second.marked_id)[0] == 1


async def test_first_sight_backfill_and_flood_wait_is_slept_as_told(
    tmp_path: Path, api_url: str, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    history = [telegram.store(CHANNEL_ID, f"old {n}").id for n in range(450)]
    telegram.flood_waits_midway = [7]
    slept: list[float] = []

    async def flood_sleep(seconds: float) -> None:
        slept.append(seconds)

    config = gateway_config(tmp_path, api_url, TELEGRAM_BACKFILL="300")
    async with running_gateway(config, telegram, flood_sleep=flood_sleep) as gateway:
        await eventually(lambda: stored_counts(signals_db)[0] == 300, timeout=30)
        assert stored_ids(signals_db) == history[-300:]
        assert slept == [7]
        assert gateway.registry.get_sample_value("telegram_flood_waits_total") == 1
        health = await call("GET", f"http://127.0.0.1:{config.port}/health")
        backfill = health.json["telegram"]["channels"][0]["backfill"]
        assert backfill["done"] and backfill["read"] == 300


async def test_backfill_since_a_duration(
    tmp_path: Path, api_url: str, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    now = dt.datetime.now(dt.UTC)
    for n in range(40):
        age = dt.timedelta(days=40 - n) - dt.timedelta(hours=1)
        telegram.store(CHANNEL_ID, f"day {n}", date=now - age)
    config = gateway_config(tmp_path, api_url, TELEGRAM_BACKFILL="10d")
    async with running_gateway(config, telegram):
        # Days 30..39 are less than 10 days old.
        await eventually(lambda: stored_counts(signals_db)[0] == 10, timeout=20)
        await asyncio.sleep(0.5)
    assert stored_counts(signals_db) == (10, 10)


async def test_on_demand_backfill_of_a_listened_channel(
    tmp_path: Path, api_url: str, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    history = [telegram.store(CHANNEL_ID, f"old {n}").id for n in range(120)]
    config = gateway_config(tmp_path, api_url)
    base = f"http://127.0.0.1:{config.port}"
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: caught_up(gateway))
        assert stored_counts(signals_db)[0] == 0  # TELEGRAM_BACKFILL unset: none
        denied = await call("POST", base + "/backfills", json_body={"channel": "x", "limit": 1})
        assert denied.status == 401
        token = {"X-Gateway-Token": GATEWAY_TOKEN}
        unknown = await call(
            "POST",
            base + "/backfills",
            json_body={"channel": "nope_chan", "limit": 5},
            headers=token,
        )
        assert unknown.status == 404 and "listens to" in unknown.json["error"]["message"]
        bad = await call(
            "POST", base + "/backfills", json_body={"channel": CHANNEL_ID}, headers=token
        )
        assert bad.status == 400
        answer = await call(
            "POST",
            base + "/backfills",
            json_body={"channel": "@tp_capital_signals", "limit": 50},
            headers=token,
        )
        assert answer.status == 202, answer.json
        await eventually(lambda: stored_counts(signals_db)[0] == 50)
    assert stored_ids(signals_db) == history[-50:]


async def test_edits_made_while_down_are_recovered(
    tmp_path: Path, api_url: str, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    now = dt.datetime.now(dt.UTC)
    config = gateway_config(tmp_path, api_url)
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: gateway.telegram.connected)
        old = await telegram.post(CHANNEL_ID, "Ativo: OLD3", date=now - dt.timedelta(days=5))
        recent = [
            await telegram.post(CHANNEL_ID, f"Ativo: PETR{n}", date=now - dt.timedelta(hours=n))
            for n in range(1, 4)
        ]
        await eventually(lambda: stored_counts(signals_db)[0] == 4)
    # While the gateway is down: two recent posts and one outside the window are edited.
    later = now + dt.timedelta(minutes=1)
    telegram.store_edit(CHANNEL_ID, recent[0].id, "Ativo: PETR1 edited", edit_date=later)
    telegram.store_edit(CHANNEL_ID, recent[2].id, "Ativo: PETR3 edited", edit_date=later)
    telegram.store_edit(CHANNEL_ID, old.id, "Ativo: OLD3 edited", edit_date=later)
    async with running_gateway(config, telegram) as gateway:

        def texts() -> dict[int, str]:
            found = rows(
                signals_db,
                "SELECT message_id, text FROM tp_capital.telegram_messages WHERE channel_id = %s",
                CHANNEL_ID,
            )
            return dict(found)

        await eventually(
            lambda: (
                texts()[recent[0].id].endswith("edited")
                and texts()[recent[2].id].endswith("edited")
            )
        )
    assert texts()[recent[1].id] == "Ativo: PETR2"
    assert texts()[old.id] == "Ativo: OLD3"  # older than EDIT_RESCAN_WINDOW (48 h)
    # A second restart resends nothing: the delivered edits are remembered.
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: caught_up(gateway))
        await asyncio.sleep(0.3)
        assert gateway.registry.get_sample_value("telegram_messages_published_total") == 0


async def test_deleted_channel_message_is_recorded_not_erased(
    tmp_path: Path, api_url: str, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    config = gateway_config(tmp_path, api_url)
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: gateway.telegram.connected)
        first = await telegram.post(CHANNEL_ID, "Ativo: VALE3\nCompra: 60")
        await telegram.post(CHANNEL_ID, "stays")
        await eventually(lambda: stored_counts(signals_db)[0] == 2)
        await telegram.delete(CHANNEL_ID, [first.id])

        def deleted() -> list[tuple]:
            return rows(
                signals_db,
                "SELECT message_id FROM tp_capital.telegram_messages"
                " WHERE channel_id = %s AND deleted_at IS NOT NULL",
                CHANNEL_ID,
            )

        await eventually(lambda: deleted() == [(first.id,)])
    assert stored_counts(signals_db) == (2, 2)
    messages = await call("GET", api_url + "/messages")
    by_id = {m["message_id"]: m for m in messages.json["data"]}
    assert by_id[first.id]["deleted_at"] is not None


async def test_edits_made_while_disconnected_are_recovered_on_reconnect(
    tmp_path: Path, api_url: str, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    now = dt.datetime.now(dt.UTC)
    config = gateway_config(tmp_path, api_url)
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: caught_up(gateway))
        post = await telegram.post(CHANNEL_ID, "Ativo: WEGE3", date=now - dt.timedelta(hours=1))
        await eventually(lambda: stored_counts(signals_db)[0] == 1)
        telegram.reachable = False
        telegram.drop_connections()
        await eventually(lambda: gateway.telegram.state == "disconnected")
        # Edited while the connection is down: no update will ever tell the gateway.
        telegram.store_edit(CHANNEL_ID, post.id, "Ativo: WEGE3 (edited)")
        telegram.reachable = True

        def text() -> str:
            return rows(
                signals_db,
                "SELECT text FROM tp_capital.telegram_messages WHERE message_id = %s",
                post.id,
            )[0][0]

        await eventually(lambda: text() == "Ativo: WEGE3 (edited)")


async def test_backfilled_history_is_not_forwarded_again(
    tmp_path: Path, api_url: str, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    destination = telegram.add_channel(CHANNEL_BARE_ID + 5, "Mirror")
    for n in range(20):
        telegram.store(CHANNEL_ID, f"old {n}")
    config = gateway_config(
        tmp_path,
        api_url,
        TELEGRAM_BACKFILL="20",
        TELEGRAM_DESTINATION_CHANNEL_ID=str(destination.marked_id),
    )
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: stored_counts(signals_db)[0] == 20)
        await eventually(lambda: caught_up(gateway))
        live = await telegram.post(CHANNEL_ID, "live one")
        await eventually(lambda: stored_counts(signals_db)[0] == 21)
    assert telegram.forwarded == [(CHANNEL_ID, live.id)]


async def test_registry_change_seen_while_disconnected_applies_after_reconnect(
    tmp_path: Path, api_url: str, signals_db: DbConfig, telegram: FakeTelegram
) -> None:
    second = telegram.add_channel(SECOND_BARE_ID, "Second", "second_signals")
    config = gateway_config(tmp_path, api_url, CHANNEL_REFRESH_SECONDS="1")
    async with running_gateway(config, telegram) as gateway:
        await eventually(lambda: caught_up(gateway))
        telegram.reachable = False
        telegram.drop_connections()
        await eventually(lambda: gateway.telegram.state == "disconnected")
        created = await call(
            "POST",
            api_url + "/telegram-channels",
            json_body={"channelId": second.marked_id, "label": "Second"},
            headers={"X-API-Key": API_KEY},
        )
        assert created.status == 201
        await eventually(lambda: second.marked_id in gateway.telegram.registry_refs)
        assert second.marked_id not in gateway.telegram.channels
        telegram.reachable = True
        await eventually(lambda: second.marked_id in gateway.telegram.channels)
        await eventually(lambda: caught_up(gateway))
        await telegram.post(second, "after reconnect")
        await eventually(lambda: stored_counts(signals_db, second.marked_id)[0] == 1)
