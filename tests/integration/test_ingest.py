"""The ingest contract over real HTTP against a real PostgreSQL."""

from __future__ import annotations

import asyncio

import psycopg2
import pytest

from app.config import DbConfig
from tests.conftest import API_KEY, GATEWAY_TOKEN
from tests.support.http import call
from tests.support.messages import CHANNEL, TP_SIGNAL, message, signal_text

TOKEN = {"X-Gateway-Token": GATEWAY_TOKEN}


def rows(db: DbConfig, query: str, params: tuple = ()) -> list[tuple]:
    with psycopg2.connect(db.dsn()) as conn, conn.cursor() as cur:
        cur.execute(query, params)
        return cur.fetchall()


async def test_signal_is_stored_and_answered(api_url: str, signals_db: DbConfig) -> None:
    answer = await call("POST", api_url + "/ingest", json_body=message(1), headers=TOKEN)
    assert answer.status == 200, answer.body
    body = answer.json
    assert body["status"] == "ok"
    assert body["duplicate"] is False
    signal = body["signal"]
    assert signal["asset"] == "BOVAW32"
    assert signal["signal_type"] == "Swing Trade"
    assert signal["side"] == "buy"
    assert signal["buy_min"] == 1.04 and signal["buy_max"] == 1.06
    assert signal["target_1"] == 1.15 and signal["target_2"] == 2.15
    assert signal["target_final"] == 3.0 and signal["stop"] == 0.8
    assert signal["targets"] == [1.15, 2.15, 3.0]
    assert isinstance(signal["id"], int)

    stored = rows(
        signals_db,
        "SELECT asset, buy_min, buy_max, target_1, target_2, target_final, stop, targets"
        " FROM tp_capital_signals",
    )
    assert len(stored) == 1
    asset, *prices, targets = stored[0]
    assert asset == "BOVAW32"
    assert [float(p) for p in prices] == [1.04, 1.06, 1.15, 2.15, 3.0, 0.8]
    assert [float(t) for t in targets] == [1.15, 2.15, 3.0]
    assert rows(signals_db, "SELECT parse_status FROM telegram_messages") == [("signal",)]


async def test_label_numbers_and_market_orders_reach_the_row(
    api_url: str, signals_db: DbConfig
) -> None:
    """Alvo N fills target_N (Alvo 1 alone is also final); a market order has no entry price."""
    texts = [
        "Ativo: WEGE3\nCompra: 38,00 a 38,40\nAlvo 1: 40,00\nAlvo 2: 42,50\nStop: 36,00",
        "🟢Swing Trade\n\nAtivo: PETR4\nCompra: 36,20",
        "XAUUSD BUY NOW\nTP1 2350\nSL 2330",
    ]
    for n, text in enumerate(texts, 1):
        answer = await call("POST", api_url + "/ingest", json_body=message(n, text), headers=TOKEN)
        assert answer.status == 200 and answer.json["signal"] is not None, answer.body
    stored = rows(
        signals_db,
        "SELECT asset, buy_min, buy_max, target_1, target_2, target_final, stop, targets"
        " FROM tp_capital_signals ORDER BY message_id",
    )

    def plain(row: tuple) -> tuple:
        asset, *prices, targets = row
        return (
            asset,
            *(None if p is None else float(p) for p in prices),
            [float(t) for t in targets],
        )

    assert [plain(r) for r in stored] == [
        ("WEGE3", 38.0, 38.4, 40.0, 42.5, 42.5, 36.0, [40.0, 42.5]),
        ("PETR4", 36.2, 36.2, None, None, None, None, []),
        ("XAUUSD", None, None, 2350.0, None, 2350.0, 2330.0, [2350.0]),
    ]


async def test_chatter_is_stored_raw_but_is_no_signal(api_url: str, signals_db: DbConfig) -> None:
    answer = await call(
        "POST", api_url + "/ingest", json_body=message(2, "Bom dia pessoal!"), headers=TOKEN
    )
    assert answer.status == 200
    assert answer.json["signal"] is None
    assert answer.json["parse"]["status"] == "not_signal"
    assert answer.json["parse"]["reason"]
    assert rows(signals_db, "SELECT count(*) FROM tp_capital_signals") == [(0,)]
    assert rows(signals_db, "SELECT text, parse_status FROM telegram_messages") == [
        ("Bom dia pessoal!", "not_signal")
    ]


