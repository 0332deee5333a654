"""Reading configuration from the environment.

Every reader raises ConfigError naming the variable, so a bad value stops
start-up with one clear line instead of a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

MIN_TOKEN_LENGTH = 32


class ConfigError(Exception):
    """A configuration variable is missing or invalid."""

    def __init__(self, variable: str, problem: str) -> None:
        super().__init__(f"{variable}: {problem}")
        self.variable = variable
        self.problem = problem


class Env:
    """Typed access to an environment mapping."""

    def __init__(self, environ: Mapping[str, str] | None = None) -> None:
        self._environ = os.environ if environ is None else environ

    def raw(self, name: str) -> str | None:
        value = self._environ.get(name)
        if value is None:
            return None
        value = value.strip()
        return value or None

    def str(self, name: str, default: str | None = None, *, required: bool = False) -> str:
        value = self.raw(name)
        if value is None:
            if required or default is None:
                raise ConfigError(name, "is required but not set")
            return default
        return value

    def optional_str(self, name: str) -> str | None:
        return self.raw(name)

    def int(
        self,
        name: str,
        default: int | None = None,
        *,
        minimum: int | None = None,
        maximum: int | None = None,
    ) -> int:
        value = self.raw(name)
        if value is None:
            if default is None:
                raise ConfigError(name, "is required but not set")
            return default
        try:
            number = int(value, 10)
        except ValueError:
            raise ConfigError(name, f"must be an integer, got {value!r}") from None
        if minimum is not None and number < minimum:
            raise ConfigError(name, f"must be at least {minimum}, got {number}")
        if maximum is not None and number > maximum:
            raise ConfigError(name, f"must be at most {maximum}, got {number}")
        return number

    def port(self, name: str, default: int) -> int:
        return self.int(name, default, minimum=1, maximum=65535)

    def list(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        value = self.raw(name)
        if value is None:
            return default
        return tuple(part.strip() for part in value.split(",") if part.strip())

    def choice(self, name: str, choices: tuple[str, ...], default: str) -> str:
        value = self.raw(name)
        if value is None:
            return default
        lowered = value.lower()
        if lowered not in choices:
            raise ConfigError(name, f"must be one of {', '.join(choices)}, got {value!r}")
        return lowered

    def token(self, name: str, *, required: bool = True) -> str | None:
        value = self.raw(name)
        if value is None:
            if required:
                raise ConfigError(name, "is required but not set")
            return None
        check_token(name, value)
        return value


def check_token(name: str, value: str) -> None:
    if len(value) < MIN_TOKEN_LENGTH:
        raise ConfigError(name, f"must be at least {MIN_TOKEN_LENGTH} characters, got {len(value)}")


def token_preview(token: str | None) -> str:
    """What logs may show of a secret: its first 8 characters."""
    if not token:
        return "<unset>"
    return token[:8] + "…"


LOG_LEVELS = ("debug", "info", "warning", "warn", "error", "critical")


def log_level(env: Env) -> str:
    level = env.choice("LOG_LEVEL", LOG_LEVELS, "info")
    return "warning" if level == "warn" else level


@dataclass(frozen=True)
class DbConfig:
    host: str
    port: int
    database: str
    user: str
    password: str | None
    schema: str

    @classmethod
    def from_env(
        cls, env: Env, *, default_database: str = "tp_capital", default_schema: str = "tp_capital"
    ) -> DbConfig:
        schema = env.str("TIMESCALEDB_SCHEMA", default_schema)
        if not schema.replace("_", "").isalnum() or not schema[0].isalpha():
            raise ConfigError("TIMESCALEDB_SCHEMA", f"must be a plain identifier, got {schema!r}")
        return cls(
            host=env.str("TIMESCALEDB_HOST", "localhost"),
            port=env.port("TIMESCALEDB_PORT", 5433),
            database=env.str("TIMESCALEDB_DATABASE", default_database),
            user=env.str("TIMESCALEDB_USER", "postgres"),
            password=env.optional_str("TIMESCALEDB_PASSWORD"),
            schema=schema,
        )

    def dsn(self, *, with_search_path: bool = True) -> str:
        parts = {
            "host": self.host,
            "port": str(self.port),
            "dbname": self.database,
            "user": self.user,
            "connect_timeout": "5",
            "application_name": "tp-capital",
        }
        if self.password:
            parts["password"] = self.password
        if with_search_path:
            parts["options"] = f"-c search_path={self.schema},public"
        return " ".join(f"{key}={_quote(value)}" for key, value in parts.items())

    def describe(self) -> str:
        """For logs: everything but the password."""
        return f"{self.user}@{self.host}:{self.port}/{self.database} (schema {self.schema})"


def _quote(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace("'", "\\'")
    return f"'{escaped}'"
