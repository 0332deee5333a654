"""The workspace's application factory: routes and collaborators in one place."""

from __future__ import annotations

from typing import Any

import aiopg
import tornado.web
from prometheus_client import CollectorRegistry

from app.web.dbhandler import LivenessHandler
from app.web.handlers import NotFoundHandler, request_logger, route
from app.web.ratelimit import RateLimiter
from app.web.security import CorsPolicy
from app.workspace.config import WorkspaceConfig
from app.workspace.context import WorkspaceContext
from app.workspace.handlers import categories, items, system
from app.workspace.handlers.base import USER_HEADER
from app.workspace.metrics import WorkspaceMetrics
from app.workspace.openapi import build_spec

ITEM_ID = r"([A-Za-z0-9][A-Za-z0-9._:-]{0,127})"
CATEGORY = r"([^/]{1,200})"


def routes() -> list[Any]:
    item_routes = []
    for base in ("/api/items", "/items"):  # /items: the Node service's clients
        item_routes += [
            route(base, items.ItemsHandler),
            # Before the id route, which would otherwise take "stats" for an id.
            route(base + "/stats", items.ItemStatsHandler),
            route(base + f"/{ITEM_ID}", items.ItemHandler),
            route(base + f"/{ITEM_ID}/history", items.ItemHistoryHandler),
        ]
    return [
        route("/", system.RootHandler),
        route("/health", system.HealthHandler),
        route("/ready", system.ReadyHandler),
        route("/healthz", LivenessHandler),
        route("/metrics", system.WorkspaceMetricsHandler),
        route("/openapi.json", system.OpenApiHandler),
        *item_routes,
        route("/api/categories", categories.CategoriesHandler),
        route("/api/categories/validate", categories.CategoryValidateHandler),
        route(f"/api/categories/{CATEGORY}/toggle", categories.CategoryToggleHandler),
        route(f"/api/categories/{CATEGORY}", categories.CategoryHandler),
    ]


def make_app(
    config: WorkspaceConfig, *, pool: aiopg.Pool, registry: CollectorRegistry
) -> tornado.web.Application:
    metrics = WorkspaceMetrics(registry)
    ctx = WorkspaceContext(
        config=config,
        pool=pool,
        registry=registry,
        metrics=metrics,
        limiter=RateLimiter(config.rate_limit_max, config.rate_limit_window_ms / 1000),
    )
    log_duration = request_logger(metrics.http_duration)

    def log_request(handler: tornado.web.RequestHandler) -> None:
        log_duration(handler)
        metrics.http_requests.labels(
            handler.request.method or "",
            getattr(handler, "route", "unmatched"),
            str(handler.get_status()),
        ).inc()

    rules = routes()
    return tornado.web.Application(
        rules,
        ctx=ctx,
        registry=registry,
        cors=CorsPolicy(
            config.cors_origins,
            allow_headers=f"Content-Type, X-API-Key, X-Request-Id, {USER_HEADER}",
        ),
        rate_limiter=ctx.limiter,
        openapi=build_spec(),
        route_patterns=[rule.kwargs["route"] for rule in rules],
        default_handler_class=NotFoundHandler,
        log_function=log_request,
        compress_response=False,
    )
