"""Everything a handler needs, built once by the app factory."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import aiopg
from prometheus_client import CollectorRegistry

from app.api.coalescer import IngestCoalescer
from app.api.config import ApiConfig
from app.api.metrics import ApiMetrics
from app.api.parse_pool import ParsePool
from app.web.ratelimit import RateLimiter


@dataclass
class ApiContext:
    config: ApiConfig
    pool: aiopg.Pool
    registry: CollectorRegistry
    metrics: ApiMetrics
    limiter: RateLimiter
    ingest_limiter: RateLimiter
    coalescer: IngestCoalescer
    parse_pool: ParsePool
    started_at: float = field(default_factory=time.time)
