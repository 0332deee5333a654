from __future__ import annotations

import pytest

from app.api.config import ApiConfig
from app.config import ConfigError, DbConfig, Env, token_preview

TOKEN = "t" * 32


def test_defaults() -> None:
    config = ApiConfig.from_env(Env({"GATEWAY_SECRET_TOKEN": TOKEN}))
    assert config.port == 4005
    assert config.db.schema == "tp_capital"
    assert config.rate_limit_window_ms == 60_000 and config.rate_limit_max == 120
    assert config.api_key is None
    assert config.cors_origins == ()


def test_cors_list_and_overrides() -> None:
    env = Env({"GATEWAY_SECRET_TOKEN": TOKEN, "CORS_ORIGIN": "http://a, http://b ,", "PORT": "81"})
    config = ApiConfig.from_env(env)
    assert config.cors_origins == ("http://a", "http://b")
    assert config.port == 81


@pytest.mark.parametrize(
    ("env", "variable", "problem"),
    [
        ({}, "GATEWAY_SECRET_TOKEN", "required"),
        ({"GATEWAY_SECRET_TOKEN": "x" * 31}, "GATEWAY_SECRET_TOKEN", "at least 32"),
        ({"GATEWAY_SECRET_TOKEN": TOKEN, "PORT": "0"}, "PORT", "at least 1"),
        (
            {"GATEWAY_SECRET_TOKEN": TOKEN, "RATE_LIMIT_WINDOW_MS": "5"},
            "RATE_LIMIT_WINDOW_MS",
            "at least 1000",
        ),
        ({"GATEWAY_SECRET_TOKEN": TOKEN, "TRUST_PROXY": "maybe"}, "TRUST_PROXY", "one of"),
    ],
)
def test_errors_name_the_variable(env: dict, variable: str, problem: str) -> None:
    with pytest.raises(ConfigError) as caught:
        ApiConfig.from_env(Env(env))
    assert caught.value.variable == variable
    assert problem in str(caught.value)


def test_token_value_never_in_the_error() -> None:
    secret = "s3cr3t-but-short"
    with pytest.raises(ConfigError) as caught:
        ApiConfig.from_env(Env({"GATEWAY_SECRET_TOKEN": secret}))
    assert secret not in str(caught.value)


def test_dsn_quotes_values_and_sets_search_path() -> None:
    db = DbConfig("h", 5433, "APPS-WORKSPACE", "u", "p'w", "workspace")
    dsn = db.dsn()
    assert "dbname='APPS-WORKSPACE'" in dsn
    assert "password='p\\'w'" in dsn
    assert "search_path=workspace,public" in dsn
    assert "p'w" not in db.describe()


def test_token_preview() -> None:
    assert token_preview("abcdefghijklmnop") == "abcdefgh…"
    assert token_preview(None) == "<unset>"
