"""OpenAPI pieces every service shares."""

from __future__ import annotations

from typing import Any

SYSTEM_PATHS: tuple[tuple[str, str], ...] = (
    ("/", "Service information"),
    ("/health", "200 only when the database is reachable"),
    ("/ready", "200 when the database is reachable and migrated"),
    ("/healthz", "Liveness"),
    ("/metrics", "Prometheus metrics"),
    ("/openapi.json", "This document"),
)


def add_system_paths(spec: Any, *extra: tuple[str, str]) -> None:
    """The operational GET endpoints, each answering 200 with a JSON (or text) body."""
    ok = {"description": "ok", "content": {"application/json": {"schema": {}}}}
    for path, summary in (*SYSTEM_PATHS, *extra):
        spec.path(path, operations={"get": {"summary": summary, "responses": {"200": ok}}})
