"""The PostgreSQL connection pool and error classification shared by the services."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

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
