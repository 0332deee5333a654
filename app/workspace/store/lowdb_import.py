"""SQL of the LowDB importer (psycopg2, synchronous: a one-shot command)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import psycopg2.extensions

from app.workspace.lowdb import CategoryRow, ItemRow

Cursor = psycopg2.extensions.cursor
# One advisory lock key for every importer: two runs at once would both find
# the items missing, and the second would only report conflicts.
_IMPORT_LOCK = 0x10_DB_1A9


class SchemaMissing(Exception):
    pass


def check_schema(cur: Cursor) -> None:
    cur.execute("SELECT to_regclass('workspace_items'), to_regclass('workspace_categories')")
    if None in cur.fetchone():
        raise SchemaMissing(
            "the workspace tables do not exist in this database: run"
            " `tpcap migrate --target workspace` first"
        )


def begin(cur: Cursor, *, read_only: bool, actor: str) -> None:
    cur.execute("BEGIN READ ONLY" if read_only else "BEGIN")
    cur.execute("SELECT pg_advisory_xact_lock(%s)", (_IMPORT_LOCK,))
    cur.execute(
        "SELECT set_config('workspace.actor', %s, true),"
        " set_config('workspace.source', 'import', true)",
        (actor,),
    )


def categories(cur: Cursor) -> dict[str, str]:
    cur.execute("SELECT name, display_name FROM workspace_categories")
    return dict(cur.fetchall())


def _chunks(values: list[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


_ITEM_SELECT = (
    "SELECT id, title, description, category, priority, status, tags, metadata,"
    " created_at, updated_at, created_by, updated_by FROM workspace_items WHERE id = ANY(%s)"
)


def items_by_id(cur: Cursor, ids: list[str], chunk: int = 5000) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for part in _chunks(ids, chunk):
        cur.execute(_ITEM_SELECT, (part,))
        names = [column.name for column in cur.description]
        for row in cur.fetchall():
            record = dict(zip(names, row, strict=True))
            found[record["id"]] = record
    return found


def insert_categories(cur: Cursor, rows: list[CategoryRow]) -> list[str]:
    if not rows:
        return []
    cur.execute(
        """
        INSERT INTO workspace_categories
            (name, display_name, description, color, icon, sort_order, is_active,
             created_at, updated_at, created_by, updated_by)
        SELECT name, display_name, description, color, icon, sort_order, is_active,
               coalesce(created_at, clock_timestamp()), coalesce(updated_at, clock_timestamp()),
               created_by, updated_by
        FROM jsonb_to_recordset(%s::jsonb) AS x(
            name text, display_name text, description text, color text, icon text,
            sort_order integer, is_active boolean, created_at timestamptz,
            updated_at timestamptz, created_by text, updated_by text)
        ON CONFLICT (name) DO NOTHING
        RETURNING name
        """,
        (json.dumps([row.row() for row in rows], ensure_ascii=False),),
    )
    return [row[0] for row in cur.fetchall()]


def insert_items(cur: Cursor, rows: list[ItemRow]) -> int:
    """Insert the rows whose id is free; returns how many were inserted."""
    if not rows:
        return 0
    cur.execute(
        """
        INSERT INTO workspace_items
            (id, title, description, category, priority, status, tags, metadata,
             created_at, updated_at, created_by, updated_by)
        SELECT id, title, description, category, priority, status, tags, metadata,
               created_at, updated_at, created_by, updated_by
        FROM jsonb_to_recordset(%s::jsonb) AS x(
            id text, title text, description text, category text, priority text, status text,
            tags text[], metadata jsonb, created_at timestamptz, updated_at timestamptz,
            created_by text, updated_by text)
        ON CONFLICT (id) DO NOTHING
        """,
        (json.dumps([row.row() for row in rows], ensure_ascii=False),),
    )
    return cur.rowcount


def count_present(cur: Cursor, ids: list[str], chunk: int = 5000) -> int:
    present = 0
    for part in _chunks(ids, chunk):
        cur.execute("SELECT count(*) FROM workspace_items WHERE id = ANY(%s)", (part,))
        present += cur.fetchone()[0]
    return present