async def test_empty_text_is_accepted(api_url: str, signals_db: DbConfig) -> None:
    answer = await call("POST", api_url + "/ingest", json_body=message(3, ""), headers=TOKEN)
    assert answer.status == 200
    assert rows(signals_db, "SELECT count(*) FROM telegram_messages") == [(1,)]


async def test_repeat_is_a_duplicate_and_changes_nothing(
    api_url: str, signals_db: DbConfig
) -> None:
    first = await call("POST", api_url + "/ingest", json_body=message(7), headers=TOKEN)
    again = await call("POST", api_url + "/ingest", json_body=message(7), headers=TOKEN)
    assert first.json["duplicate"] is False
    assert again.status == 200
    assert again.json["duplicate"] is True
    assert rows(signals_db, "SELECT count(*), max(version) FROM tp_capital_signals") == [(1, 1)]
    assert rows(signals_db, "SELECT count(*) FROM telegram_message_versions") == [(0,)]


async def test_fifty_concurrent_copies_make_one_row(api_url: str, signals_db: DbConfig) -> None:
    answers = await asyncio.gather(
        *(
            call("POST", api_url + "/ingest", json_body=message(11), headers=TOKEN)
            for _ in range(50)
        )
    )
    assert [a.status for a in answers] == [200] * 50
    assert sum(1 for a in answers if not a.json["duplicate"]) == 1
    assert rows(signals_db, "SELECT count(*) FROM telegram_messages") == [(1,)]
    assert rows(signals_db, "SELECT count(*) FROM tp_capital_signals") == [(1,)]


async def test_edit_updates_signal_and_keeps_history(api_url: str, signals_db: DbConfig) -> None:
    original = message(20)
    await call("POST", api_url + "/ingest", json_body=original, headers=TOKEN)
    edit = message(20, signal_text("BOVAW32", stop="0,70"), editDate="2026-11-20T14:00:00+00:00")
    answer = await call("POST", api_url + "/ingest", json_body=edit, headers=TOKEN)
    assert answer.status == 200
    assert answer.json["edited"] is True and answer.json["duplicate"] is False
    assert answer.json["signal"]["stop"] == 0.7
    assert rows(signals_db, "SELECT stop::float, version FROM tp_capital_signals") == [(0.7, 2)]
    history = rows(signals_db, "SELECT version, data->>'stop' FROM tp_capital_signal_versions")
    assert history == [(1, "0.80000000")]
    text_history = rows(signals_db, "SELECT version, text FROM telegram_message_versions")
    assert text_history == [(1, TP_SIGNAL)]
    # The same edit again, and an older edit arriving late, change nothing.
    for late in (edit, message(20, "old", editDate="2026-11-20T13:30:00+00:00")):
        again = await call("POST", api_url + "/ingest", json_body=late, headers=TOKEN)
        assert again.json["duplicate"] is True
    assert rows(signals_db, "SELECT count(*) FROM telegram_message_versions") == [(1,)]


