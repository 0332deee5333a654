"""The audited write transaction; row helpers come from app.db."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

import aiopg

from app.db import fetch_dicts, fetch_one_dict, transaction


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


__all__ = ["audited", "fetch_dicts", "fetch_one_dict"]
