"""OpenAPI pieces every service shares: the system paths, the error body, and
the pass that declares on each operation every error status it can answer."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "status", "requestId"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "status": {"type": "integer"},
                "requestId": {"type": "string"},
                "fields": {"description": "per-field validation errors"},
            },
        }
    },
}
_HEALTH = {
    "type": "object",
    "required": ["status", "checks"],
    "properties": {"status": {"type": "string"}, "checks": {"type": "object"}},
}
# Paths that answer without the database and without the rate limit.
UNLIMITED = frozenset({"/health", "/ready", "/healthz", "/metrics", "/openapi.json"})
NO_DATABASE = frozenset({"/", "/healthz", "/metrics", "/openapi.json", "/logs"})


def json_content(schema: Any) -> dict[str, Any]:
    return {"application/json": {"schema": schema}}


def ok(schema: Any, description: str = "ok") -> dict[str, Any]:
    return {"description": description, "content": json_content(schema)}


def add_system_paths(spec: Any, *, logs: bool = False) -> None:
    """The operational GET endpoints."""
    anything = ok({"type": "object"})
    spec.path(
        "/", operations={"get": {"summary": "Service information", "responses": {"200": anything}}}
    )
    for path, summary in (
        ("/health", "200 only when the database is reachable"),
        ("/ready", "200 when the database is reachable and migrated"),
    ):
        spec.path(
            path,
            operations={
                "get": {
                    "summary": summary,
                    "responses": {
                        "200": ok(_HEALTH),
                        "503": ok(_HEALTH, "not healthy (the body says why)"),
                    },
                }
            },
        )
    spec.path(
        "/healthz",
        operations={
            "get": {
                "summary": "Liveness",
                "responses": {
                    "200": ok({"type": "object", "properties": {"status": {"type": "string"}}})
                },
            }
        },
    )
    spec.path(
        "/metrics",
        operations={
            "get": {
                "summary": "Prometheus metrics",
                "responses": {
                    "200": {
                        "description": "Prometheus text exposition format",
                        "content": {"text/plain": {"schema": {"type": "string"}}},
                    }
                },
            }
        },
    )
    spec.path(
        "/openapi.json",
        operations={"get": {"summary": "This document", "responses": {"200": anything}}},
    )
    if logs:
        spec.path(
            "/logs",
            operations={
                "get": {
                    "summary": "Recent log records (needs the API key; off when none is set)",
                    "security": [{"apiKey": []}],
                    "parameters": [
                        {
                            "in": "query",
                            "name": "limit",
                            "schema": {"type": "integer", "minimum": 1, "maximum": 500},
                        },
                        {
                            "in": "query",
                            "name": "level",
                            "schema": {
                                "type": "string",
                                "enum": ["debug", "info", "warning", "error", "critical"],
                            },
                        },
                    ],
                    "responses": {
                        "200": ok(
                            {
                                "type": "object",
                                "required": ["count", "logs"],
                                "properties": {
                                    "count": {"type": "integer"},
                                    "logs": {"type": "array"},
                                },
                            }
                        )
                    },
                }
            },
        )


def declare_errors(document: dict[str, Any]) -> dict[str, Any]:
    """Declare, on every operation, each error status the base handler can answer.

    The rules follow app.web.handlers.BaseHandler: 400 for bad query or body,
    401/403 where a credential is needed, 404 for an unknown id, 413/415 for
    bodies, 429 from the rate limit, 503 when the database is down.
    """
    document.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = ok({"$ref": "#/components/schemas/Error"}, "error")
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            codes: set[int] = set()
            if operation.get("parameters") or operation.get("requestBody"):
                codes.add(400)
            if operation.get("requestBody"):
                codes |= {413, 415}
            if operation.get("security"):
                codes |= {401, 403}
            if "{" in path:
                codes.add(404)
            if path not in UNLIMITED:
                codes.add(429)
            if path not in NO_DATABASE:
                codes.add(503)
            responses = operation.setdefault("responses", {})
            for code in sorted(codes):
                responses.setdefault(str(code), error)
    return document


def tidy_query_parameters(document: dict[str, Any]) -> dict[str, Any]:
    """A query parameter is absent or a string: no `null` (which marshmallow's
    load_default=None makes apispec write), and a timestamp is a string."""
    for operations in document["paths"].values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                if parameter.get("in") != "query":
                    continue
                schema = parameter.setdefault("schema", {})
                schema.pop("nullable", None)
                if schema.get("default", 0) is None:
                    schema.pop("default")
                if "enum" in schema:
                    schema["enum"] = [value for value in schema["enum"] if value is not None]
                if "type" not in schema:
                    schema.update(type="string", description="ISO 8601 or epoch milliseconds")
    return document


def closed_objects(document: dict[str, Any], *names: str) -> dict[str, Any]:
    """Answer schemas whose every field is always present and that have no other:
    the fuzzer then flags both a missing field and an undeclared one."""
    components = document["components"]["schemas"]
    for name in names:
        component = components[name]
        component["required"] = list(component["properties"])
        component["additionalProperties"] = False
    return document
