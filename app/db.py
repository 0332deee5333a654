"""The PostgreSQL connection pool and error classification shared by the services."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import aiopg
import psycopg2
import psycopg2.errors

from app.config import DbConfig


class DatabaseUnavailable(Exception):
    """The database cannot be reached; callers answer 503 so producers retry."""


async def create_pool(config: DbConfig, *, minsize: int = 1, maxsize: int = 10) -> aiopg.Pool:
    return await aiopg.create_pool(
        config.dsn(), minsize=minsize, maxsize=maxsize, timeout=10.0, pool_recycle=300.0
    )


def classify_error(exc: BaseException) -> str:
    """A closed set of labels for api_timescaledb_errors_total."""
    if isinstance(
        exc, psycopg2.OperationalError | psycopg2.InterfaceError | ConnectionError | OSError
    ):
        return "connection"
    if isinstance(exc, TimeoutError):
        return "timeout"
    if isinstance(exc, psycopg2.IntegrityError):
        return "integrity"
    if isinstance(exc, psycopg2.DataError):
        return "data"
    if isinstance(exc, psycopg2.ProgrammingError):
        return "query"
    return "other"


ERROR_TYPES = ("connection", "timeout", "integrity", "data", "query", "other")


def is_database_error(exc: BaseException) -> bool:
    return isinstance(exc, psycopg2.Error | TimeoutError | ConnectionError)


def is_unavailable(exc: BaseException) -> bool:
    return classify_error(exc) in ("connection", "timeout")


@contextlib.asynccontextmanager
async def transaction(pool: aiopg.Pool) -> AsyncIterator[aiopg.Cursor]:
    """A cursor inside BEGIN/COMMIT (aiopg connections are autocommit)."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("BEGIN")
        try:
            yield cur
        except BaseException:
            with contextlib.suppress(Exception):
                await cur.execute("ROLLBACK")
            raise
        await cur.execute("COMMIT")


async def fetch_dicts(cur: aiopg.Cursor) -> list[dict[str, Any]]:
    rows = await cur.fetchall()
    names = [column.name for column in cur.description]
    return [dict(zip(names, row, strict=True)) for row in rows]


async def fetch_one_dict(cur: aiopg.Cursor) -> dict[str, Any] | None:
    rows = await fetch_dicts(cur)
    return rows[0] if rows else None


async def ping(pool: aiopg.Pool) -> None:
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute("SELECT 1")
        await cur.fetchone()


async def applied_migrations(pool: aiopg.Pool, target: str) -> list[str]:
    """Versions recorded by `tpcap migrate` (schema_migrations is on the search_path)."""
    async with pool.acquire() as conn, conn.cursor() as cur:
        await cur.execute(
            "SELECT version FROM schema_migrations WHERE target = %s ORDER BY version", (target,)
        )
        return [row[0] for row in await cur.fetchall()]
