"""Cursor rows as dicts, and the audited write transaction."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiopg

from app.db import transaction


async def fetch_dicts(cur: aiopg.Cursor) -> list[dict[str, Any]]:
    rows = await cur.fetchall()
    names = [column.name for column in cur.description]
    return [dict(zip(names, row, strict=True)) for row in rows]


async def fetch_one_dict(cur: aiopg.Cursor) -> dict[str, Any] | None:
    rows = await fetch_dicts(cur)
    return rows[0] if rows else None


@contextlib.asynccontextmanager
async def audited(
    pool: aiopg.Pool, actor: str, request_id: str | None, source: str = "api"
) -> AsyncIterator[aiopg.Cursor]:
    """A transaction whose changes the audit triggers attribute to `actor`."""
    async with transaction(pool) as cur:
        await cur.execute(
            "SELECT set_config('workspace.actor', %s, true),"
            " set_config('workspace.source', %s, true),"
            " set_config('workspace.request_id', %s, true)",
            (actor, source, request_id or ""),
        )
        yield cur
