"""Read, registry and operational endpoints over real HTTP."""

from __future__ import annotations

import datetime as dt
from urllib.parse import quote

import pytest

from app.config import DbConfig
from tests.conftest import API_KEY, GATEWAY_TOKEN
from tests.integration.test_ingest import rows
from tests.support.http import call
from tests.support.messages import CHANNEL, message, signal_text

TOKEN = {"X-Gateway-Token": GATEWAY_TOKEN}
KEY = {"X-API-Key": API_KEY}
OTHER_CHANNEL = -1009999999999


async def seed(api_url: str) -> None:
    batch = [message(i, signal_text(f"ASSET{i}")) for i in range(1, 31)]
    batch += [
        message(100, "bom dia"),
        message(1, signal_text("OTHER1"), channel_id=OTHER_CHANNEL, channelName="Other"),
    ]
    answer = await call("POST", api_url + "/ingest/batch", json_body=batch, headers=TOKEN)
    assert answer.json["accepted"] == 32


async def test_signals_newest_first_with_cursor_pages(api_url: str) -> None:
    await seed(api_url)
    seen: list[str] = []
    url = api_url + "/signals?limit=7&channel=" + str(CHANNEL)
    cursor = None
    pages = 0
    while True:
        answer = await call("GET", url + (f"&cursor={cursor}" if cursor else ""))
        assert answer.status == 200
        body = answer.json
        seen += [s["asset"] for s in body["data"]]
        for signal in body["data"]:
            assert isinstance(signal["buy_min"], float)
            assert isinstance(signal["targets"], list)
        cursor = body["nextCursor"]
        pages += 1
        if not cursor:
            break
    assert pages == 5
    assert seen == [f"ASSET{i}" for i in range(30, 0, -1)]


async def test_signal_filters(api_url: str) -> None:
    await seed(api_url)

    async def assets(query: str) -> list[str]:
        answer = await call("GET", api_url + "/signals?" + query)
        assert answer.status == 200, answer.body
        return [s["asset"] for s in answer.json["data"]]

    assert await assets("asset=asset5") == ["ASSET5"]
    assert await assets("channel=Other") == ["OTHER1"]
    assert await assets(f"channel={OTHER_CHANNEL}") == ["OTHER1"]
    assert len(await assets("type=swing%20trade&limit=1000")) == 31
    assert await assets("type=Day%20Trade") == []
    assert await assets("search=ASSET2&limit=100") == [
        f"ASSET{i}" for i in (29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 2)
    ]
    start = dt.datetime(2026, 11, 20, 13, 10, tzinfo=dt.UTC)
    end = dt.datetime(2026, 11, 20, 13, 12, tzinfo=dt.UTC)
    iso = await assets(
        f"channel={CHANNEL}&from={quote(start.isoformat())}&to={quote(end.isoformat())}"
    )
    assert iso == ["ASSET12", "ASSET11", "ASSET10"]
    millis = await assets(
        f"channel={CHANNEL}&from={int(start.timestamp() * 1000)}&to={int(end.timestamp() * 1000)}"
    )
    assert millis == iso


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("limit=ten", "limit"),
        ("from=2024", "from"),
        ("to=not-a-date", "to"),
        ("from=2026-01-02&to=2026-01-01", "from"),
        ("cursor=%%%", "cursor"),
    ],
)
async def test_bad_queries_are_400_not_500(api_url: str, query: str, field: str) -> None:
    answer = await call("GET", api_url + "/signals?" + query)
    assert answer.status == 400, answer.body
    assert field in answer.json["error"]["fields"]


async def test_get_and_delete_one_signal(api_url: str, signals_db: DbConfig) -> None:
    created = await call("POST", api_url + "/ingest", json_body=message(5), headers=TOKEN)
    signal_id = created.json["signal"]["id"]
    one = await call("GET", f"{api_url}/signals/{signal_id}")
    assert one.status == 200 and one.json["asset"] == "BOVAW32"
    assert (await call("GET", f"{api_url}/signals/999999")).status == 404
    assert (await call("DELETE", f"{api_url}/signals/{signal_id}")).status == 401
    deleted = await call("DELETE", f"{api_url}/signals/{signal_id}", headers=KEY)
    assert deleted.status == 200
    assert (await call("GET", f"{api_url}/signals/{signal_id}")).status == 404
    assert (await call("DELETE", f"{api_url}/signals/{signal_id}", headers=KEY)).status == 404
    # The raw message stays, and a re-parse does not bring the deleted signal back.
    assert rows(signals_db, "SELECT count(*) FROM telegram_messages") == [(1,)]
    report = await call("POST", api_url + "/messages/reparse", json_body={}, headers=KEY)
    assert report.json["signalsCreated"] == 0
    assert rows(signals_db, "SELECT count(*) FROM tp_capital_signals") == [(0,)]


