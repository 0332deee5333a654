"""Reading the audit trail (the triggers of sql/workspace/001 write it)."""

from __future__ import annotations

from typing import Any

import aiopg

from app.workspace.store.rows import fetch_dicts

_COLUMNS = (
    "id, entity, entity_id, action, old_data, new_data, changed_by, changed_at, source, request_id"
)


async def history(
    pool: aiopg.Pool, entity: str, entity_id: str, limit: int = 1000
) -> list[dict[str, Any]]:
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(
            f"SELECT {_COLUMNS} FROM workspace_audit_log WHERE entity = %s AND entity_id = %s"
            " ORDER BY id LIMIT %s",
            (entity, entity_id, limit),
        )
        return await fetch_dicts(cur)
