"""Channel and bot registries (soft delete)."""

from __future__ import annotations

from typing import Any

import aiopg
import psycopg2.errors

from app.db import fetch_dicts, fetch_one_dict


class Conflict(Exception):
    pass


_CHANNEL_COLUMNS = "id, channel_id, username, label, description, is_active, created_at, updated_at"
_BOT_COLUMNS = "id, username, token, bot_type, description, is_active, created_at, updated_at"
_CHANNEL_CONFLICT = "a channel with this channelId or username is already registered"
_BOT_CONFLICT = "a bot with this username is already registered"


def mask_token(token: str) -> str:
    bot_id, _, secret = token.partition(":")
    return f"{bot_id}:{'*' * 8}{secret[-4:]}" if secret else "*" * 8


def _masked(row: dict[str, Any] | None) -> dict[str, Any] | None:
    if row is None:
        return None
    token = row.pop("token")
    row["token_masked"] = mask_token(token)
    return row


async def list_channels(pool: aiopg.Pool, *, active_only: bool = False) -> list[dict[str, Any]]:
    where = "deleted_at IS NULL" + (" AND is_active" if active_only else "")
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(
            f"SELECT {_CHANNEL_COLUMNS} FROM telegram_channels WHERE {where} ORDER BY id"
        )
        return await fetch_dicts(cur)


async def create_channel(pool: aiopg.Pool, data: dict[str, Any]) -> dict[str, Any]:
    query = f"""
    INSERT INTO telegram_channels (channel_id, username, label, description, is_active)
    VALUES (%(channel_id)s, %(username)s, %(label)s, %(description)s, %(is_active)s)
    RETURNING {_CHANNEL_COLUMNS}
    """
    try:
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(query, data)
            row = await fetch_one_dict(cur)
    except psycopg2.errors.UniqueViolation:
        raise Conflict(_CHANNEL_CONFLICT) from None
    assert row is not None
    return row


async def _update(
    pool: aiopg.Pool, table: str, columns: str, row_id: int, data: dict[str, Any], conflict: str
) -> dict[str, Any] | None:
    """Partial update of a live (not soft-deleted) row; None when there is none."""
    assignments = "".join(f"{column} = %({column})s, " for column in data)
    touched = "now()" if data else "updated_at"  # an empty update reads the row back
    query = f"""
    UPDATE {table} SET {assignments}updated_at = {touched}
    WHERE id = %(row_id)s AND deleted_at IS NULL
    RETURNING {columns}
    """
    try:
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(query, {**data, "row_id": row_id})
            return await fetch_one_dict(cur)
    except psycopg2.errors.UniqueViolation:
        raise Conflict(conflict) from None


async def update_channel(
    pool: aiopg.Pool, row_id: int, data: dict[str, Any]
) -> dict[str, Any] | None:
    return await _update(
        pool, "telegram_channels", _CHANNEL_COLUMNS, row_id, data, _CHANNEL_CONFLICT
    )


async def soft_delete(pool: aiopg.Pool, table: str, row_id: int) -> bool:
    assert table in ("telegram_channels", "telegram_bots")
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(
            f"UPDATE {table} SET deleted_at = now(), is_active = false, updated_at = now()"
            " WHERE id = %s AND deleted_at IS NULL RETURNING id",
            (row_id,),
        )
        return bool(await cur.fetchall())


async def list_bots(pool: aiopg.Pool) -> list[dict[str, Any]]:
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(
            f"SELECT {_BOT_COLUMNS} FROM telegram_bots WHERE deleted_at IS NULL ORDER BY id"
        )
        return [_masked(row) for row in await fetch_dicts(cur)]  # type: ignore[misc]


async def create_bot(pool: aiopg.Pool, data: dict[str, Any]) -> dict[str, Any]:
    query = f"""
    INSERT INTO telegram_bots (username, token, bot_type, description, is_active)
    VALUES (%(username)s, %(token)s, %(bot_type)s, %(description)s, %(is_active)s)
    RETURNING {_BOT_COLUMNS}
    """
    try:
        async with pool.acquire() as conn, conn.cursor() as cur:
            await cur.execute(query, data)
            row = _masked(await fetch_one_dict(cur))
    except psycopg2.errors.UniqueViolation:
        raise Conflict(_BOT_CONFLICT) from None
    assert row is not None
    return row


async def update_bot(pool: aiopg.Pool, row_id: int, data: dict[str, Any]) -> dict[str, Any] | None:
    row = await _update(pool, "telegram_bots", _BOT_COLUMNS, row_id, data, _BOT_CONFLICT)
    return _masked(row)
