"""Read queries over signals and raw messages, with keyset pagination."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

import aiopg

# A signal's columns as JSON, built by PostgreSQL: a page of 50 rows is then one
# string per row for Python to join, not 1,000 values to convert one by one.
SIGNAL_JSON = (
    "id, channel_id, channel_name, message_id, ts, asset, signal_type, side,"
    " buy_min::float8 AS buy_min, buy_max::float8 AS buy_max, target_1::float8 AS target_1,"
    " target_2::float8 AS target_2, target_final::float8 AS target_final,"
    " coalesce(targets::float8[], '{}') AS targets, stop::float8 AS stop, raw_message, source,"
    " version,"
    " created_at, updated_at"
)
MESSAGE_COLUMNS = (
    "id, channel_id, channel_name, message_id, ts, text, edit_date, source, forwarded_to,"
    " parse_status, parse_reason, version, received_at, updated_at, deleted_at"
)


# Timestamps travel as PostgreSQL's own text (ts::text), never as Python datetimes:
# a stored row Python cannot represent (a year before 1, `infinity`) must not
# break the page holding it, nor the cursor that points past it.
_CHANNEL_ID = re.compile(r"^-?[0-9]{1,19}$")
_CURSOR_TS = re.compile(r"^[0-9A-Za-z :.+-]{1,40}$")


class BadCursor(ValueError):
    pass


def encode_cursor(ts: str, row_id: int) -> str:
    raw = f"{ts}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[str, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        ts_text, id_text = raw.rsplit("|", 1)
        row_id = int(id_text)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursor("cursor is not one this api issued") from None
    if not _CURSOR_TS.match(ts_text) or not -(2**63) <= row_id < 2**63:
        raise BadCursor("cursor is not one this api issued")
    return ts_text, row_id


@dataclass
class Filters:
    limit: int = 100
    channel: str | None = None
    type: str | None = None
    asset: str | None = None
    search: str | None = None
    status: str | None = None
    from_: dt.datetime | None = None
    to: dt.datetime | None = None
    cursor: str | None = None


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _common_where(f: Filters, text_column: str) -> tuple[list[str], dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}
    if f.channel:
        channel = f.channel.strip()
        if _CHANNEL_ID.match(channel) and -(2**63) <= int(channel) < 2**63:
            where.append("channel_id = %(channel_id)s")
            params["channel_id"] = int(channel)
        else:
            where.append("lower(channel_name) = lower(%(channel_name)s)")
            params["channel_name"] = channel.lstrip("@")
    if f.from_:
        where.append("ts >= %(from)s")
        params["from"] = f.from_
    if f.to:
        where.append("ts <= %(to)s")
        params["to"] = f.to
    if f.search:
        params["search"] = _like(f.search)
        if text_column == "raw_message":
            where.append("(asset ILIKE %(search)s OR raw_message ILIKE %(search)s)")
        else:
            where.append(f"{text_column} ILIKE %(search)s")
    if f.cursor:
        cursor_ts, cursor_id = decode_cursor(f.cursor)
        where.append("(ts, id) < (%(cursor_ts)s::timestamptz, %(cursor_id)s)")
        params.update(cursor_ts=cursor_ts, cursor_id=cursor_id)
    return where, params


@dataclass
class Page:
    rows_json: list[str]  # one JSON object per row, serialised by PostgreSQL
    next_cursor: str | None

    def to_json(self) -> str:
        cursor = "null" if self.next_cursor is None else f'"{self.next_cursor}"'
        return (
            f'{{"data":[{",".join(self.rows_json)}],"count":{len(self.rows_json)},'
            f'"nextCursor":{cursor}}}'
        )


async def _page(
    pool: aiopg.Pool, table: str, columns: str, where: list[str], params: dict[str, Any], limit: int
) -> Page:
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    params["limit"] = limit + 1
    query = (
        f"SELECT r.ts::text, r.id, row_to_json(r)::text FROM ("
        f"SELECT {columns} FROM {table} {clause} ORDER BY ts DESC, id DESC LIMIT %(limit)s) r"
    )
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(query, params)
        rows = await cur.fetchall()
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1][0], rows[-1][1])
    return Page([row[2] for row in rows], next_cursor)


async def list_signals(pool: aiopg.Pool, f: Filters) -> Page:
    where, params = _common_where(f, "raw_message")
    if f.type:
        where.append("lower(signal_type) = lower(%(type)s)")
        params["type"] = f.type
    if f.asset:
        where.append("upper(asset) = upper(%(asset)s)")
        params["asset"] = f.asset.lstrip("#$")
    return await _page(pool, "tp_capital_signals", SIGNAL_JSON, where, params, f.limit)


async def list_messages(pool: aiopg.Pool, f: Filters) -> Page:
    where, params = _common_where(f, "text")
    if f.status:
        where.append("parse_status = %(status)s")
        params["status"] = f.status
    return await _page(pool, "telegram_messages", MESSAGE_COLUMNS, where, params, f.limit)


async def list_forwarded(
    pool: aiopg.Pool,
    limit: int,
    channel_id: int | None,
    from_: dt.datetime | None,
    to: dt.datetime | None,
) -> list[str]:
    """Forwarded messages, newest first, each as a JSON object built by PostgreSQL."""
    where = ["forwarded_to IS NOT NULL"]
    params: dict[str, Any] = {"limit": limit}
    if channel_id is not None:
        where.append("channel_id = %(channel_id)s")
        params["channel_id"] = channel_id
    if from_:
        where.append("ts >= %(from)s")
        params["from"] = from_
    if to:
        where.append("ts <= %(to)s")
        params["to"] = to
    query = (
        f"SELECT row_to_json(r)::text FROM (SELECT {MESSAGE_COLUMNS} FROM telegram_messages"
        f" WHERE {' AND '.join(where)} ORDER BY ts DESC, id DESC LIMIT %(limit)s) r"
    )
    return await _json_rows(pool, query, params)


async def _json_rows(pool: aiopg.Pool, query: str, params: Any = None) -> list[str]:
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(query, params)
        return [row[0] for row in await cur.fetchall()]


async def get_signal(pool: aiopg.Pool, signal_id: int) -> str | None:
    """One signal as a JSON object built by PostgreSQL, or None."""
    rows = await _json_rows(
        pool,
        f"SELECT row_to_json(r)::text FROM (SELECT {SIGNAL_JSON} FROM tp_capital_signals"
        " WHERE id = %s) r",
        (signal_id,),
    )
    return rows[0] if rows else None


async def delete_signal(pool: aiopg.Pool, signal_id: int) -> bool:
    """Delete a signal; its message remembers it so a re-parse does not bring it back."""
    query = """
    WITH gone AS (
        DELETE FROM tp_capital_signals WHERE id = %s
        RETURNING channel_id, message_id, ts
    )
    UPDATE telegram_messages m SET signal_deleted_at = now()
    FROM gone WHERE m.channel_id = gone.channel_id AND m.message_id = gone.message_id
      AND m.ts = gone.ts
    RETURNING m.id
    """
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(query, (signal_id,))
        return bool(await cur.fetchall())


async def channel_summaries(pool: aiopg.Pool) -> list[str]:
    """Per channel: its signal count and latest signal, each as a JSON object."""
    query = """
    SELECT row_to_json(x)::text FROM (
        SELECT c.channel_id, c.channel_name, c.signal_count, c.last_signal_at,
               last.id AS last_signal_id, last.asset AS last_signal_asset,
               last.signal_type AS last_signal_type
        FROM (
            SELECT channel_id, max(channel_name) AS channel_name, count(*) AS signal_count,
                   max(ts) AS last_signal_at
            FROM tp_capital_signals GROUP BY channel_id
        ) c
        CROSS JOIN LATERAL (
            SELECT id, asset, signal_type FROM tp_capital_signals s
            WHERE s.channel_id = c.channel_id ORDER BY ts DESC, id DESC LIMIT 1
        ) last
    ) x
    ORDER BY x.last_signal_at DESC, x.channel_id
    """
    return await _json_rows(pool, query)