async def test_edit_into_chatter_removes_signal_but_keeps_it_in_history(
    api_url: str, signals_db: DbConfig
) -> None:
    await call("POST", api_url + "/ingest", json_body=message(21), headers=TOKEN)
    edit = message(21, "deleted by admin", editDate="2026-11-20T15:00:00Z")
    answer = await call("POST", api_url + "/ingest", json_body=edit, headers=TOKEN)
    assert answer.json["signal"] is None and answer.json["edited"] is True
    assert rows(signals_db, "SELECT count(*) FROM tp_capital_signals") == [(0,)]
    assert rows(signals_db, "SELECT count(*) FROM tp_capital_signal_versions") == [(1,)]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"messageId": 1, "timestamp": "2026-11-20T10:00:00Z", "text": "x"}, "channelId"),
        (
            {"channelId": "abc", "messageId": 1, "timestamp": "2026-11-20T10:00:00Z", "text": "x"},
            "channelId",
        ),
        (
            {
                "channelId": CHANNEL,
                "messageId": 0,
                "timestamp": "2026-11-20T10:00:00Z",
                "text": "x",
            },
            "messageId",
        ),
        ({"channelId": CHANNEL, "messageId": 1, "timestamp": "2026", "text": "x"}, "timestamp"),
        (
            {"channelId": CHANNEL, "messageId": 1, "timestamp": "yesterday", "text": "x"},
            "timestamp",
        ),
        ({"channelId": CHANNEL, "messageId": 1, "timestamp": "2026-11-20T10:00:00Z"}, "text"),
        (
            {"channelId": CHANNEL, "messageId": 1, "timestamp": "2026-11-20T10:00:00Z", "text": 5},
            "text",
        ),
        ({**message(1), "source": "robot"}, "source"),
        ({**message(1), "forwardedTo": {"channelId": 5}}, "forwardedTo"),
        ({**message(1), "editDate": "2020-01-01T00:00:00Z"}, "editDate"),
    ],
)
async def test_malformed_message_is_400_with_field_errors(
    api_url: str, signals_db: DbConfig, body: dict, field: str
) -> None:
    answer = await call("POST", api_url + "/ingest", json_body=body, headers=TOKEN)
    assert answer.status == 400
    error = answer.json["error"]
    assert error["code"] == "validation_failed"
    assert field in error["fields"]
    assert rows(signals_db, "SELECT count(*) FROM telegram_messages") == [(0,)]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "malformed_json"),
        (b"", 400, "empty_body"),
        (b"[1, 2]", 400, "validation_failed"),
        (b"\xff\xfe", 400, "malformed_json"),
    ],
)
async def test_unparseable_body(api_url: str, body: bytes, status: int, code: str) -> None:
    answer = await call(
        "POST",
        api_url + "/ingest",
        body=body,
        headers={**TOKEN, "Content-Type": "application/json"},
    )
    assert answer.status == status
    assert answer.json["error"]["code"] == code


async def test_oversize_body_is_413(api_url: str) -> None:
    big = message(1, "x" * 300_000)
    answer = await call("POST", api_url + "/ingest", json_body=big, headers=TOKEN)
    assert answer.status == 413
    assert answer.json["error"]["code"] == "payload_too_large"


@pytest.mark.parametrize("headers", [{}, {"X-Gateway-Token": "wrong-token-" + "x" * 30}])
async def test_missing_or_wrong_token_is_401_and_counted(
    api_url: str, signals_db: DbConfig, headers: dict
) -> None:
    answer = await call("POST", api_url + "/ingest", json_body=message(1), headers=headers)
    assert answer.status == 401
    assert answer.json["error"]["code"] == "invalid_gateway_token"
    assert GATEWAY_TOKEN not in answer.body.decode()
    metrics = (await call("GET", api_url + "/metrics")).body.decode()
    assert 'api_auth_failures_total{header="X-Gateway-Token"} 1.0' in metrics
    assert 'api_ingestion_requests_total{status="unauthorized"} 1.0' in metrics
    assert rows(signals_db, "SELECT count(*) FROM telegram_messages") == [(0,)]


async def test_api_key_is_not_a_gateway_token(api_url: str) -> None:
    answer = await call(
        "POST", api_url + "/ingest", json_body=message(1), headers={"X-Gateway-Token": API_KEY}
    )
    assert answer.status == 401


