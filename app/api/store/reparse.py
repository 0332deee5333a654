"""Re-running the parser over stored raw messages after a parser change.

One code path for `POST /messages/reparse` and `tpcap reparse`: messages are
read in keyset-paginated batches (memory stays flat on a large table), each
batch is parsed, compared with the signal row it has today, and written in
one statement. A signal a user deleted stays deleted. A dry run does the same
work inside a transaction that it rolls back, so its summary is exactly what a
real run would report.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

import aiopg

from app.api.ingest import IngestRecord, build_record
from app.parsing import PARSER_VERSION

# The signal columns a re-parse can change, in the order the summary lists them.
SIGNAL_FIELDS = (
    "asset",
    "signal_type",
    "side",
    "buy_min",
    "buy_max",
    "target_1",
    "target_2",
    "target_final",
    "targets",
    "stop",
)
_STORED_SCALE = Decimal("1e-8")  # numeric(20, 8)

_WHERE = "WHERE m.id > %(after)s {extra}"

# Timestamps as PostgreSQL's text: they only go back to match the same rows, and a
# stored value Python cannot represent (1 BC, infinity) must not stop a re-parse.

_SELECT = (
    """
SELECT m.id, m.channel_id, m.message_id, m.ts::text, m.text, m.channel_name, m.edit_date::text,
       m.source, m.forwarded_to, m.parse_status, m.parse_reason, m.signal_deleted_at IS NOT NULL,
       s.id IS NOT NULL, """
    + ", ".join(f"s.{name}" for name in SIGNAL_FIELDS)
    + """
FROM telegram_messages m
LEFT JOIN tp_capital_signals s
  ON s.channel_id = m.channel_id AND s.message_id = m.message_id AND s.ts = m.ts
"""
    + _WHERE
    + """
ORDER BY m.id
LIMIT %(chunk)s
"""
)

_COUNT = "SELECT count(*) FROM telegram_messages m " + _WHERE

_APPLY = """
WITH input AS (
    SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb) AS x(
        idx int, channel_id bigint, message_id bigint, ts timestamptz, text text,
        channel_name text, source text, parse_status text, parse_reason text, is_signal boolean,
        asset text, signal_type text, side text, buy_min numeric, buy_max numeric,
        target_1 numeric, target_2 numeric, target_final numeric, targets numeric[],
        stop numeric)
),
msg AS (
    UPDATE telegram_messages m
    SET parse_status = i.parse_status, parse_reason = i.parse_reason
    FROM input i
    WHERE m.channel_id = i.channel_id AND m.message_id = i.message_id AND m.ts = i.ts
      AND (m.parse_status, coalesce(m.parse_reason, ''))
          IS DISTINCT FROM (i.parse_status, coalesce(i.parse_reason, ''))
    RETURNING m.id
),
sig AS (
    INSERT INTO tp_capital_signals AS s
        (channel_id, message_id, ts, channel_name, source, asset, signal_type, side,
         buy_min, buy_max, target_1, target_2, target_final, targets, stop, raw_message)
    SELECT i.channel_id, i.message_id, i.ts, i.channel_name, i.source, i.asset, i.signal_type,
           i.side, i.buy_min, i.buy_max, i.target_1, i.target_2, i.target_final,
           coalesce(i.targets, '{}'), i.stop, i.text
    FROM input i
    JOIN telegram_messages m
      ON m.channel_id = i.channel_id AND m.message_id = i.message_id AND m.ts = i.ts
    WHERE i.is_signal AND m.signal_deleted_at IS NULL
    ON CONFLICT (channel_id, message_id, ts) DO UPDATE SET
        asset = EXCLUDED.asset, signal_type = EXCLUDED.signal_type, side = EXCLUDED.side,
        buy_min = EXCLUDED.buy_min, buy_max = EXCLUDED.buy_max,
        target_1 = EXCLUDED.target_1, target_2 = EXCLUDED.target_2,
        target_final = EXCLUDED.target_final, targets = EXCLUDED.targets,
        stop = EXCLUDED.stop, version = s.version + 1, updated_at = now()
    WHERE (s.asset, s.signal_type, s.side, s.buy_min, s.buy_max, s.target_1, s.target_2,
           s.target_final, s.targets, s.stop)
          IS DISTINCT FROM
          (EXCLUDED.asset, EXCLUDED.signal_type, EXCLUDED.side, EXCLUDED.buy_min,
           EXCLUDED.buy_max, EXCLUDED.target_1, EXCLUDED.target_2, EXCLUDED.target_final,
           EXCLUDED.targets, EXCLUDED.stop)
    RETURNING s.version
),
gone AS (
    DELETE FROM tp_capital_signals s USING input i
    WHERE NOT i.is_signal
      AND s.channel_id = i.channel_id AND s.message_id = i.message_id AND s.ts = i.ts
    RETURNING s.id
)
SELECT (SELECT count(*) FROM msg),
       (SELECT count(*) FROM sig WHERE version = 1),
       (SELECT count(*) FROM sig WHERE version > 1),
       (SELECT count(*) FROM gone)
