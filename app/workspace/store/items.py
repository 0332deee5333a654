"""Workspace items: filtered pages, single rows, audited writes, statistics."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import aiopg

from app.workspace import domain
from app.workspace.store.rows import audited, fetch_dicts, fetch_one_dict

ITEM_COLUMNS = (
    "id, title, description, category, priority, status, tags, metadata,"
    " created_at, updated_at, created_by, updated_by"
)
_ORDER = "ORDER BY created_at DESC, id DESC"


class CategoryRejected(ValueError):
    """The item names a category that does not exist or is not active."""


@dataclass
class ItemFilters:
    category: list[str] | None = None
    status: list[str] | None = None
    priority: list[str] | None = None
    search: str | None = None
    limit: int = 100
    offset: int = 0


def _like(term: str) -> str:
    escaped = term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _where(f: ItemFilters) -> tuple[str, dict[str, Any]]:
    where: list[str] = []
    params: dict[str, Any] = {}
    for column in ("category", "status", "priority"):
        values = getattr(f, column)
        if values:
            where.append(f"{column} = ANY(%({column})s)")
            params[column] = values
    if f.search:
        where.append(
            "(title ILIKE %(search)s OR description ILIKE %(search)s"
            " OR EXISTS (SELECT 1 FROM unnest(tags) AS tag WHERE tag ILIKE %(search)s))"
        )
        params["search"] = _like(f.search)
    return ("WHERE " + " AND ".join(where)) if where else "", params


async def list_items(pool: aiopg.Pool, f: ItemFilters) -> tuple[list[dict[str, Any]], int]:
    """One page in a stable order, and how many items match in all."""
    clause, params = _where(f)
    params.update(limit=f.limit, offset=f.offset)
    query = (
        f"SELECT {ITEM_COLUMNS}, count(*) OVER () AS total FROM workspace_items {clause}"
        f" {_ORDER} LIMIT %(limit)s OFFSET %(offset)s"
    )
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(query, params)
        rows = await fetch_dicts(cur)
        if rows:
            total = rows[0]["total"]
        else:  # past the last page the window count has no row to ride on
            await cur.execute(f"SELECT count(*) FROM workspace_items {clause}", params)
            total = (await cur.fetchone())[0]
    for row in rows:
        del row["total"]
    return rows, total


async def get_item(pool: aiopg.Pool, item_id: str) -> dict[str, Any] | None:
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(f"SELECT {ITEM_COLUMNS} FROM workspace_items WHERE id = %s", (item_id,))
        return await fetch_one_dict(cur)


async def _reject_category(cur: aiopg.Cursor, name: str) -> None:
    await cur.execute("SELECT is_active FROM workspace_categories WHERE name = %s", (name,))
    row = await cur.fetchone()
    if row is None:
        raise CategoryRejected(f"unknown category {name!r}")
    raise CategoryRejected(f"category {name!r} is not active")


def _params(data: dict[str, Any]) -> dict[str, Any]:
    params = dict(data)
    if "metadata" in params:
        params["metadata"] = json.dumps(params["metadata"], ensure_ascii=False)
    return params


async def create_item(
    pool: aiopg.Pool, data: dict[str, Any], actor: str, request_id: str | None
) -> dict[str, Any]:
    # FOR SHARE holds the category row until commit: a concurrent deactivation
    # waits for this insert instead of racing it.
    query = f"""
    INSERT INTO workspace_items
        (title, description, category, priority, status, tags, metadata, created_by, updated_by,
         created_at, updated_at)
    SELECT %(title)s, %(description)s, c.name, %(priority)s, %(status)s, %(tags)s::text[],
           %(metadata)s::jsonb, %(actor)s, %(actor)s, t.now, t.now
    FROM workspace_categories c
    -- one reading of the clock: two column defaults can differ by a microsecond
    CROSS JOIN (SELECT clock_timestamp() AS now) t
    WHERE c.name = %(category)s AND c.is_active
    FOR SHARE OF c
    RETURNING {ITEM_COLUMNS}
    """
    async with audited(pool, actor, request_id) as cur:
        await cur.execute(query, {**_params(data), "actor": actor})
        row = await fetch_one_dict(cur)
        if row is None:
            await _reject_category(cur, data["category"])
    assert row is not None
    return row


async def update_item(
    pool: aiopg.Pool, item_id: str, data: dict[str, Any], actor: str, request_id: str | None
) -> dict[str, Any] | None:
    """Apply the fields that differ; None when the item does not exist.

    The row lock serialises concurrent updates of one item, so each one reads
    the state the previous one left and writes its own audit row.
    """
    async with audited(pool, actor, request_id) as cur:
        await cur.execute(
            f"SELECT {ITEM_COLUMNS} FROM workspace_items WHERE id = %s FOR UPDATE", (item_id,)
        )
        current = await fetch_one_dict(cur)
        if current is None:
            return None
        changes = domain.changed_fields(current, data)
        if not changes:
            return current
        if "category" in changes:
            await cur.execute(
                "SELECT 1 FROM workspace_categories WHERE name = %s AND is_active FOR SHARE",
                (changes["category"],),
            )
            if not await cur.fetchall():
                await _reject_category(cur, changes["category"])
        casts = {"tags": "::text[]", "metadata": "::jsonb"}
        assignments = ", ".join(
            f"{column} = %({column})s{casts.get(column, '')}"
            for column in domain.ITEM_FIELDS
            if column in changes
        )
        await cur.execute(
            f"UPDATE workspace_items SET {assignments}, updated_at = clock_timestamp(),"
            f" updated_by = %(actor)s WHERE id = %(item_id)s RETURNING {ITEM_COLUMNS}",
            {**_params(changes), "actor": actor, "item_id": item_id},
        )
        return await fetch_one_dict(cur)


async def delete_item(
    pool: aiopg.Pool, item_id: str, actor: str, request_id: str | None
) -> dict[str, Any] | None:
    async with audited(pool, actor, request_id) as cur:
        await cur.execute(
            f"DELETE FROM workspace_items WHERE id = %s RETURNING {ITEM_COLUMNS}", (item_id,)
        )
        return await fetch_one_dict(cur)


async def item_stats(pool: aiopg.Pool) -> dict[str, Any]:
    """Totals by category, status and priority; every known value present, even at 0."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(
            "SELECT category, status, priority, count(*) FROM workspace_items"
            " GROUP BY GROUPING SETS ((category), (status), (priority), ())"
        )
        grouped = await cur.fetchall()
        await cur.execute("SELECT name FROM workspace_categories ORDER BY sort_order, name")
        categories = [row[0] for row in await cur.fetchall()]
    stats: dict[str, Any] = {
        "total": 0,
        "by_category": dict.fromkeys(categories, 0),
        "by_status": dict.fromkeys(domain.STATUSES, 0),
        "by_priority": dict.fromkeys(domain.PRIORITIES, 0),
    }
    for category, status, priority, count in grouped:
        if category is not None:
            stats["by_category"][category] = count
        elif status is not None:
            stats["by_status"][status] = count
        elif priority is not None:
            stats["by_priority"][priority] = count
        else:
            stats["total"] = count
    return stats


async def count_items(pool: aiopg.Pool) -> int:
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT count(*) FROM workspace_items")
        return (await cur.fetchone())[0]
