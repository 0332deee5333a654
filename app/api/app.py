"""The api's application factory: routes and collaborators in one place."""

from __future__ import annotations

from typing import Any

import aiopg
import tornado.web
from prometheus_client import CollectorRegistry

from app.api.coalescer import IngestCoalescer
from app.api.config import ApiConfig
from app.api.context import ApiContext
from app.api.handlers import gateway_feed, ingest, read, registry, system
from app.api.metrics import ApiMetrics
from app.api.openapi import build_spec
from app.api.parse_pool import ParsePool
from app.web.dbhandler import LivenessHandler
from app.web.handlers import MetricsHandler, NotFoundHandler, request_logger, route
from app.web.ratelimit import RateLimiter
from app.web.security import CorsPolicy

ID = r"([0-9]{1,18})"


def routes() -> list[Any]:
    channel_routes = []
    for base in ("/telegram-channels", "/telegram/channels"):
        channel_routes += [
            route(base, registry.ChannelsHandler),
            route(base + f"/{ID}", registry.ChannelHandler),
        ]
    return [
        route("/", system.RootHandler),
        route("/health", system.HealthHandler),
        route("/ready", system.ReadyHandler),
        route("/healthz", LivenessHandler),
        route("/metrics", MetricsHandler),
        route("/openapi.json", system.OpenApiHandler),
        route("/logs", system.LogsHandler),
        route("/ingest", ingest.IngestHandler),
        route("/ingest/batch", ingest.IngestBatchHandler),
        route("/ingest/channels", gateway_feed.GatewayChannelsHandler),
        route("/ingest/deletions", gateway_feed.DeletionsHandler),
        route("/signals", read.SignalsHandler),
        route(f"/signals/{ID}", read.SignalHandler),
        route("/messages", read.MessagesHandler),
        route("/messages/reparse", read.ReparseHandler),
        route("/forwarded-messages", read.ForwardedMessagesHandler),
        route("/channels", read.ChannelsSummaryHandler),
        route("/config/channels", registry.ConfiguredChannelsHandler),
        *channel_routes,
        route("/telegram/bots", registry.BotsHandler),
        route(f"/telegram/bots/{ID}", registry.BotHandler),
    ]


def make_app(
    config: ApiConfig,
    *,
    pool: aiopg.Pool,
    registry: CollectorRegistry,
    exposition: CollectorRegistry | None = None,
) -> tornado.web.Application:
    """`registry` holds the metrics; /metrics shows `exposition` (default: the same)."""
    metrics = ApiMetrics(registry)
    window = config.rate_limit_window_ms / 1000
    ctx = ApiContext(
        config=config,
        pool=pool,
        registry=registry,
        metrics=metrics,
        limiter=RateLimiter(config.rate_limit_max, window),
        ingest_limiter=RateLimiter(config.ingest_rate_limit_max, window),
        coalescer=IngestCoalescer(
            pool,
            # Two statements in flight: one waiting for its commit while the next
            # is sent. More only split the waiting requests into smaller groups,
            # and every statement costs the api a round trip's CPU.
            max_inflight=min(2, config.db_pool_max),
            observe=metrics.ingest_group_size.observe,
        ),
        parse_pool=ParsePool(config.parse_workers, lexicon_path=config.parser_lexicon_path),
    )
    rules = routes()
    return tornado.web.Application(
        rules,
        ctx=ctx,
        registry=exposition or registry,
        cors=CorsPolicy(config.cors_origins),
        rate_limiter=ctx.limiter,
        openapi=build_spec(),
        route_patterns=[rule.kwargs["route"] for rule in rules],
        default_handler_class=NotFoundHandler,
        log_function=request_logger(metrics.http_duration),
        compress_response=False,
    )
