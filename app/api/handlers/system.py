"""Service info, health, readiness and the OpenAPI document."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from app import __version__
from app.api.handlers.base import ApiHandler
from app.api.store import queries
from app.migrate import discover, sql_root


class RootHandler(ApiHandler):
    def get(self) -> None:
        self.write_json(
            {
                "service": "tp-capital-api",
                "version": __version__,
                "uptimeSeconds": round(time.time() - self.ctx.started_at, 1),
                "docs": "/openapi.json",
                "endpoints": self.settings["route_patterns"],
            }
        )


async def database_check(handler: ApiHandler) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(queries.ping(handler.pool), 3.0)
    except Exception as exc:
        handler.ctx.metrics.db_up.set(0)
        return {"status": "down", "error": type(exc).__name__ + ": " + str(exc).strip()[:200]}
    handler.ctx.metrics.db_up.set(1)
    return {"status": "ok", "latencyMs": round((time.perf_counter() - started) * 1000, 2)}


class HealthHandler(ApiHandler):
    rate_limited = False

    async def get(self) -> None:
        database = await database_check(self)
        ok = database["status"] == "ok"
        self.write_json(
            {"status": "ok" if ok else "unavailable", "checks": {"database": database}},
            status=200 if ok else 503,
        )


class LivenessHandler(ApiHandler):
    rate_limited = False

    def get(self) -> None:
        self.write_json({"status": "ok"})


class ReadyHandler(ApiHandler):
    """Ready when the database answers and every migration this code knows is applied."""

    rate_limited = False

    async def get(self) -> None:
        checks: dict[str, Any] = {"database": await database_check(self)}
        if checks["database"]["status"] == "ok":
            expected = [m.version for m in discover(sql_root() / "signals")]
            try:
                applied = await queries.applied_migrations(self.pool)
            except Exception as exc:
                applied = []
                checks["migrations"] = {"status": "down", "error": str(exc).strip()[:200]}
            missing = [v for v in expected if v not in applied]
            checks.setdefault(
                "migrations",
                {"status": "ok" if not missing else "pending", "missing": missing},
            )
        ready = all(check["status"] == "ok" for check in checks.values())
        self.write_json(
            {"status": "ready" if ready else "not_ready", "checks": checks},
            status=200 if ready else 503,
        )


class OpenApiHandler(ApiHandler):
    rate_limited = False

    def get(self) -> None:
        self.write_json(self.settings["openapi"])
