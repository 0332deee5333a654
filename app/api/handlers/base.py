"""The api's handler base: context access and the write credential."""

from __future__ import annotations

import hmac
import logging

from app.api.context import ApiContext
from app.web.dbhandler import DatabaseHandler
from app.web.handlers import ApiError

log = logging.getLogger("app.api")


class ApiHandler(DatabaseHandler):
    @property
    def ctx(self) -> ApiContext:
        return self.settings["ctx"]

    def count_db_error(self, kind: str) -> None:
        self.ctx.metrics.db_errors.labels(kind).inc()

    def set_db_up(self, up: bool) -> None:
        self.ctx.metrics.db_up.set(1 if up else 0)

    def authenticate(self) -> None:
        if self.request.method in self.WRITE_METHODS:
            self.require_api_key()

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