async def test_batch_answers_per_message(api_url: str, signals_db: DbConfig) -> None:
    batch = [
        message(1),
        message(2, "bom dia"),
        {"channelId": CHANNEL, "messageId": "x", "timestamp": "bad", "text": "x"},
        message(1),  # a copy inside the same batch
        message(3, signal_text("PETR4")),
    ]
    answer = await call(
        "POST", api_url + "/ingest/batch", json_body={"messages": batch}, headers=TOKEN
    )
    assert answer.status == 200, answer.body
    body = answer.json
    assert [r["status"] for r in body["results"]] == ["ok", "ok", "invalid", "ok", "ok"]
    assert body["results"][2]["errors"].keys() >= {"messageId", "timestamp"}
    assert body["results"][3]["duplicate"] is True
    assert body["accepted"] == 4 and body["rejected"] == 1
    assert rows(signals_db, "SELECT count(*) FROM telegram_messages") == [(3,)]
    assert rows(signals_db, "SELECT asset FROM tp_capital_signals ORDER BY asset") == [
        ("BOVAW32",),
        ("PETR4",),
    ]
    again = await call("POST", api_url + "/ingest/batch", json_body=batch, headers=TOKEN)
    assert again.json["duplicates"] == 4


@pytest.mark.parametrize("count", [0, 501])
async def test_batch_size_limits(api_url: str, count: int) -> None:
    batch = [message(i + 1) for i in range(count)]
    answer = await call(
        "POST", api_url + "/ingest/batch", json_body={"messages": batch}, headers=TOKEN
    )
    assert answer.status == 400
    assert "messages" in answer.json["error"]["fields"]


async def test_metrics_count_ingest_outcomes(api_url: str) -> None:
    await call("POST", api_url + "/ingest", json_body=message(1), headers=TOKEN)
    await call("POST", api_url + "/ingest", json_body=message(1), headers=TOKEN)
    metrics = (await call("GET", api_url + "/metrics")).body.decode()
    assert 'api_ingestion_requests_total{status="stored"} 1.0' in metrics
    assert 'api_ingestion_requests_total{status="duplicate"} 1.0' in metrics
    assert 'api_signals_inserted_total{signal_type="Swing Trade"} 1.0' in metrics
    assert 'api_timescaledb_errors_total{error_type="connection"} 0.0' in metrics
    assert "api_http_request_duration_seconds_bucket" in metrics
    assert 'route="/ingest"' in metrics


@pytest.mark.parametrize(
    "text",
    [
        "nul\x00inside",
        "lone surrogate \ud800 here",
        "Ativo: BIG\nCompra: 1.000.000.000.000,00\nAlvo: 2.000.000.000.000,00\nStop: 1,00",
    ],
)
async def test_awkward_text_is_stored_not_a_poison_pill(
    api_url: str, signals_db: DbConfig, text: str
) -> None:
    import json as jsonlib

    body = jsonlib.dumps([message(1, text), message(2)])
    answer = await call(
        "POST",
        api_url + "/ingest/batch",
        body=body,
        headers={**TOKEN, "Content-Type": "application/json"},
    )
    assert answer.status == 200, answer.body
    assert answer.json["accepted"] == 2
    assert rows(signals_db, "SELECT count(*) FROM telegram_messages") == [(2,)]


async def test_concurrent_single_ingests_are_committed_in_groups(
    api_url: str, signals_db: DbConfig
) -> None:
    answers = await asyncio.gather(
        *(
            call("POST", api_url + "/ingest", json_body=message(i + 1), headers=TOKEN)
            for i in range(300)
        )
    )
    assert [a.status for a in answers] == [200] * 300
    assert all(a.json["duplicate"] is False for a in answers)
    assert len({a.json["signal"]["id"] for a in answers}) == 300
    assert rows(signals_db, "SELECT count(*) FROM telegram_messages") == [(300,)]
    metrics = (await call("GET", api_url + "/metrics")).body.decode()
    statements = next(
        float(line.split()[-1])
        for line in metrics.splitlines()
        if line.startswith("api_ingest_group_size_count")
    )
    assert "api_ingest_group_size_sum 300.0" in metrics
    assert statements < 300  # some requests shared a statement


async def test_deeply_nested_body_is_400(api_url: str) -> None:
    body = "[" * 100_000 + "]" * 100_000
    answer = await call(
        "POST",
        api_url + "/ingest",
        body=body,
        headers={**TOKEN, "Content-Type": "application/json"},
    )
    assert answer.status == 400
    assert answer.json["error"]["code"] == "malformed_json"
