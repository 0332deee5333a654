"""Turning cursor rows into dicts."""

from __future__ import annotations

from typing import Any

import aiopg


async def fetch_dicts(cur: aiopg.Cursor) -> list[dict[str, Any]]:
    rows = await cur.fetchall()
    names = [column.name for column in cur.description]
    return [dict(zip(names, row, strict=True)) for row in rows]


async def fetch_one_dict(cur: aiopg.Cursor) -> dict[str, Any] | None:
    rows = await fetch_dicts(cur)
    return rows[0] if rows else None
