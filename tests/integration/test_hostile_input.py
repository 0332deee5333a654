"""Issue 10, at the HTTP level: hostile or odd input gets a 4xx naming the
problem, never a 500, and nothing already stored can make a read fail."""

from __future__ import annotations

import datetime as dt
import json

import psycopg2
import pytest
from prometheus_client import CollectorRegistry

from app.config import DbConfig
from app.web.dbhandler import describe_error
from tests.conftest import API_KEY, GATEWAY_TOKEN, api_env
from tests.integration.test_ingest import rows
from tests.support.api import serve_api
from tests.support.http import call
from tests.support.messages import CHANNEL, message, signal_text

TOKEN = {"X-Gateway-Token": GATEWAY_TOKEN}
KEY = {"X-API-Key": API_KEY}
JSON = {"Content-Type": "application/json"}
HUGE_INT = "9" * 5000  # past Python's 4,300-digit int conversion limit


# -- bug 1: integers longer than 4,300 digits ------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "headers", "template"),
    [
        ("POST", "/ingest", TOKEN, '{"channelId": %s, "messageId": 1}'),
        ("POST", "/ingest/batch", TOKEN, '{"messages": [{"messageId": %s}]}'),
        ("POST", "/telegram-channels", KEY, '{"label": "x", "channelId": %s}'),
        ("POST", "/telegram/channels", KEY, '{"label": "x", "channelId": %s}'),
        ("POST", "/telegram/bots", KEY, '{"username": "abcd", "token": %s}'),
        ("POST", "/messages/reparse", KEY, '{"limit": %s}'),
        ("PUT", "/telegram/bots/1", KEY, '{"description": %s}'),
    ],
)
async def test_huge_integer_is_400(
    api_url: str, method: str, path: str, headers: dict[str, str], template: str
) -> None:
    answer = await call(
        method, api_url + path, body=template % HUGE_INT, headers={**headers, **JSON}
    )
    assert answer.status == 400, answer.body[:300]
    assert answer.json["error"]["code"] == "malformed_json"
    assert "too many digits" in answer.json["error"]["message"]


@pytest.mark.parametrize("literal", ["NaN", "Infinity", "-Infinity", "1e999"])
async def test_non_finite_numbers_are_400(api_url: str, literal: str) -> None:
    body = '{"channelId": %s, "messageId": 1, "timestamp": "2026-11-20T10:00:00Z", "text": "x"}'
    answer = await call("POST", api_url + "/ingest", body=body % literal, headers={**TOKEN, **JSON})
    assert answer.status == 400 and answer.json["error"]["code"] == "malformed_json"


# -- bug 2: NUL and lone surrogates in the registries -----------------------------
BAD_TEXT = [("nul", "a\\u0000b", "NUL"), ("surrogate", "a\\ud800b", "surrogates")]


@pytest.mark.parametrize("base", ["/telegram-channels", "/telegram/channels"])
@pytest.mark.parametrize(("kind", "escaped", "named"), BAD_TEXT)
async def test_channel_registry_refuses_unstorable_text(
    api_url: str, signals_db: DbConfig, base: str, kind: str, escaped: str, named: str
) -> None:
    headers = {**KEY, **JSON}
    created = await call(
        "POST", api_url + base, json_body={"label": "ok", "channelId": CHANNEL}, headers=KEY
    )
    assert created.status == 201, created.body
    row_id = created.json["id"]
    for method, path, template in [
        ("POST", base, '{"channelId": -1001, "label": "%s"}'),
        ("POST", base, '{"channelId": -1002, "label": "ok", "description": "%s"}'),
        ("POST", base, '{"username": "%s", "label": "ok"}'),
        ("PUT", f"{base}/{row_id}", '{"label": "%s"}'),
        ("PUT", f"{base}/{row_id}", '{"description": "%s"}'),
    ]:
        answer = await call(method, api_url + path, body=template % escaped, headers=headers)
        assert answer.status == 400, (method, path, kind, answer.body)
        assert named in json.dumps(answer.json["error"]["fields"]), answer.body
    assert rows(signals_db, "SELECT count(*) FROM telegram_channels")[0][0] == 1


