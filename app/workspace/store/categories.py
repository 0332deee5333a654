"""Workspace categories, with the number of items using each."""

from __future__ import annotations

from typing import Any

import aiopg
import psycopg2.errors

from app.workspace.store.rows import audited, fetch_dicts, fetch_one_dict

_COLUMNS = (
    "name, display_name, description, color, icon, sort_order, is_active,"
    " created_at, updated_at, created_by, updated_by"
)
_UPDATABLE = ("display_name", "description", "color", "icon", "sort_order", "is_active")
_WITH_COUNT = f"""
SELECT {", ".join("c." + column for column in _COLUMNS.split(", "))},
       (SELECT count(*) FROM workspace_items i WHERE i.category = c.name) AS item_count
FROM workspace_categories c
"""


class Conflict(Exception):
    pass


async def list_categories(pool: aiopg.Pool, active: bool | None = None) -> list[dict[str, Any]]:
    where = "" if active is None else "WHERE c.is_active = %(active)s"
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(
            f"{_WITH_COUNT} {where} ORDER BY c.sort_order, c.name", {"active": active}
        )
        return await fetch_dicts(cur)


async def get_category(pool: aiopg.Pool, name: str) -> dict[str, Any] | None:
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(f"{_WITH_COUNT} WHERE c.name = %s", (name,))
        return await fetch_one_dict(cur)


async def category_state(pool: aiopg.Pool, name: str) -> bool | None:
    """None when the category does not exist, else whether it is active."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT is_active FROM workspace_categories WHERE name = %s", (name,))
        row = await cur.fetchone()
    return None if row is None else bool(row[0])


async def create_category(
    pool: aiopg.Pool, data: dict[str, Any], actor: str, request_id: str | None
) -> dict[str, Any]:
    query = f"""
    INSERT INTO workspace_categories
        (name, display_name, description, color, icon, sort_order, is_active,
         created_by, updated_by, created_at, updated_at)
    SELECT %(name)s, %(display_name)s, %(description)s, %(color)s, %(icon)s, %(sort_order)s,
           %(is_active)s, %(actor)s, %(actor)s, t.now, t.now
    FROM (SELECT clock_timestamp() AS now) t  -- one reading of the clock for both columns
    RETURNING {_COLUMNS}, 0::bigint AS item_count
    """
    params = {**data, "display_name": data.get("display_name") or data["name"], "actor": actor}
    try:
        async with audited(pool, actor, request_id) as cur:
            await cur.execute(query, params)
            row = await fetch_one_dict(cur)
    except psycopg2.errors.UniqueViolation:
        raise Conflict(f"category {data['name']!r} already exists") from None
    assert row is not None
    return row


async def update_category(
    pool: aiopg.Pool, name: str, data: dict[str, Any], actor: str, request_id: str | None
) -> dict[str, Any] | None:
    """Apply the fields that differ; None when the category does not exist."""
    columns = [column for column in _UPDATABLE if column in data]
    assignments = ", ".join(f"{column} = %({column})s" for column in columns)
    differs = " OR ".join(f"{column} IS DISTINCT FROM %({column})s" for column in columns)
    query = f"""
    UPDATE workspace_categories SET {assignments}, updated_at = clock_timestamp(),
        updated_by = %(actor)s
    WHERE name = %(name)s AND ({differs})
    """
    async with audited(pool, actor, request_id) as cur:
        await cur.execute(query, {**data, "actor": actor, "name": name})
        await cur.execute(f"{_WITH_COUNT} WHERE c.name = %s", (name,))
        return await fetch_one_dict(cur)


async def toggle_category(
    pool: aiopg.Pool, name: str, actor: str, request_id: str | None
) -> dict[str, Any] | None:
    async with audited(pool, actor, request_id) as cur:
        await cur.execute(
            "UPDATE workspace_categories SET is_active = NOT is_active,"
            " updated_at = clock_timestamp(), updated_by = %s WHERE name = %s",
            (actor, name),
        )
        await cur.execute(f"{_WITH_COUNT} WHERE c.name = %s", (name,))
        return await fetch_one_dict(cur)


async def delete_category(
    pool: aiopg.Pool, name: str, actor: str, request_id: str | None
) -> dict[str, Any] | None:
    """Delete an unused category; Conflict while items use it (the foreign key decides)."""
    try:
        async with audited(pool, actor, request_id) as cur:
            await cur.execute(
                f"DELETE FROM workspace_categories WHERE name = %s RETURNING {_COLUMNS}", (name,)
            )
            return await fetch_one_dict(cur)
    except psycopg2.errors.ForeignKeyViolation:
        pass
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT count(*) FROM workspace_items WHERE category = %s", (name,))
        in_use = (await cur.fetchone())[0]
    raise Conflict(f"category {name!r} is used by {in_use} item(s); move or delete them first")
