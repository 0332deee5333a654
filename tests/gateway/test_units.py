"""Pure pieces and the outbox store: payloads, config errors, sessions, ordering, the size cap."""

from __future__ import annotations

import datetime as dt
import os
import stat
from pathlib import Path

import pytest
from telethon.tl import types

from app.config import ConfigError, Env
from app.gateway.config import GatewayConfig
from app.gateway.outbox import AddResult, OutboxStore, new_entry
from app.gateway.payload import message_payload
from app.gateway.publisher import read_batch_answer
from app.gateway.session import (
    EXIT_SESSION_CORRUPT,
    EXIT_SESSION_UNSAFE,
    SessionCorrupt,
    SessionUnsafe,
    open_file_session,
)
from tests.gateway.conftest import CHANNEL_ID, gateway_env


def telethon_message(message_id: int = 7, text: str | None = "Ativo: PETR4", edited: bool = False):
    posted = dt.datetime(2024, 3, 1, 12, 0, tzinfo=dt.UTC)
    return types.Message(
        id=message_id,
        peer_id=types.PeerChannel(1_234_567_890),
        date=posted,
        message=text,
        edit_date=posted + dt.timedelta(minutes=3) if edited else None,
    )


def payload(message_id: int, text: str = "x", edit: str | None = None) -> dict:
    return {
        "channelId": CHANNEL_ID,
        "messageId": message_id,
        "timestamp": "2024-03-01T12:00:00+00:00",
        "text": text,
        "channelName": "TP",
        "editDate": edit,
        "source": "user",
        "forwardedTo": None,
    }


# -- payload ---------------------------------------------------------------------
def test_message_payload_is_the_ingest_contract() -> None:
    assert message_payload(telethon_message(), channel_name="TP Capital", source="user") == {
        "channelId": CHANNEL_ID,
        "messageId": 7,
        "timestamp": "2024-03-01T12:00:00+00:00",
        "text": "Ativo: PETR4",
        "channelName": "TP Capital",
        "editDate": None,
        "source": "user",
        "forwardedTo": None,
    }


def test_edit_keeps_the_post_date_and_media_without_text_is_empty() -> None:
    edited = message_payload(
        telethon_message(text=None, edited=True), channel_name=None, source="bot"
    )
    assert edited["timestamp"] == "2024-03-01T12:00:00+00:00"
    assert edited["editDate"] == "2024-03-01T12:03:00+00:00"
    assert edited["text"] == "" and edited["source"] == "bot"


# -- config ----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("change", "variable"),
    [
        ({"TELEGRAM_API_ID": "abc"}, "TELEGRAM_API_ID"),
        ({"TELEGRAM_API_HASH": ""}, "TELEGRAM_API_HASH"),
        ({"API_SECRET_TOKEN": "short"}, "API_SECRET_TOKEN"),
        ({"API_ENDPOINT": "ftp://x"}, "API_ENDPOINT"),
        ({"TELEGRAM_CHANNELS": "not a channel!"}, "TELEGRAM_CHANNELS"),
        ({"GATEWAY_PORT": "70000"}, "GATEWAY_PORT"),
        ({"TELEGRAM_DC_ID": "2"}, "TELEGRAM_DC_ADDRESS"),
        ({"TELEGRAM_DC_ID": "2", "TELEGRAM_DC_ADDRESS": "nohost"}, "TELEGRAM_DC_ADDRESS"),
        ({"OUTBOX_MAX_BYTES": "12"}, "OUTBOX_MAX_BYTES"),
    ],
)
def test_bad_config_names_the_variable(tmp_path: Path, change: dict, variable: str) -> None:
    with pytest.raises(ConfigError) as caught:
        GatewayConfig.from_env(Env(gateway_env(tmp_path, "http://127.0.0.1:1", **change)))
    assert caught.value.variable == variable