@pytest.mark.parametrize(("kind", "escaped", "named"), BAD_TEXT)
async def test_bot_registry_refuses_unstorable_text(
    api_url: str, kind: str, escaped: str, named: str
) -> None:
    token = "123456:" + "A" * 35
    headers = {**KEY, **JSON}
    created = await call(
        "POST",
        api_url + "/telegram/bots",
        json_body={"username": "good_bot", "token": token},
        headers=KEY,
    )
    assert created.status == 201, created.body
    for method, path in [
        ("POST", "/telegram/bots"),
        ("PUT", f"/telegram/bots/{created.json['id']}"),
    ]:
        body = f'{{"username": "other_bot", "token": "{token}", "description": "{escaped}"}}'
        answer = await call(method, api_url + path, body=body, headers=headers)
        assert answer.status == 400, (method, kind, answer.body)
        assert named in answer.json["error"]["fields"]["description"][0]


async def test_nul_in_a_query_parameter_is_400(api_url: str) -> None:
    for path in ("/signals?search=a%00b", "/messages?channel=%00", "/signals?asset=x%00"):
        answer = await call("GET", api_url + path)
        assert answer.status == 400, (path, answer.body)
        assert "NUL" in json.dumps(answer.json["error"]["fields"])


# -- bug 3: timestamps and odd rows already stored --------------------------------
@pytest.mark.parametrize(
    ("timestamp", "problem"),
    [
        ("0001-01-01T00:00:00+14:00", "between"),
        ("2012-12-31T23:59:59Z", "between"),
        ("9999-12-31T23:59:59-14:00", "between"),
        ((dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat(), "between"),
        ("2026-11-20T10:00:00-23:59", "offset"),
        ("2026-11-20T10:00:00+14:01", "offset"),
        (-1, "between"),
    ],
)
async def test_ingest_refuses_timestamps_outside_telegram(
    api_url: str, signals_db: DbConfig, timestamp: object, problem: str
) -> None:
    answer = await call(
        "POST", api_url + "/ingest", json_body=message(1, timestamp=timestamp), headers=TOKEN
    )
    assert answer.status == 400, answer.body
    assert problem in answer.json["error"]["fields"]["timestamp"][0]
    edit = message(2, editDate=timestamp)
    answer = await call("POST", api_url + "/ingest", json_body=edit, headers=TOKEN)
    assert answer.status == 400 and "editDate" in answer.json["error"]["fields"]
    assert rows(signals_db, "SELECT count(*) FROM telegram_messages")[0][0] == 0


async def test_ingest_accepts_the_widest_real_offsets(api_url: str) -> None:
    for number, offset in ((1, "+14:00"), (2, "-12:00")):
        body = message(number, timestamp=f"2026-11-20T10:00:00{offset}")
        answer = await call("POST", api_url + "/ingest", json_body=body, headers=TOKEN)
        assert answer.status == 200, answer.body


ODD_TIMESTAMPS = ["0001-01-01 00:00:00+14 BC", "infinity", "-infinity", "0100-02-28 10:00:00+00"]


def store_odd_rows(db: DbConfig) -> list[int]:
    """Rows no API call can write any more, as an older api version could have."""
    signal_ids = []
    with psycopg2.connect(db.dsn()) as conn, conn.cursor() as cur:
        for number, ts in enumerate(ODD_TIMESTAMPS, start=900):
            cur.execute(
                "INSERT INTO telegram_messages (channel_id, message_id, ts, text, parse_status,"
                " edit_date, forwarded_to) VALUES (%s, %s, %s::timestamptz, %s, 'signal',"
                ' %s::timestamptz, \'{"channelId": -1009, "messageId": 1}\')',
                (CHANNEL, number, ts, signal_text("ODD3"), ts),
            )
            cur.execute(
                "INSERT INTO tp_capital_signals (channel_id, message_id, ts, asset, signal_type,"
                " side, raw_message, buy_min, targets) VALUES (%s, %s, %s::timestamptz, 'ODD3',"
                " 'Swing Trade', 'buy', %s, 1.04, '{1.15}') RETURNING id",
                (CHANNEL, number, ts, signal_text("ODD3")),
            )
            signal_ids.append(cur.fetchone()[0])
    return signal_ids


async def test_odd_rows_already_stored_break_no_read(api_url: str, signals_db: DbConfig) -> None:
    for number in range(1, 4):
        body = message(number, signal_text(f"GOOD{number}"))
        assert (
            await call("POST", api_url + "/ingest", json_body=body, headers=TOKEN)
        ).status == 200
    odd_ids = store_odd_rows(signals_db)

    summary = await call("GET", api_url + "/channels")
    assert summary.status == 200, summary.body
    assert summary.json["data"][0]["signal_count"] == 3 + len(ODD_TIMESTAMPS)

    for path in ("/signals", "/messages"):
        seen: list[int] = []
        cursor = None
        while True:  # page through every row, odd ones and the cursors past them included
            query = f"{path}?limit=2" + (f"&cursor={cursor}" if cursor else "")
            page = await call("GET", api_url + query)
            assert page.status == 200, (query, page.body)
            seen += [row["id"] for row in page.json["data"]]
            cursor = page.json["nextCursor"]
            if cursor is None:
                break
        assert len(seen) == len(set(seen)) == 3 + len(ODD_TIMESTAMPS), path

    for signal_id in odd_ids:
        one = await call("GET", api_url + f"/signals/{signal_id}")
        assert one.status == 200, one.body
        assert one.json["asset"] == "ODD3" and one.json["targets"] == [1.15]

    forwarded = await call("GET", api_url + "/forwarded-messages")
    assert forwarded.status == 200 and forwarded.json["count"] == len(ODD_TIMESTAMPS)

    reparsed = await call("POST", api_url + "/messages/reparse", headers=KEY)
    assert reparsed.status == 200, reparsed.body
    assert reparsed.json["scanned"] == 3 + len(ODD_TIMESTAMPS)

    # And the odd signals can still be removed through the API.
    for signal_id in odd_ids:
        gone = await call("DELETE", api_url + f"/signals/{signal_id}", headers=KEY)
        assert gone.status == 200, gone.body


# -- bug 4: one bad element of a batch --------------------------------------------
async def test_bad_elements_of_a_batch_are_refused_one_by_one(
    api_url: str, signals_db: DbConfig
) -> None:
    batch = [
        message(1),
        message(2**63, ts=dt.datetime(2026, 11, 20, 10, tzinfo=dt.UTC)),
        message(3, timestamp="2026-11-20T10:00:00-23:59"),
        None,
        message(5, forwardedTo={"channelId": 2**63, "messageId": 1}),
        message(6, forwardedTo={"channelId": -1009, "messageId": 2**63}),
        message(7, channel_id=2**63),
        message(8, timestamp="0001-01-01T00:00:00+14:00"),
        "text",
        message(10),
    ]
    answer = await call("POST", api_url + "/ingest/batch", json_body=batch, headers=TOKEN)
    assert answer.status == 200, answer.body
    body = answer.json
    assert [r["status"] for r in body["results"]] == ["ok"] + ["invalid"] * 8 + ["ok"]
    assert body["accepted"] == 2 and body["rejected"] == 8
    assert "messageId" in body["results"][1]["errors"]
    assert "timestamp" in body["results"][2]["errors"]
    assert "forwardedTo" in body["results"][4]["errors"]
    assert "forwardedTo" in body["results"][5]["errors"]
    assert "channelId" in body["results"][6]["errors"]
    stored = rows(signals_db, "SELECT message_id FROM telegram_messages ORDER BY message_id")
    assert stored == [(1,), (10,)]


# -- bug 7: database errors logged without row contents ---------------------------
def test_database_error_description_holds_no_row_values(signals_db: DbConfig) -> None:
    secret = "123456:SECRET-bot-token-value-0123456789abcdef"
    with psycopg2.connect(signals_db.dsn()) as conn, conn.cursor() as cur:
        insert = "INSERT INTO telegram_bots (username, token) VALUES ('dup_bot', %s)"
        cur.execute(insert, (secret,))
        with pytest.raises(psycopg2.IntegrityError) as caught:
            cur.execute(insert, (secret,))
    assert "dup_bot" in str(caught.value)  # PostgreSQL's DETAIL quotes the row
    described = describe_error(caught.value, "req-1")
    assert described["pgcode"] == "23505" and described["table"] == "telegram_bots"
    assert "dup_bot" not in json.dumps(described) and "SECRET" not in json.dumps(described)


async def test_logs_need_the_api_key(api_url: str) -> None:
    assert (await call("GET", api_url + "/logs")).status == 401
    wrong = await call("GET", api_url + "/logs", headers={"X-API-Key": "x" * 30})
    assert wrong.status == 401
    assert (await call("GET", api_url + "/logs", headers=KEY)).status == 200


# -- bug 8: 405, OPTIONS and channelId 0 ------------------------------------------
@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PATCH", "/signals", "GET, OPTIONS"),
        ("TRACE", "/signals", "GET, OPTIONS"),
        ("POST", "/health", "GET, OPTIONS"),
        ("PUT", "/telegram/bots", "GET, POST, OPTIONS"),
        ("GET", "/ingest", "POST, OPTIONS"),
    ],
)
async def test_405_names_the_allowed_methods_and_the_request(
    api_url: str, method: str, path: str, allow: str
) -> None:
    answer = await call(method, api_url + path, headers={"X-Request-Id": "trace-405"})
    assert answer.status == 405
    assert answer.headers["Allow"] == allow
    assert answer.headers["X-Request-Id"] == "trace-405"
    assert answer.json["error"]["requestId"] == "trace-405"


