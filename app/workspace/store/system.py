"""Health and readiness queries."""

from __future__ import annotations

import aiopg


async def ping(pool: aiopg.Pool) -> None:
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT 1")
        await cur.fetchone()


async def applied_migrations(pool: aiopg.Pool) -> list[str]:
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(
            "SELECT version FROM schema_migrations WHERE target = 'workspace' ORDER BY version"
        )
        return [row[0] for row in await cur.fetchall()]
