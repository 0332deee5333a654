"""Service information, health, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from app import __version__
from app.migrate import discover, sql_root
from app.web.handlers import MetricsHandler
from app.workspace.handlers.base import WorkspaceHandler
from app.workspace.store import items, system

CHECK_TIMEOUT = 3.0


class RootHandler(WorkspaceHandler):
    def get(self) -> None:
        self.write_json(
            {
                "service": "tp-capital-workspace",
                "version": __version__,
                "uptimeSeconds": round(time.time() - self.ctx.started_at, 1),
                "docs": "/openapi.json",
                "writes": "enabled" if self.ctx.config.api_key else "disabled",
                "endpoints": self.settings["route_patterns"],
            }
        )


async def database_check(handler: WorkspaceHandler) -> dict[str, Any]:
    started = time.perf_counter()
    try:
        await asyncio.wait_for(system.ping(handler.pool), CHECK_TIMEOUT)
    except Exception as exc:
        handler.ctx.metrics.db_connection_status.set(0)
        return {"status": "down", "error": type(exc).__name__ + ": " + str(exc).strip()[:200]}
    handler.ctx.metrics.db_connection_status.set(1)
    return {"status": "ok", "latencyMs": round((time.perf_counter() - started) * 1000, 2)}


class HealthHandler(WorkspaceHandler):
    rate_limited = False

    async def get(self) -> None:
        database = await database_check(self)
        ok = database["status"] == "ok"
        self.write_json(
            {"status": "ok" if ok else "unavailable", "checks": {"database": database}},
            status=200 if ok else 503,
        )


class LivenessHandler(WorkspaceHandler):
    rate_limited = False

    def get(self) -> None:
        self.write_json({"status": "ok"})


class ReadyHandler(WorkspaceHandler):
    """Ready when the database answers and every workspace migration is applied."""

    rate_limited = False

    async def get(self) -> None:
        checks: dict[str, Any] = {"database": await database_check(self)}
        if checks["database"]["status"] == "ok":
            expected = [m.version for m in discover(sql_root() / "workspace")]
            try:
                applied = await system.applied_migrations(self.pool)
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


class WorkspaceMetricsHandler(MetricsHandler, WorkspaceHandler):
    """/metrics, with the item count and database status read at scrape time."""

    async def get(self) -> None:  # type: ignore[override]
        metrics = self.ctx.metrics
        try:
            count = await asyncio.wait_for(items.count_items(self.pool), CHECK_TIMEOUT)
        except Exception:
            metrics.db_connection_status.set(0)
        else:
            metrics.items_count.set(count)
            metrics.db_connection_status.set(1)
        MetricsHandler.get(self)


class OpenApiHandler(WorkspaceHandler):
    rate_limited = False

    def get(self) -> None:
        self.write_json(self.settings["openapi"])
