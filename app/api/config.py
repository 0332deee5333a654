"""The api's configuration, read once from the environment at start-up."""

from __future__ import annotations

import os
from dataclasses import dataclass

from app.config import ConfigError, DbConfig, Env, log_level
from app.parsing.lexicon import LexiconError, load_lexicon


@dataclass(frozen=True)
class ApiConfig:
    port: int
    db: DbConfig
    gateway_token: str
    api_key: str | None
    cors_origins: tuple[str, ...]
    rate_limit_window_ms: int
    rate_limit_max: int
    ingest_rate_limit_max: int
    log_level: str
    trust_proxy: bool
    db_pool_max: int
    parse_workers: int
    workers: int = 1
    # The operator's extra parser words (labels, instrument aliases); None: built-in only.
    parser_lexicon_path: str | None = None

    @classmethod
    def from_env(cls, env: Env | None = None) -> ApiConfig:
        env = env or Env()
        gateway_token = env.token("GATEWAY_SECRET_TOKEN")
        assert gateway_token is not None
        api_key = env.optional_str("TP_CAPITAL_API_KEY")
        if api_key is not None and len(api_key) < 16:
            raise ConfigError("TP_CAPITAL_API_KEY", "must be at least 16 characters when set")
        return cls(
            port=env.port("PORT", 4005),
            db=DbConfig.from_env(env),
            gateway_token=gateway_token,
            api_key=api_key,
            cors_origins=env.list("CORS_ORIGIN"),
            rate_limit_window_ms=env.int("RATE_LIMIT_WINDOW_MS", 60_000, minimum=1000),
            rate_limit_max=env.int("RATE_LIMIT_MAX", 120, minimum=1),
            ingest_rate_limit_max=env.int("INGEST_RATE_LIMIT_MAX", 1_000_000, minimum=1),
            log_level=log_level(env),
            trust_proxy=env.choice("TRUST_PROXY", ("0", "1", "true", "false"), "0")
            in ("1", "true"),
            db_pool_max=env.int("DB_POOL_MAX", 10, minimum=1, maximum=200),
            parse_workers=env.int(
                "PARSE_WORKERS", 1 if (os.cpu_count() or 1) > 1 else 0, minimum=0, maximum=64
            ),
            workers=env.int("API_WORKERS", 1, minimum=1, maximum=64),
            parser_lexicon_path=lexicon_path(env),
        )


def lexicon_path(env: Env) -> str | None:
    """PARSER_LEXICON_PATH, validated now so a bad file stops start-up with one line."""
    path = env.optional_str("PARSER_LEXICON_PATH")
    if path is not None:
        try:
            load_lexicon(path)
        except LexiconError as exc:
            raise ConfigError("PARSER_LEXICON_PATH", str(exc)) from exc
    return path
