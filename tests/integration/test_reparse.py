"""`tpcap reparse` and `POST /messages/reparse`: one code path, one summary, real PostgreSQL."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from app.config import DbConfig
from app.parsing import PARSER_VERSION
from tests.conftest import API_KEY, GATEWAY_TOKEN, api_env
from tests.integration.test_ingest import rows
from tests.support.api import REPO
from tests.support.http import call
from tests.support.messages import CHANNEL, message, signal_text

TOKEN = {"X-Gateway-Token": GATEWAY_TOKEN}
KEY = {"X-API-Key": API_KEY}
OTHER = -1005555555555


def tpcap(db: DbConfig, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        env={**api_env(db, **env), "PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def snapshot(db: DbConfig) -> tuple[list[tuple], list[tuple], list[tuple]]:
    return (
        rows(
            db, "SELECT id, parse_status, parse_reason, version FROM telegram_messages ORDER BY id"
        ),
        rows(
            db,
            "SELECT channel_id, message_id, asset, buy_min, buy_max, target_1, target_2,"
            " target_final, targets, stop, version FROM tp_capital_signals ORDER BY 1, 2",
        ),
        rows(db, "SELECT count(*) FROM tp_capital_signal_versions"),
    )


async def seed_as_an_older_parser_left_it(api_url: str, db: DbConfig) -> int:
    """Messages whose stored outcome differs from today's parser in every way a re-parse meets.

    Returns the id of the signal a user deleted.
    """
    batch = [message(i, signal_text(f"KEEP{i}")) for i in range(1, 6)]
    batch += [
        message(10, signal_text("MISSED")),  # the old parser missed it
        message(11, signal_text("CHANGED")),  # the old parser read other prices
        message(12, signal_text("WRONGSTOP")),
        message(13, "bom dia, pessoal"),  # the old parser took it for a signal
        message(14, signal_text("DELETED")),  # a user deleted its signal
        message(15, "até amanhã"),
        message(1, signal_text("ELSEWHERE"), channel_id=OTHER, channelName="Other Channel"),
    ]
    answer = await call("POST", api_url + "/ingest/batch", json_body=batch, headers=TOKEN)
    assert answer.json["accepted"] == len(batch), answer.body
    rows(
        db,
        "WITH d AS (DELETE FROM tp_capital_signals WHERE message_id = 10 RETURNING 1)"
        " UPDATE telegram_messages SET parse_status = 'not_signal', parse_reason = 'old parser'"
        " WHERE message_id = 10 AND channel_id = %s RETURNING 1",
        (CHANNEL,),
    )
    rows(
        db,
        "UPDATE tp_capital_signals SET target_1 = 9, target_final = 9, targets = '{9}'"
        " WHERE message_id = 11 RETURNING 1",
    )
    rows(db, "UPDATE tp_capital_signals SET stop = 0.5 WHERE message_id = 12 RETURNING 1")
    rows(
        db,
        "WITH m AS (UPDATE telegram_messages SET parse_status = 'signal', parse_reason = NULL"
        "  WHERE message_id = 13 RETURNING channel_id, message_id, ts, text)"
        " INSERT INTO tp_capital_signals (channel_id, message_id, ts, asset, signal_type, side,"
        "  buy_min, buy_max, raw_message)"
        " SELECT channel_id, message_id, ts, 'BOM', 'Unspecified', 'buy', 1, 1, text FROM m"
        " RETURNING 1",
    )
    (deleted_id,) = rows(db, "SELECT id FROM tp_capital_signals WHERE message_id = 14")[0]
    gone = await call("DELETE", f"{api_url}/signals/{deleted_id}", headers=KEY)
    assert gone.status == 200
    return deleted_id


EXPECTED = {
    "parserVersion": PARSER_VERSION,
    "scanned": 12,
    "statusChanged": 2,  # message 10 (not_signal -> signal), message 13 (signal -> not_signal)
    "signalsCreated": 1,
    "signalsUpdated": 2,
    "signalsRemoved": 1,
    "unchanged": 7,  # five KEEP signals, "até amanhã", the other channel's signal
    "keptDeleted": 1,
    "changedFields": {"target_1": 1, "target_final": 1, "targets": 1, "stop": 1},
    "byStatus": {"not_signal": 2, "signal": 10},
}


def without_flags(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in summary.items() if k not in ("dryRun", "status")}


async def test_dry_run_changes_nothing_and_cli_and_endpoint_agree(
    api_url: str, signals_db: DbConfig
) -> None:
    await seed_as_an_older_parser_left_it(api_url, signals_db)
    before = snapshot(signals_db)

    cli = tpcap(signals_db, "reparse", "--dry-run", "--json", "--batch", "3")
    assert cli.returncode == 0, cli.stderr
    cli_summary = json.loads(cli.stdout)
    assert cli_summary["dryRun"] is True
    assert without_flags(cli_summary) == EXPECTED
    assert snapshot(signals_db) == before

    endpoint = await call(
        "POST", api_url + "/messages/reparse", json_body={"dryRun": True}, headers=KEY
    )
    assert endpoint.status == 200, endpoint.body
    assert endpoint.json["dryRun"] is True
    assert without_flags(endpoint.json) == without_flags(cli_summary)
    assert snapshot(signals_db) == before

    human = tpcap(signals_db, "reparse", "--dry-run")
    assert human.returncode == 0, human.stderr
    assert "dry run: nothing was written" in human.stdout
    assert "target_1 ×1, target_final ×1, targets ×1, stop ×1" in human.stdout
    assert snapshot(signals_db) == before


async def test_reparse_creates_changes_removes_and_keeps_deleted_deleted(
    api_url: str, signals_db: DbConfig
) -> None:
    deleted_id = await seed_as_an_older_parser_left_it(api_url, signals_db)

    cli = tpcap(signals_db, "reparse", "--json", "--batch", "2", "--progress", "always")
    assert cli.returncode == 0, cli.stderr
    assert without_flags(json.loads(cli.stdout)) == EXPECTED
    assert "reparse [" in cli.stderr and "12/12 100%" in cli.stderr  # the progress bar

    signals = {
        m: (asset, t1, tf, stop)
        for m, asset, t1, tf, stop in rows(
            signals_db,
            "SELECT message_id, asset, target_1, target_final, stop FROM tp_capital_signals"
            " WHERE channel_id = %s",
            (CHANNEL,),
        )
    }
    assert signals[10][0] == "MISSED"
    assert [float(v) for v in signals[11][1:]] == [1.15, 3.0, 0.8]
    assert float(signals[12][3]) == 0.8
    assert 13 not in signals and 14 not in signals
    assert rows(
        signals_db,
        "SELECT parse_status FROM telegram_messages WHERE message_id IN (10, 13)"
        " AND channel_id = %s ORDER BY message_id",
        (CHANNEL,),
    ) == [("signal",), ("not_signal",)]
    assert (await call("GET", f"{api_url}/signals/{deleted_id}")).status == 404

    again = await call("POST", api_url + "/messages/reparse", json_body={}, headers=KEY)
    assert again.status == 200
    assert again.json["unchanged"] == 11 and again.json["keptDeleted"] == 1
    assert again.json["changedFields"] == {}
    assert again.json["signalsCreated"] == again.json["signalsRemoved"] == 0


async def test_channel_and_since_filters(api_url: str, signals_db: DbConfig) -> None:
    await seed_as_an_older_parser_left_it(api_url, signals_db)
    by_name = tpcap(signals_db, "reparse", "--dry-run", "--json", "--channel", "@other channel")
    assert by_name.returncode == 0, by_name.stderr
    assert json.loads(by_name.stdout)["scanned"] == 1
    by_id = tpcap(signals_db, "reparse", "--dry-run", "--json", "--channel", str(CHANNEL))
    assert json.loads(by_id.stdout)["scanned"] == 11
    endpoint = await call(
        "POST",
        api_url + "/messages/reparse",
        json_body={"channel": "Other Channel", "dryRun": True},
        headers=KEY,
    )
    assert endpoint.json["scanned"] == 1
    # Seeded messages are dated 2026-11-20 13:01 onwards, one a minute.
    since = tpcap(signals_db, "reparse", "--dry-run", "--json", "--since", "2026-11-20T13:12:00Z")
    assert json.loads(since.stdout)["scanned"] == 4  # messages 12 to 15
    recent = tpcap(signals_db, "reparse", "--dry-run", "--json", "--since", "36500d")
    assert recent.returncode == 0, recent.stderr
    assert json.loads(recent.stdout)["scanned"] == 12


async def test_bad_arguments_are_one_clear_line(api_url: str, signals_db: DbConfig) -> None:
    bad_since = tpcap(signals_db, "reparse", "--since", "yesterday")
    assert bad_since.returncode == 2
    assert bad_since.stderr.strip().splitlines() == [
        "tpcap reparse: --since 'yesterday' is neither an ISO 8601 date nor a duration like "
        "30d, 12h, 90m, 2w"
    ]
    unreachable = tpcap(signals_db, "reparse", TIMESCALEDB_PORT="1")
    assert unreachable.returncode == 4
    assert len(unreachable.stderr.strip().splitlines()) == 1
    assert unreachable.stderr.startswith("tpcap reparse: cannot use postgres@")
    both = await call(
        "POST",
        api_url + "/messages/reparse",
        json_body={"channel": "x", "channelId": 1},
        headers=KEY,
    )
    assert both.status == 400 and "channel" in both.json["error"]["fields"]


async def test_the_openapi_document_declares_the_summary(api_url: str) -> None:
    spec = (await call("GET", api_url + "/openapi.json")).json
    declared = spec["components"]["schemas"]["ReparseReport"]
    request = spec["components"]["schemas"]["Reparse"]["properties"]
    assert {"dryRun", "channel"} <= set(request)
    answer = await call("POST", api_url + "/messages/reparse", json_body={}, headers=KEY)
    assert set(answer.json) == set(declared["properties"])
    assert set(declared["required"]) == set(declared["properties"])
    ok = spec["paths"]["/messages/reparse"]["post"]["responses"]["200"]
    assert ok["content"]["application/json"]["schema"]["$ref"].endswith("/ReparseReport")


async def test_an_odd_stored_timestamp_does_not_stop_a_reparse(
    api_url: str, signals_db: DbConfig
) -> None:
    await call("POST", api_url + "/ingest", json_body=message(1), headers=TOKEN)
    rows(
        signals_db,
        "INSERT INTO telegram_messages (channel_id, message_id, ts, text, parse_status)"
        " VALUES (-1001, 1, '0001-06-01 00:00:00+00 BC', %s, 'not_signal'),"
        "        (-1001, 2, 'infinity', %s, 'not_signal') RETURNING 1",
        (signal_text("ANCIENT"), "bom dia"),
    )
    cli = tpcap(signals_db, "reparse", "--json")
    assert cli.returncode == 0, cli.stderr
    summary = json.loads(cli.stdout)
    assert summary["scanned"] == 3 and summary["signalsCreated"] == 1
    assert rows(signals_db, "SELECT asset FROM tp_capital_signals WHERE channel_id = -1001") == [
        ("ANCIENT",)
    ]
