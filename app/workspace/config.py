"""The workspace service's configuration, read once from the environment at start-up."""

from __future__ import annotations

from dataclasses import dataclass

from app.config import ConfigError, DbConfig, Env, log_level

DEFAULT_DATABASE = "APPS-WORKSPACE"
DEFAULT_SCHEMA = "workspace"
MIN_API_KEY_LENGTH = 16
# LIBRARY_DB_STRATEGY is a leftover of the Node service, which could keep items
# in a LowDB file; only the database remains.
DB_STRATEGIES = ("timescaledb", "postgres", "postgresql", "lowdb")


def workspace_db_config(env: Env) -> DbConfig:
    return DbConfig.from_env(env, default_database=DEFAULT_DATABASE, default_schema=DEFAULT_SCHEMA)


@dataclass(frozen=True)
class WorkspaceConfig:
    port: int
    db: DbConfig
    api_key: str | None
    api_key_variable: str
    cors_origins: tuple[str, ...]
    rate_limit_window_ms: int
    rate_limit_max: int
    log_level: str
    trust_proxy: bool
    db_pool_max: int
    lowdb_requested: bool

    @classmethod
    def from_env(cls, env: Env | None = None) -> WorkspaceConfig:
        env = env or Env()
        # Writes need a key: the workspace's own, or else the operators' api key,
        # so one key can serve both services. Without either, writes are refused.
        variable = "WORKSPACE_API_KEY"
        api_key = env.optional_str(variable)
        if api_key is None and env.optional_str("TP_CAPITAL_API_KEY") is not None:
            variable = "TP_CAPITAL_API_KEY"
            api_key = env.optional_str(variable)
        if api_key is not None and len(api_key) < MIN_API_KEY_LENGTH:
            raise ConfigError(
                variable, f"must be at least {MIN_API_KEY_LENGTH} characters when set"
            )
        strategy = env.choice("LIBRARY_DB_STRATEGY", DB_STRATEGIES, "timescaledb")
        return cls(
            port=env.port("PORT", 3200),
            db=workspace_db_config(env),
            api_key=api_key,
            api_key_variable=variable,
            cors_origins=env.list("CORS_ORIGIN"),
            rate_limit_window_ms=env.int("RATE_LIMIT_WINDOW_MS", 60_000, minimum=1000),
            rate_limit_max=env.int("RATE_LIMIT_MAX", 300, minimum=1),
            log_level=log_level(env),
            trust_proxy=env.choice("TRUST_PROXY", ("0", "1", "true", "false"), "0")
            in ("1", "true"),
            db_pool_max=env.int("DB_POOL_MAX", 10, minimum=1, maximum=200),
            lowdb_requested=strategy == "lowdb",
        )
