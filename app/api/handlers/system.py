"""Service info, health, readiness and the OpenAPI document."""

from __future__ import annotations

import time

from app import __version__
from app.api.handlers.base import ApiHandler
from app.web import dbhandler, handlers
from app.web.handlers import ApiError


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


class HealthHandler(dbhandler.HealthHandler, ApiHandler):
    pass


class ReadyHandler(dbhandler.ReadyHandler, ApiHandler):
    migration_target = "signals"


class OpenApiHandler(ApiHandler):
    rate_limited = False

    def get(self) -> None:
        self.write_json(self.settings["openapi"])


class LogsHandler(handlers.LogsHandler, ApiHandler):
    """/logs: only with the API key, and off when none is set."""

    def authenticate(self) -> None:
        if not self.ctx.config.api_key:
            raise ApiError(
                403, "logs_disabled", "logs are served only when TP_CAPITAL_API_KEY is set"
            )
        self.require_api_key()
