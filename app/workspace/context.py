"""Everything a handler needs, built once by the app factory."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import aiopg
from prometheus_client import CollectorRegistry

from app.web.ratelimit import RateLimiter
from app.workspace.config import WorkspaceConfig
from app.workspace.metrics import WorkspaceMetrics


@dataclass
class WorkspaceContext:
    config: WorkspaceConfig
    pool: aiopg.Pool
    registry: CollectorRegistry
    metrics: WorkspaceMetrics
    limiter: RateLimiter
    started_at: float = field(default_factory=time.time)
