"""The workspace's handler base: context, validation, the acting user, write
credentials, and database errors turned into answers."""

from __future__ import annotations

import hmac
import logging
from typing import Any

import psycopg2
from marshmallow import Schema, ValidationError

from app.db import classify_error, is_database_error, is_unavailable
from app.web.handlers import ApiError, BaseHandler
from app.workspace import domain
from app.workspace.context import WorkspaceContext

log = logging.getLogger("app.workspace")
USER_HEADER = "X-User"
DEFAULT_USER = "system"


class WorkspaceHandler(BaseHandler):
    @property
    def ctx(self) -> WorkspaceContext:
        return self.settings["ctx"]

    @property
    def pool(self) -> Any:
        return self.ctx.pool

    # -- input ----------------------------------------------------------------
    def load(self, schema: Schema, data: Any) -> dict[str, Any]:
        try:
            return schema.load(data)
        except ValidationError as exc:
            raise ApiError(
                400, "validation_failed", "request failed validation", fields=exc.messages
            ) from None

    def json_body(self) -> Any:
        try:
            return super().json_body()
        except RecursionError:
            raise ApiError(400, "malformed_json", "request body nests too deeply") from None

    def load_body(self, schema: Schema) -> dict[str, Any]:
        body = self.json_body()
        if not isinstance(body, dict):
            raise ApiError(400, "validation_failed", "request body must be a JSON object")
        return self.load(schema, body)

    def load_query(self, schema: Schema) -> dict[str, Any]:
        args = {name: self.get_query_argument(name) for name in self.request.query_arguments}
        return self.load(schema, args)

    def actor(self) -> str:
        """Who is making the change: the X-User header, or "system"."""
        value = self.request.headers.get(USER_HEADER, "").strip()
        if not value:
            return DEFAULT_USER
        if (
            len(value) > domain.ACTOR_MAX
            or not value.isprintable()
            or domain.text_problem(value) is not None
        ):
            raise ApiError(
                400,
                "invalid_header",
                f"{USER_HEADER} must be printable text of at most {domain.ACTOR_MAX} characters",
                fields={USER_HEADER: ["invalid"]},
            )
        return value

    # -- credentials ----------------------------------------------------------
    def require_api_key(self) -> None:
        config = self.ctx.config
        if not config.api_key:
            raise ApiError(
                403,
                "writes_disabled",
                "writes are disabled: set WORKSPACE_API_KEY (or TP_CAPITAL_API_KEY) on the"
                " workspace service and send it in X-API-Key",
            )
        given = self.request.headers.get("X-API-Key", "")
        if not hmac.compare_digest(given.encode(), config.api_key.encode()):
            self.ctx.metrics.auth_failures.inc()
            log.warning(
                "rejected api key",
                extra={
                    "client": self.client_address(),
                    "route": self.route,
                    "present": bool(given),
                },
            )
            raise ApiError(401, "invalid_api_key", "missing or wrong X-API-Key")

    # -- errors ---------------------------------------------------------------
    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if exc is not None and not isinstance(exc, ApiError) and is_database_error(exc):
            kwargs["exc_info"] = (ApiError, self._database_answer(exc), None)
        super().send_error(status_code, **kwargs)

    def _database_answer(self, exc: BaseException) -> ApiError:
        metrics = self.ctx.metrics
        metrics.db_errors.labels(classify_error(exc)).inc()
        if is_unavailable(exc):
            metrics.db_connection_status.set(0)
            log.warning("database unavailable", extra={"error": str(exc).strip()[:300]})
            return ApiError(
                503,
                "database_unavailable",
                "the database is unreachable; retry later",
                headers={"Retry-After": "5"},
            )
        if isinstance(exc, psycopg2.DataError | psycopg2.errors.CheckViolation):
            # Validation should have caught this first; answer as bad input, log the gap.
            log.warning("database refused a value", extra={"error": str(exc).strip()[:300]})
            return ApiError(400, "invalid_value", "the database refused a value of this request")
        log.error("database error", exc_info=exc, extra={"request_id": self.request_id})
        return ApiError(500, "database_error", "the database could not complete the request")
