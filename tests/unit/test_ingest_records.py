from __future__ import annotations

import datetime as dt

from app.api.ingest import build_record, collapse_batch
from app.api.schemas import IngestMessageSchema
from tests.support.messages import message


def record(index: int, body: dict):
    return build_record(index, IngestMessageSchema().load(body))


def test_record_carries_parse_outcome() -> None:
    signal = record(0, message(1))
    assert signal.parse_status == "signal" and signal.signal is not None
    row = signal.row()
    assert row["buy_min"] == "1.04" and row["targets"] == ["1.15", "2.15", "3.00"]
    chatter = record(1, message(2, "oi"))
    assert chatter.signal is None and chatter.parse_status == "not_signal"
    assert chatter.row()["is_signal"] is False


def test_collapse_keeps_latest_edit_per_key() -> None:
    first = record(0, message(1))
    edit = record(1, message(1, "x", editDate="2026-11-20T15:00:00Z"))
    older_edit = record(2, message(1, "y", editDate="2026-11-20T14:00:00Z"))
    other = record(3, message(2))
    kept, folded = collapse_batch([first, edit, older_edit, other])
    assert [r.index for r in kept] == [1, 3]
    assert folded == {0: 1, 2: 1}


def test_naive_timestamp_is_utc() -> None:
    body = message(1)
    body["timestamp"] = "2026-11-20T10:00:00"
    assert record(0, body).ts == dt.datetime(2026, 11, 20, 10, 0, tzinfo=dt.UTC)