def test_config_reads_lists_and_dc(tmp_path: Path) -> None:
    key = tmp_path / "server.pem"
    key.write_text("x")
    config = GatewayConfig.from_env(
        Env(
            gateway_env(
                tmp_path,
                "http://a:4005/, http://b:4005",
                TELEGRAM_CHANNELS="-1001, @tp_capital_signals",
                TELEGRAM_DC_ID="2",
                TELEGRAM_DC_ADDRESS="149.154.167.40:443",
                TELEGRAM_SERVER_PUBLIC_KEY=str(key),
            )
        )
    )
    assert config.endpoints == ("http://a:4005", "http://b:4005")
    assert config.channels == (-1001, "tp_capital_signals")
    assert config.dc is not None and (config.dc.dc_id, config.dc.host, config.dc.port) == (
        2,
        "149.154.167.40",
        443,
    )


# -- session ---------------------------------------------------------------------
def test_session_dir_readable_by_others_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "session"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    (directory / "gateway.session").write_bytes(b"")
    with pytest.raises(SessionUnsafe) as caught:
        open_file_session(directory / "gateway.session")
    assert caught.value.exit_code == EXIT_SESSION_UNSAFE


def test_new_session_file_is_0600_in_a_0700_dir(tmp_path: Path) -> None:
    path = tmp_path / "session" / "gateway.session"
    session = open_file_session(path, create=True)
    assert session is not None
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_corrupt_session_is_moved_aside(tmp_path: Path) -> None:
    directory = tmp_path / "session"
    directory.mkdir(mode=0o700)
    path = directory / "gateway.session"
    path.write_bytes(b"this is not an SQLite database" * 100)
    os.chmod(path, 0o600)
    with pytest.raises(SessionCorrupt) as caught:
        open_file_session(path)
    assert caught.value.exit_code == EXIT_SESSION_CORRUPT
    assert "tpcap gateway login" in str(caught.value)
    assert not path.exists()
    assert len(list(directory.glob("gateway.session.corrupt-*"))) == 1


def test_missing_session_means_not_logged_in(tmp_path: Path) -> None:
    assert open_file_session(tmp_path / "gateway.session") is None


# -- outbox ----------------------------------------------------------------------
def test_outbox_keeps_arrival_order_and_ignores_repeats(tmp_path: Path) -> None:
    store = OutboxStore(tmp_path / "o.sqlite3", 10_000_000)
    results = store.add_many([new_entry(payload(i)) for i in (5, 3, 9)])
    assert results == [AddResult.STORED] * 3
    assert store.add_many([new_entry(payload(3))]) == [AddResult.DUPLICATE]
    assert store.add_many([new_entry(payload(3, edit="2024-03-01T12:05:00+00:00"))]) == [
        AddResult.STORED
    ]
    batch = store.next_batch(10, 10_000_000)
    assert [e.message_id for e in batch] == [5, 3, 9, 3]
    store.mark_delivered([batch[0].seq, batch[1].seq])
    assert store.accepted_ids() == {CHANNEL_ID: 5}
    assert store.stats().pending == 2
    store.close()
    reopened = OutboxStore(tmp_path / "o.sqlite3", 10_000_000)
    assert [e.message_id for e in reopened.next_batch(10, 10_000_000)] == [9, 3]
    assert reopened.bytes_used > 0


def test_held_entry_blocks_the_ones_behind_it(tmp_path: Path) -> None:
    store = OutboxStore(tmp_path / "o.sqlite3", 10_000_000)
    store.add_many([new_entry(payload(1)), new_entry(payload(2), held=True)])
    store.add_many([new_entry(payload(3))])
    assert [e.message_id for e in store.next_batch(10, 10_000_000)] == [1]
    store.release(new_entry(payload(2)), None)
    assert [e.message_id for e in store.next_batch(10, 10_000_000)] == [1, 2, 3]


def test_dead_letters_are_kept_and_revived_by_reason(tmp_path: Path) -> None:
    store = OutboxStore(tmp_path / "o.sqlite3", 10_000_000)
    store.add_many([new_entry(payload(i)) for i in (1, 2, 3)])
    seqs = [e.seq for e in store.next_batch(10, 10_000_000)]
    store.dead_letter(seqs[:2], "exhausted", "api down")
    store.dead_letter(seqs[2:], "invalid", '{"text": ["bad"]}')
    assert store.stats().dead == 3 and store.next_batch(10, 10_000_000) == []
    assert store.revive_dead() == 2
    assert [e.message_id for e in store.next_batch(10, 10_000_000)] == [1, 2]
    assert [d.reason for d in store.dead_letters()] == ["invalid"]


