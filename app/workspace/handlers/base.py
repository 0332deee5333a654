"""The workspace's handler base: context, the acting user, write credentials."""

from __future__ import annotations

import hmac
import logging
from typing import Any

from marshmallow import Schema

from app.web.dbhandler import DatabaseHandler
from app.web.handlers import ApiError
from app.workspace import domain
from app.workspace.context import WorkspaceContext

log = logging.getLogger("app.workspace")
USER_HEADER = "X-User"
DEFAULT_USER = "system"


class WorkspaceHandler(DatabaseHandler):
    @property
    def ctx(self) -> WorkspaceContext:
        return self.settings["ctx"]

    # -- input ----------------------------------------------------------------
    def load_body(self, schema: Schema) -> dict[str, Any]:
        body = self.json_body()
        if not isinstance(body, dict):
            raise ApiError(400, "validation_failed", "request body must be a JSON object")
        return self.load(schema, body)

    def load_query(self, schema: Schema) -> dict[str, Any]:
        return self.load(schema, self.query_args())

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
    public_writes = False  # True where POST only reads (category validation)

    def authenticate(self) -> None:
        if self.request.method in self.WRITE_METHODS and not self.public_writes:
            self.require_api_key()

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

    # -- database hooks -------------------------------------------------------
    def count_db_error(self, kind: str) -> None:
        self.ctx.metrics.db_errors.labels(kind).inc()

    def set_db_up(self, up: bool) -> None:
        self.ctx.metrics.db_connection_status.set(1 if up else 0)
