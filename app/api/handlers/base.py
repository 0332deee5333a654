"""The api's handler base: context access, credentials, database errors."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from marshmallow import Schema, ValidationError

from app.api.context import ApiContext
from app.db import classify_error, is_database_error, is_unavailable
from app.web.handlers import ApiError, BaseHandler

log = logging.getLogger("app.api")


class ApiHandler(BaseHandler):
    @property
    def ctx(self) -> ApiContext:
        return self.settings["ctx"]

    @property
    def pool(self) -> Any:
        return self.ctx.pool

    def load(self, schema: Schema, data: Any, *, partial: bool = False) -> dict[str, Any]:
        try:
            return schema.load(data, partial=partial)
        except ValidationError as exc:
            raise ApiError(
                400, "validation_failed", "request failed validation", fields=exc.messages
            ) from None

    def query_args(self) -> dict[str, str]:
        return {name: self.get_query_argument(name) for name in self.request.query_arguments}

    def require_api_key(self) -> None:
        expected = self.ctx.config.api_key
        if not expected:
            raise ApiError(
                403,
                "writes_disabled",
                "writes are disabled: set TP_CAPITAL_API_KEY on the api and send it in X-API-Key",
            )
        given = self.request.headers.get("X-API-Key", "")
        if not hmac.compare_digest(given.encode(), expected.encode()):
            self.ctx.metrics.auth_failures.labels("X-API-Key").inc()
            log.warning(
                "rejected api key",
                extra={
                    "client": self.client_address(),
                    "route": self.route,
                    "present": bool(given),
                },
            )
            raise ApiError(401, "invalid_api_key", "missing or wrong X-API-Key")

    def send_error(self, status_code: int = 500, **kwargs: Any) -> None:
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if exc is not None and not isinstance(exc, ApiError) and is_database_error(exc):
            kind = classify_error(exc)
            self.ctx.metrics.db_errors.labels(kind).inc()
            if is_unavailable(exc):
                self.ctx.metrics.db_up.set(0)
                log.warning("database unavailable", extra={"error": str(exc).strip()[:300]})
                error = ApiError(
                    503,
                    "database_unavailable",
                    "the database is unreachable; retry later",
                    headers={"Retry-After": "5"},
                )
                kwargs["exc_info"] = (ApiError, error, None)
                self.on_database_unavailable()
        super().send_error(status_code, **kwargs)

    def log_exception(self, typ: Any, value: Any, tb: Any) -> None:
        if value is not None and is_database_error(value) and is_unavailable(value):
            return  # answered 503 and logged once as a warning in send_error
        super().log_exception(typ, value, tb)

    def on_database_unavailable(self) -> None:
        """Hook for handlers that count their own outcomes."""