def test_size_cap_refuses_and_remembers_where_to_read_again(tmp_path: Path) -> None:
    store = OutboxStore(tmp_path / "o.sqlite3", 65_536)
    store.set_baseline(CHANNEL_ID, 0)
    big = "x" * 20_000
    results = store.add_many([new_entry(payload(i, big), advances_sync=True) for i in (1, 2, 3, 4)])
    assert results == [AddResult.STORED] * 3 + [AddResult.REFUSED]
    assert store.bytes_used <= 65_536
    store.mark_delivered([e.seq for e in store.next_batch(10, 10_000_000)])
    store.add_many([new_entry(payload(5), advances_sync=True)])  # a later one gets in
    assert store.take_catchup_floor(CHANNEL_ID) == 3  # read again after 3: brings 4 back
    assert store.take_catchup_floor(CHANNEL_ID) == 5  # the refusal mark is consumed


def test_catchup_floor_only_moves_with_messages_known_complete(tmp_path: Path) -> None:
    store = OutboxStore(tmp_path / "o.sqlite3", 10_000_000)
    assert store.take_catchup_floor(CHANNEL_ID) is None
    store.set_baseline(CHANNEL_ID, 10)
    store.add_many([new_entry(payload(20))])  # live, before the history was read
    assert store.take_catchup_floor(CHANNEL_ID) == 10
    store.add_many([new_entry(payload(12), advances_sync=True)])
    assert store.take_catchup_floor(CHANNEL_ID) == 12


def test_batch_answer_splits_accepted_and_invalid(tmp_path: Path) -> None:
    store = OutboxStore(tmp_path / "o.sqlite3", 10_000_000)
    store.add_many([new_entry(payload(i)) for i in (1, 2, 3)])
    entries = store.next_batch(10, 10_000_000)
    outcome = read_batch_answer(
        entries,
        {
            "results": [
                {"index": 0, "status": "ok", "duplicate": False},
                {"index": 1, "status": "invalid", "errors": {"text": ["bad"]}},
                {"index": 2, "status": "ok", "duplicate": True},
            ]
        },
    )
    assert outcome.delivered == [entries[0].seq, entries[2].seq]
    assert [seq for seq, _ in outcome.invalid] == [entries[1].seq]


# -- the production client factory (no network needed to build it) -----------------
async def test_telethon_client_gets_the_dc_override_and_server_key(tmp_path: Path) -> None:
    import rsa
    from telethon.crypto import rsa as telethon_rsa
    from telethon.sessions import MemorySession

    from app.gateway.clients import GatewayTelegramClient, telethon_client

    public, _ = rsa.newkeys(1024)
    key = tmp_path / "server.pem"
    key.write_bytes(public.save_pkcs1())
    config = GatewayConfig.from_env(
        Env(
            gateway_env(
                tmp_path,
                "http://127.0.0.1:1",
                TELEGRAM_DC_ID="2",
                TELEGRAM_DC_ADDRESS="10.0.0.5:8443",
                TELEGRAM_SERVER_PUBLIC_KEY=str(key),
            )
        )
    )
    known = set(telethon_rsa._server_keys)
    client = telethon_client(config, MemorySession(), bot=False)
    try:
        assert isinstance(client, GatewayTelegramClient)
        assert (client.session.dc_id, client.session.server_address, client.session.port) == (
            2,
            "10.0.0.5",
            8443,
        )
        added = set(telethon_rsa._server_keys) - known
        assert len(added) == 1
        # Telethon's own reconnection hook reaches our listeners (its get_me fails offline).
        heard: list[bool] = []
        client.reconnect_listeners.append(lambda: heard.append(True))
        await client._handle_auto_reconnect()
        assert heard == [True]
    finally:
        for fingerprint in set(telethon_rsa._server_keys) - known:
            del telethon_rsa._server_keys[fingerprint]