async def test_405_comes_before_credentials(api_url: str) -> None:
    answer = await call("PATCH", api_url + "/telegram/bots/1", body=b"{}")
    assert answer.status == 405 and "PUT" in answer.headers["Allow"]


async def test_channel_id_zero_is_invalid_not_missing(api_url: str) -> None:
    answer = await call(
        "POST",
        api_url + "/telegram-channels",
        json_body={"channelId": 0, "label": "x"},
        headers=KEY,
    )
    assert answer.status == 400
    assert answer.json["error"]["fields"] == {"channelId": ["0 is not a Telegram channel id"]}


async def test_repeated_query_parameter_is_400(api_url: str) -> None:
    answer = await call("GET", api_url + "/signals?asset=A&asset=B")
    assert answer.status == 400 and "asset" in answer.json["error"]["fields"]


async def test_options_counts_against_the_rate_limit(signals_db: DbConfig) -> None:
    async with serve_api(api_env(signals_db, RATE_LIMIT_MAX="3"), CollectorRegistry()) as url:
        statuses = [(await call("OPTIONS", url + "/signals")).status for _ in range(4)]
        assert statuses == [204, 204, 204, 429]
        ingest = [(await call("OPTIONS", url + "/ingest")).status for _ in range(4)]
        assert ingest == [429] * 4  # the same per-client window


@pytest.mark.parametrize("channel", ["²", "-99999999999999999999999", "9" * 5000, "-", "٣"])
async def test_odd_channel_filters_are_not_a_server_error(api_url: str, channel: str) -> None:
    for path in ("/signals", "/messages"):
        answer = await call("GET", api_url + f"{path}?channel={channel}")
        assert answer.status in (200, 400), (channel[:20], answer.body)