async def test_messages_list_every_raw_message(api_url: str) -> None:
    await seed(api_url)
    answer = await call("GET", api_url + "/messages?status=not_signal")
    assert [m["text"] for m in answer.json["data"]] == ["bom dia"]
    everything = await call("GET", api_url + "/messages?limit=1000")
    assert everything.json["count"] == 32


async def test_reparse_turns_stored_messages_into_signals(
    api_url: str, signals_db: DbConfig
) -> None:
    await call("POST", api_url + "/ingest", json_body=message(1), headers=TOKEN)
    # Simulate an older parser that missed this message.
    with_conn = rows(
        signals_db,
        "WITH d AS (DELETE FROM tp_capital_signals RETURNING 1) "
        "UPDATE telegram_messages SET parse_status = 'not_signal', parse_reason = 'old parser' "
        "RETURNING 1",
    )
    assert with_conn == [(1,)]
    assert (await call("POST", api_url + "/messages/reparse", json_body={})).status == 401
    report = await call("POST", api_url + "/messages/reparse", json_body={}, headers=KEY)
    assert report.status == 200
    assert report.json["scanned"] == 1
    assert report.json["statusChanged"] == 1
    assert report.json["signalsCreated"] == 1
    again = await call("POST", api_url + "/messages/reparse", json_body={}, headers=KEY)
    assert again.json["statusChanged"] == 0 and again.json["signalsUpdated"] == 0
    bad = await call("POST", api_url + "/messages/reparse", json_body={"limit": 0}, headers=KEY)
    assert bad.status == 400


async def test_forwarded_messages_and_channel_summary(api_url: str) -> None:
    await seed(api_url)
    forwarded = message(200, "fwd", forwardedTo={"channelId": -100555, "messageId": 9})
    await call("POST", api_url + "/ingest", json_body=forwarded, headers=TOKEN)
    answer = await call("GET", api_url + f"/forwarded-messages?channelId={CHANNEL}")
    assert [m["forwarded_to"] for m in answer.json["data"]] == [
        {"channelId": -100555, "messageId": 9}
    ]
    summary = await call("GET", api_url + "/channels")
    by_channel = {c["channel_id"]: c for c in summary.json["data"]}
    assert by_channel[CHANNEL]["signal_count"] == 30
    assert by_channel[CHANNEL]["last_signal_asset"] == "ASSET30"
    assert by_channel[OTHER_CHANNEL]["signal_count"] == 1


@pytest.mark.parametrize("base", ["/telegram-channels", "/telegram/channels"])
async def test_channel_registry(api_url: str, base: str) -> None:
    body = {"channelId": CHANNEL, "label": "TP Capital", "username": "@tpcapital"}
    assert (await call("POST", api_url + base, json_body=body)).status == 401
    created = await call("POST", api_url + base, json_body=body, headers=KEY)
    assert created.status == 201, created.body
    row_id = created.json["id"]
    assert created.json["username"] == "tpcapital"
    assert (await call("POST", api_url + base, json_body=body, headers=KEY)).status == 409
    bad = await call("POST", api_url + base, json_body={"label": ""}, headers=KEY)
    assert bad.status == 400 and "label" in bad.json["error"]["fields"]
    unknown = await call("POST", api_url + base, json_body={**body, "x": 1}, headers=KEY)
    assert unknown.status == 400 and "x" in unknown.json["error"]["fields"]
    updated = await call("PUT", f"{api_url}{base}/{row_id}", json_body={"label": "TP"}, headers=KEY)
    assert updated.status == 200 and updated.json["label"] == "TP"
    config = await call("GET", api_url + "/config/channels")
    assert [c["channelId"] for c in config.json["channels"]] == [CHANNEL]
    assert (await call("PUT", f"{api_url}{base}/4242", json_body={}, headers=KEY)).status == 404
    assert (await call("DELETE", f"{api_url}{base}/{row_id}", headers=KEY)).status == 200
    assert (await call("DELETE", f"{api_url}{base}/{row_id}", headers=KEY)).status == 404
    assert (await call("GET", api_url + base)).json["count"] == 0
    # Soft-deleted: the same channel can be registered again.
    assert (await call("POST", api_url + base, json_body=body, headers=KEY)).status == 201


