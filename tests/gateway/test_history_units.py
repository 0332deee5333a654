"""Pure parts of the registry, backfill and rescan settings."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from app.config import ConfigError, Env
from app.gateway.backfill_request import BackfillRequestError, parse_backfill_request, parse_since
from app.gateway.config import Backfill, GatewayConfig, parse_backfill, parse_window
from app.gateway.outbox import OutboxStore, deletion_entry, new_entry
from app.gateway.telegram import registry_refs
from tests.gateway.conftest import gateway_env


def test_backfill_setting_forms() -> None:
    assert parse_backfill("TELEGRAM_BACKFILL", None) is None
    assert parse_backfill("TELEGRAM_BACKFILL", "none") is None
    assert parse_backfill("TELEGRAM_BACKFILL", "0") is None
    assert parse_backfill("TELEGRAM_BACKFILL", "500") == Backfill(limit=500)
    assert parse_backfill("TELEGRAM_BACKFILL", "30d") == Backfill(since=dt.timedelta(days=30))
    assert parse_backfill("TELEGRAM_BACKFILL", "12h") == Backfill(since=dt.timedelta(hours=12))
    with pytest.raises(ConfigError, match="TELEGRAM_BACKFILL"):
        parse_backfill("TELEGRAM_BACKFILL", "a month")
    assert parse_window(None) == dt.timedelta(hours=48)
    assert parse_window("0") is None
    with pytest.raises(ConfigError, match="EDIT_RESCAN_WINDOW"):
        parse_window("forever")


def test_channels_may_come_from_the_registry_only(tmp_path: Path) -> None:
    env = gateway_env(tmp_path, "http://127.0.0.1:1", CHANNEL_REFRESH_SECONDS="15")
    env.pop("TELEGRAM_CHANNELS")
    config = GatewayConfig.from_env(Env(env))
    assert config.telegram_configured and config.channels == ()
    assert config.channel_refresh_s == 15


def test_registry_answer_becomes_channel_refs() -> None:
    body = {
        "channels": [
            {"channelId": -1001234567890, "username": None},
            {"channelId": 1234567891, "username": None},  # bare id
            {"channelId": None, "username": "@signals_x"},
            {"channelId": -1001234567890, "username": "dup"},
        ]
    }
    assert registry_refs(body) == (-1001234567890, -1001234567891, "signals_x")
    assert registry_refs({}) == ()


def test_backfill_request_validation() -> None:
    now = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)
    assert parse_since("2024-05-01", now) == dt.timedelta(days=31)
    assert parse_backfill_request({"channel": "-1001", "limit": 5}) == (-1001, Backfill(limit=5))
    for body, problem in [
        ({"channel": "x"}, "exactly one"),
        ({"channel": "x", "limit": 1, "since": "2024-01-01"}, "exactly one"),
        ({"channel": "", "limit": 1}, "channel"),
        ({"channel": "x", "limit": 0}, "limit"),
        ({"channel": "x", "since": "yesterday"}, "since"),
        ({"channel": "x", "since": "2999-01-01"}, "future"),
        ({"channel": "x", "limit": 1, "extra": 1}, "unknown"),
        ([], "object"),
    ]:
        with pytest.raises(BackfillRequestError, match=problem):
            parse_backfill_request(body)


def test_outbox_batches_hold_one_kind_and_remember_delivered_edits(tmp_path: Path) -> None:
    store = OutboxStore(tmp_path / "outbox.sqlite3", 1 << 20)
    message = {"channelId": -1001, "messageId": 5, "timestamp": "2024-01-01T00:00:00+00:00"}
    store.add_many(
        [
            new_entry({**message, "editDate": "2024-01-01T00:05:00+00:00"}),
            deletion_entry(-1001, 4, "2024-01-01T00:06:00+00:00"),
            deletion_entry(-1001, 3, "2024-01-01T00:06:00+00:00"),
            new_entry({**message, "messageId": 6}),
        ]
    )
    first = store.next_batch(500, 1 << 20)
    assert [e.is_deletion for e in first] == [False]
    store.mark_delivered([e.seq for e in first])
    second = store.next_batch(500, 1 << 20)
    assert [(e.message_id, e.is_deletion) for e in second] == [(4, True), (3, True)]
    store.mark_delivered([e.seq for e in second])
    assert store.delivered_edits(-1001) == {5: "2024-01-01T00:05:00+00:00"}
    # A deletion never raises the channel's accepted id.
    assert store.accepted_ids() == {-1001: 5}
    store.close()


def test_backfill_job_resumes_from_its_cursor(tmp_path: Path) -> None:
    store = OutboxStore(tmp_path / "outbox.sqlite3", 1 << 20)
    job = store.start_backfill(-1001, 10, 500, "last 490 messages")
    assert (job.cursor, job.done, job.as_dict()["fraction"]) == (10, False, 0.0)
    store.advance_backfill(-1001, 255, 200, False)
    store.close()
    reopened = OutboxStore(tmp_path / "outbox.sqlite3", 1 << 20)
    job = reopened.backfill(-1001)
    assert job is not None and (job.cursor, job.read) == (255, 200)
    assert job.as_dict()["fraction"] == 0.5
    reopened.advance_backfill(-1001, 500, 0, True)
    assert reopened.backfill(-1001).done
    reopened.close()
