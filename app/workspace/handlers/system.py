"""Service information, health, readiness, metrics and the OpenAPI document."""

from __future__ import annotations

import asyncio
import time

from app import __version__
from app.web import dbhandler
from app.web.handlers import MetricsHandler
from app.workspace.handlers.base import WorkspaceHandler
from app.workspace.store import items

CHECK_TIMEOUT = dbhandler.CHECK_TIMEOUT


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


class HealthHandler(dbhandler.HealthHandler, WorkspaceHandler):
    pass


class ReadyHandler(dbhandler.ReadyHandler, WorkspaceHandler):
    migration_target = "workspace"


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
