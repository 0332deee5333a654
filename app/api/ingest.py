"""From a validated ingest message to the rows to store: pure, no I/O."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import orjson
from marshmallow import ValidationError

from app.api.schemas import IngestMessageSchema
from app.parsing.signals import NotASignal, Signal, parse_signal

log = logging.getLogger("app.api.ingest")

# numeric(20, 8) holds up to 10^12; a larger "price" would make PostgreSQL
# refuse the whole batch statement, so it is refused here, for this message only.
MAX_PRICE = Decimal(10) ** 12


def storable_text(text: str) -> str:
    """What PostgreSQL can store: no NUL characters, no lone UTF-16 surrogates."""
    text = text.replace("\x00", "\ufffd")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _out_of_range(signal: Signal) -> Decimal | None:
    for price in (signal.buy_min, signal.buy_max, signal.stop, *signal.targets):
        if price is not None and abs(price) >= MAX_PRICE:
            return price
    return None


@dataclass(frozen=True, slots=True)
class IngestRecord:
    index: int
    channel_id: int
    message_id: int
    ts: dt.datetime | str  # str: PostgreSQL's text of a stored row being re-parsed
    text: str
    channel_name: str | None
    edit_date: dt.datetime | str | None
    source: str
    forwarded_to: dict[str, int] | None
    signal: Signal | None
    parse_status: str
    parse_reason: str | None

    @property
    def key(self) -> tuple[int, int, dt.datetime]:
        return (self.channel_id, self.message_id, self.ts)

    def row(self) -> dict[str, Any]:
        """The JSON object the batch SQL reads with jsonb_to_recordset."""
        row: dict[str, Any] = {
            "idx": self.index,
            "channel_id": self.channel_id,
            "message_id": self.message_id,
            "ts": _iso(self.ts),
            "text": self.text,
            "channel_name": self.channel_name,
            "edit_date": _iso(self.edit_date) if self.edit_date else None,
            "source": self.source,
            "forwarded_to": self.forwarded_to,
            "parse_status": self.parse_status,
            "parse_reason": self.parse_reason,
            "is_signal": self.signal is not None,
        }
        if self.signal is not None:
            s = self.signal
            row.update(
                asset=s.asset,
                signal_type=s.signal_type,
                side=s.side,
                buy_min=_num(s.buy_min),
                buy_max=_num(s.buy_max),
                target_1=_num(s.target_1),
                target_2=_num(s.target_2),
                target_final=_num(s.target_final),
                targets=[str(t) for t in s.targets],
                stop=_num(s.stop),
            )
        return row


def _iso(value: dt.datetime | str) -> str:
    return value if isinstance(value, str) else value.isoformat()


def _num(value: Any) -> str | None:
    return None if value is None else str(value)


def build_record(
    index: int, message: dict[str, Any], outcome: Signal | NotASignal | None = None
) -> IngestRecord:
    """`outcome` is the parse of `storable_text(message["text"])` when already known."""
    text = storable_text(message["text"])
    if outcome is None:
        outcome = parse_signal(text)
    signal = outcome if isinstance(outcome, Signal) else None
    reason = outcome.reason if isinstance(outcome, NotASignal) else None
    status = "signal" if signal is not None else outcome.status  # type: ignore[union-attr]
    if reason and reason.startswith("parser error"):
        # The parser never raises; this marks a parser bug worth a re-parse later.
        log.error(
            "parser failed on a message",
            extra={
                "reason": reason,
                "channel_id": message["channelId"],
                "message_id": message["messageId"],
            },
        )
    if signal is not None and (huge := _out_of_range(signal)) is not None:
        signal, status, reason = None, "invalid", f"price {huge} is out of the storable range"
    channel_name = message.get("channelName")
    forwarded = message.get("forwardedTo")
    return IngestRecord(
        index=index,
        channel_id=message["channelId"],
        message_id=message["messageId"],
        ts=message["timestamp"],
        text=text,
        channel_name=storable_text(channel_name) if channel_name else None,
        edit_date=message.get("editDate"),
        source=message.get("source") or "user",
        forwarded_to=dict(forwarded) if forwarded else None,
        signal=signal,
        parse_status=status,
        parse_reason=reason,
    )


def _edit_rank(record: IngestRecord) -> dt.datetime:
    return record.edit_date or dt.datetime.min.replace(tzinfo=dt.UTC)


def collapse_batch(records: list[IngestRecord]) -> tuple[list[IngestRecord], dict[int, int]]:
    """One record per message key: the latest edit wins.

    A single INSERT ... ON CONFLICT cannot touch the same row twice, so copies
    inside one batch are folded here; the folded ones answer as duplicates of
    the kept one. Returns the kept records and {folded index: kept index}.
    """
    kept: dict[tuple[int, int, dt.datetime], IngestRecord] = {}
    for record in records:
        current = kept.get(record.key)
        if current is None or _edit_rank(record) > _edit_rank(current):
            kept[record.key] = record
    survivors = list(kept.values())
    folded = {r.index: kept[r.key].index for r in records if kept[r.key].index != r.index}
    return survivors, folded


@dataclass(slots=True)
class PreparedBatch:
    """A batch made ready for the database: what to store, what was refused."""

    records: list[IngestRecord]  # every valid message, in batch order
    invalid: dict[int, Any]  # batch index -> marshmallow field errors
    survivors: list[int]  # indexes of the records the statement stores
    payload: str  # the JSON the ingest statement reads


def prepare_batch(items: list[Any]) -> PreparedBatch:
    """Validate, parse and fold a batch: pure CPU, so it may run in a worker process."""
    schema = IngestMessageSchema()
    records: list[IngestRecord] = []
    invalid: dict[int, Any] = {}
    for index, item in enumerate(items):
        try:
            records.append(build_record(index, schema.load(item)))
        except ValidationError as exc:
            invalid[index] = exc.messages
    survivors, _ = collapse_batch(records)
    payload = orjson.dumps([r.row() for r in survivors]).decode()
    return PreparedBatch(records, invalid, [r.index for r in survivors], payload)