"""


@dataclass(frozen=True)
class ReparseFilter:
    status: str | None = None
    channel_id: int | None = None
    channel_name: str | None = None
    from_: Any = None
    to: Any = None

    def sql(self) -> tuple[str, dict[str, Any]]:
        extra: list[str] = []
        params: dict[str, Any] = {}
        if self.status:
            extra.append("AND m.parse_status = %(status)s")
            params["status"] = self.status
        if self.channel_id is not None:
            extra.append("AND m.channel_id = %(channel_id)s")
            params["channel_id"] = self.channel_id
        if self.channel_name:
            extra.append("AND lower(m.channel_name) = lower(%(channel_name)s)")
            params["channel_name"] = self.channel_name.lstrip("@")
        if self.from_:
            extra.append("AND m.ts >= %(from)s")
            params["from"] = self.from_
        if self.to:
            extra.append("AND m.ts <= %(to)s")
            params["to"] = self.to
        return " ".join(extra), params


@dataclass
class ReparseReport:
    scanned: int = 0
    status_changed: int = 0
    signals_created: int = 0
    signals_updated: int = 0
    signals_removed: int = 0
    unchanged: int = 0
    kept_deleted: int = 0
    changed_fields: dict[str, int] = field(default_factory=dict)
    by_status: dict[str, int] = field(default_factory=dict)
    dry_run: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "parserVersion": PARSER_VERSION,
            "dryRun": self.dry_run,
            "scanned": self.scanned,
            "statusChanged": self.status_changed,
            "signalsCreated": self.signals_created,
            "signalsUpdated": self.signals_updated,
            "signalsRemoved": self.signals_removed,
            "unchanged": self.unchanged,
            "keptDeleted": self.kept_deleted,
            "changedFields": {
                name: self.changed_fields[name]
                for name in SIGNAL_FIELDS
                if name in self.changed_fields
            },
            "byStatus": dict(sorted(self.by_status.items())),
        }


def _stored(value: Any) -> Any:
    """A parsed value as numeric(20, 8) will hold it, to compare with what is stored."""
    if isinstance(value, Decimal):
        try:
            return value.quantize(_STORED_SCALE, rounding=ROUND_HALF_UP)
        except InvalidOperation:
            return value
    if isinstance(value, list | tuple):
        return tuple(_stored(v) for v in value)
    return value


def _new_values(record: IngestRecord) -> dict[str, Any]:
    s = record.signal
    assert s is not None
    values = {name: getattr(s, name, None) for name in SIGNAL_FIELDS}
    values["targets"] = tuple(s.targets)
    return {name: _stored(value) for name, value in values.items()}


def changed_fields(old: dict[str, Any], record: IngestRecord) -> list[str]:
    new = _new_values(record)
    return [name for name in SIGNAL_FIELDS if _stored(old[name]) != new[name]]


def _record(row: tuple[Any, ...]) -> IngestRecord:
    return build_record(
        row[0],
        {
            "channelId": row[1],
            "messageId": row[2],
            "timestamp": row[3],
            "text": row[4],
            "channelName": row[5],
            "editDate": row[6],
            "source": row[7],
            "forwardedTo": row[8],
        },
    )


def _tally(report: ReparseReport, row: tuple[Any, ...], record: IngestRecord) -> None:
    old_status, old_reason, deleted, had_signal = row[9], row[10], row[11], row[12]
    old_signal = dict(zip(SIGNAL_FIELDS, row[13:], strict=True)) if had_signal else None
    report.by_status[record.parse_status] = report.by_status.get(record.parse_status, 0) + 1
    old_outcome = (old_status, old_reason or "")
    same_outcome = old_outcome == (record.parse_status, record.parse_reason or "")
    if record.signal is not None and deleted:
        report.kept_deleted += 1
        return
    if record.signal is not None and old_signal is not None:
        fields_changed = changed_fields(old_signal, record)
        for name in fields_changed:
            report.changed_fields[name] = report.changed_fields.get(name, 0) + 1
        if not fields_changed and same_outcome:
            report.unchanged += 1
        return
    if record.signal is None and old_signal is None and same_outcome:
        report.unchanged += 1


async def count_messages(pool: aiopg.Pool, where: ReparseFilter, limit: int | None = None) -> int:
    """How many messages a re-parse with these filters will read (for a progress bar)."""
    extra, params = where.sql()
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(_COUNT.format(extra=extra), {**params, "after": 0})
        (total,) = await cur.fetchone()
    return total if limit is None else min(total, limit)


async def reparse(
    pool: aiopg.Pool,
    where: ReparseFilter | None = None,
    *,
    limit: int | None = None,
    dry_run: bool = False,
    chunk: int = 500,
    progress: Callable[[int], None] | None = None,
) -> ReparseReport:
    extra, params = (where or ReparseFilter()).sql()
    params.update(after=0, chunk=chunk)
    select = _SELECT.format(extra=extra)
    report = ReparseReport(dry_run=dry_run)
    async with pool.acquire() as conn, conn.cursor() as cur:
        if dry_run:
            await cur.execute("BEGIN")
        try:
            while limit is None or report.scanned < limit:
                if limit is not None:
                    params["chunk"] = min(chunk, limit - report.scanned)
                await cur.execute(select, params)
                rows = await cur.fetchall()
                if not rows:
                    break
                records = [_record(row) for row in rows]
                for row, record in zip(rows, records, strict=True):
                    _tally(report, row, record)
                payload = json.dumps([r.row() for r in records], ensure_ascii=False)
                await cur.execute(_APPLY, {"rows": payload})
                changed, created, updated, removed = await cur.fetchone()
                report.scanned += len(rows)
                report.status_changed += changed
                report.signals_created += created
                report.signals_updated += updated
                report.signals_removed += removed
                params["after"] = rows[-1][0]
                if progress is not None:
                    progress(len(rows))
        except BaseException:
            if dry_run:
                with contextlib.suppress(Exception):
                    await cur.execute("ROLLBACK")
            raise
        if dry_run:
            await cur.execute("ROLLBACK")
    return report
