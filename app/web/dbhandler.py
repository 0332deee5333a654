"""Handlers backed by the database pool: validation, database errors turned
into answers (503 when unreachable, so producers retry), and health checks."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import psycopg2
import psycopg2.errors
from marshmallow import Schema, ValidationError

from app.db import (
    applied_migrations,
    classify_error,
    is_database_error,
    is_unavailable,
    ping,
)
from app.migrate import discover, sql_root
from app.web.handlers import ApiError, BaseHandler

log = logging.getLogger("app.http")
CHECK_TIMEOUT = 3.0


def describe_error(exc: BaseException, request_id: str) -> dict[str, Any]:
    """What a log line may say about a database error: its kind and where, never
    its message, whose DETAIL quotes the values of the row (a bot token, a text)."""
    diag = getattr(exc, "diag", None)
    described: dict[str, Any] = {
        "request_id": request_id,
        "error_class": type(exc).__name__,
        "pgcode": getattr(exc, "pgcode", None),
    }
    for name in ("table_name", "column_name", "constraint_name"):
        value = getattr(diag, name, None) if diag is not None else None
        if value:
            described[name.removesuffix("_name")] = value
    if described["pgcode"] is None and is_unavailable(exc):
        # Connection failures carry no row; their text is what an operator needs.
        described["error"] = str(exc).strip()[:300]
    return described


class DatabaseHandler(BaseHandler):
    """Services give `settings["ctx"]` a `pool`, and override the two metric hooks."""

    @property
    def pool(self) -> Any:
        return self.settings["ctx"].pool

    def count_db_error(self, kind: str) -> None:
        """Hook: count a database error of `kind` (app.db.ERROR_TYPES)."""

    def set_db_up(self, up: bool) -> None:
        """Hook: record whether the database answered."""

    def on_database_unavailable(self) -> None:
        """Hook for handlers that count their own outcomes."""

    def load(self, schema: Schema, data: Any, *, partial: bool = False) -> dict[str, Any]:
        try:
            return schema.load(data, partial=partial)
        except ValidationError as exc:
            raise ApiError(
                400, "validation_failed", "request failed validation", fields=exc.messages
            ) from None

    def query_args(self) -> dict[str, str]:
        # Decoded as sent: get_query_argument() turns control characters into spaces
        # and trims, so a 300-character value could pass a 256 limit, and NUL would
        # pass unseen. The schemas judge the raw text.
        return {
            name: self.decode_argument(values[-1], name)
            for name, values in self.request.query_arguments.items()
        }

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if exc is not None and not isinstance(exc, ApiError) and is_database_error(exc):
            kwargs["exc_info"] = (ApiError, self._database_answer(exc), None)
        super().send_error(status_code, **kwargs)

    def _database_answer(self, exc: BaseException) -> ApiError:
        self.count_db_error(classify_error(exc))
        if is_unavailable(exc):
            self.set_db_up(False)
            log.warning("database unavailable", extra=describe_error(exc, self.request_id))
            self.on_database_unavailable()
            return ApiError(
                503,
                "database_unavailable",
                "the database is unreachable; retry later",
                headers={"Retry-After": "5"},
            )
        if isinstance(exc, psycopg2.DataError | psycopg2.errors.CheckViolation):
            # Validation should have caught this first; answer as bad input, log the gap.
            log.warning("database refused a value", extra=describe_error(exc, self.request_id))
            return ApiError(400, "invalid_value", "the database refused a value of this request")
        log.error("database error", extra=describe_error(exc, self.request_id))
        return ApiError(500, "database_error", "the database could not complete the request")

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if value is not None and is_database_error(value):
            return  # logged once, at the right level, by _database_answer
        super().log_exception(typ, value, tb)


async def database_check(handler: DatabaseHandler) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(ping(handler.pool), CHECK_TIMEOUT)
    except Exception as exc:
        handler.set_db_up(False)
        return {"status": "down", "error": type(exc).__name__ + ": " + str(exc).strip()[:200]}
    handler.set_db_up(True)
    return {"status": "ok", "latencyMs": round((time.perf_counter() - started) * 1000, 2)}


class HealthHandler(DatabaseHandler):
    """200 only when the database answers."""

    rate_limited = False

    async def get(self) -> None:
        database = await database_check(self)
        ok = database["status"] == "ok"
        self.write_json(
            {"status": "ok" if ok else "unavailable", "checks": {"database": database}},
            status=200 if ok else 503,
        )


class ReadyHandler(DatabaseHandler):
    """200 when the database answers and every migration this code knows is applied."""

    rate_limited = False
    migration_target = "signals"

    async def get(self) -> None:
        checks: dict[str, Any] = {"database": await database_check(self)}
        if checks["database"]["status"] == "ok":
            expected = [m.version for m in discover(sql_root() / self.migration_target)]
            try:
                applied = await applied_migrations(self.pool, self.migration_target)
            except Exception as exc:
                checks["migrations"] = {"status": "down", "error": str(exc).strip()[:200]}
            else:
                missing = [v for v in expected if v not in applied]
                checks["migrations"] = {
                    "status": "ok" if not missing else "pending",
                    "missing": missing,
                }
        ready = all(check["status"] == "ok" for check in checks.values())
        self.write_json(
            {"status": "ready" if ready else "not_ready", "checks": checks},
            status=200 if ready else 503,
        )


class LivenessHandler(BaseHandler):
    rate_limited = False

    def get(self) -> None:
        self.write_json({"status": "ok"})