async def test_bot_tokens_are_only_shown_masked(api_url: str, signals_db: DbConfig) -> None:
    token = "123456789:AAH-secretsecretsecretsecret_abcd1234"
    created = await call(
        "POST",
        api_url + "/telegram/bots",
        json_body={"username": "tp_bot", "token": token},
        headers=KEY,
    )
    assert created.status == 201, created.body
    listing = await call("GET", api_url + "/telegram/bots")
    for body in (created.body, listing.body):
        assert b"secretsecret" not in body
    assert listing.json["data"][0]["tokenMasked"] == "123456789:********1234"
    assert rows(signals_db, "SELECT token FROM telegram_bots") == [(token,)]
    bad = await call(
        "POST", api_url + "/telegram/bots", json_body={"username": "x", "token": "1"}, headers=KEY
    )
    assert bad.status == 400 and {"username", "token"} <= bad.json["error"]["fields"].keys()
    row_id = created.json["id"]
    upd = await call(
        "PUT", f"{api_url}/telegram/bots/{row_id}", json_body={"isActive": False}, headers=KEY
    )
    assert upd.status == 200 and upd.json["isActive"] is False
    assert (await call("DELETE", f"{api_url}/telegram/bots/{row_id}", headers=KEY)).status == 200
    assert (
        await call("PUT", f"{api_url}/telegram/bots/{row_id}", json_body={}, headers=KEY)
    ).status == 404


async def test_system_endpoints(api_url: str) -> None:
    root = await call("GET", api_url + "/")
    assert root.json["service"] == "tp-capital-api" and "/signals" in root.json["endpoints"]
    health = await call("GET", api_url + "/health")
    assert health.status == 200 and health.json["checks"]["database"]["status"] == "ok"
    ready = await call("GET", api_url + "/ready")
    assert ready.status == 200 and ready.json["checks"]["migrations"]["missing"] == []
    assert (await call("GET", api_url + "/healthz")).status == 200
    spec = (await call("GET", api_url + "/openapi.json")).json
    assert spec["openapi"].startswith("3.")
    assert "/ingest" in spec["paths"] and "/signals/{id}" in spec["paths"]
    assert "buy_min" in spec["components"]["schemas"]["Signal"]["properties"]
    assert "channelId" in spec["components"]["schemas"]["IngestMessage"]["properties"]
    assert (await call("GET", api_url + "/logs?limit=5")).status == 401
    logs = await call("GET", api_url + "/logs?limit=5", headers=KEY)
    assert logs.status == 200 and "logs" in logs.json
    missing = await call("GET", api_url + "/nope")
    assert missing.status == 404 and missing.json["error"]["code"] == "not_found"


async def test_security_headers_and_request_id(api_url: str) -> None:
    answer = await call("GET", api_url + "/signals", headers={"X-Request-Id": "abc-123"})
    assert answer.headers["X-Request-Id"] == "abc-123"
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    assert answer.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert "default-src 'self'" in answer.headers["Content-Security-Policy"]
    assert answer.headers["Strict-Transport-Security"].startswith("max-age=")
    assert "Server" not in answer.headers
    generated = await call("GET", api_url + "/signals")
    assert len(generated.headers["X-Request-Id"]) == 32


async def test_cors(api_url: str) -> None:
    preflight = await call(
        "OPTIONS",
        api_url + "/signals",
        headers={"Origin": "http://dashboard.example", "Access-Control-Request-Method": "GET"},
    )
    assert preflight.status == 204
    assert preflight.headers["Access-Control-Allow-Origin"] == "http://dashboard.example"
    assert "GET" in preflight.headers["Access-Control-Allow-Methods"]
    assert "X-API-Key" in preflight.headers["Access-Control-Allow-Headers"]
    foreign = await call("GET", api_url + "/signals", headers={"Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in foreign.headers


async def test_writes_refused_when_no_api_key_configured(signals_db: DbConfig) -> None:
    from prometheus_client import CollectorRegistry

    from tests.conftest import api_env
    from tests.support.api import serve_api

    env = api_env(signals_db)
    del env["TP_CAPITAL_API_KEY"]
    async with serve_api(env, CollectorRegistry()) as url:
        answer = await call(
            "POST",
            url + "/telegram-channels",
            json_body={"label": "x"},
            headers={"X-API-Key": "anything-at-all-123"},
        )
        assert answer.status == 403
        assert "TP_CAPITAL_API_KEY" in answer.json["error"]["message"]


async def test_rate_limit(signals_db: DbConfig) -> None:
    from prometheus_client import CollectorRegistry

    from tests.conftest import api_env
    from tests.support.api import serve_api

    env = api_env(signals_db, RATE_LIMIT_MAX="5", INGEST_RATE_LIMIT_MAX="1000")
    async with serve_api(env, CollectorRegistry()) as url:
        statuses = []
        for _ in range(7):
            answer = await call("GET", url + "/signals")
            statuses.append(answer.status)
        assert statuses == [200] * 5 + [429] * 2
        assert answer.headers["RateLimit-Limit"] == "5"
        assert answer.headers["RateLimit-Remaining"] == "0"
        assert int(answer.headers["Retry-After"]) >= 1
        assert answer.json["error"]["code"] == "rate_limited"
        # The gateway's ingest has its own, higher limit, and health probes none.
        for i in range(20):
            ok = await call("POST", url + "/ingest", json_body=message(i + 1), headers=TOKEN)
            assert ok.status == 200
        assert (await call("GET", url + "/health")).status == 200
