"""`tpcap api` as a real process: configuration errors and graceful stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request

import pytest

from app.config import DbConfig
from tests.conftest import GATEWAY_TOKEN, api_env
from tests.support.api import REPO, ApiProcess


def run_api(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "api"],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO), **env},
        capture_output=True,
        text=True,
        timeout=30,
    )


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"GATEWAY_SECRET_TOKEN": "short"}, "GATEWAY_SECRET_TOKEN"),
        ({"GATEWAY_SECRET_TOKEN": ""}, "GATEWAY_SECRET_TOKEN"),
        ({"PORT": "eighty"}, "PORT"),
        ({"PORT": "70000"}, "PORT"),
        ({"TIMESCALEDB_PORT": "x"}, "TIMESCALEDB_PORT"),
        ({"RATE_LIMIT_MAX": "0"}, "RATE_LIMIT_MAX"),
        ({"LOG_LEVEL": "loud"}, "LOG_LEVEL"),
        ({"TP_CAPITAL_API_KEY": "tiny"}, "TP_CAPITAL_API_KEY"),
        ({"TIMESCALEDB_SCHEMA": "x; drop"}, "TIMESCALEDB_SCHEMA"),
    ],
)
def test_bad_configuration_stops_with_one_clear_line(
    signals_db: DbConfig, overrides: dict[str, str], variable: str
) -> None:
    result = run_api(api_env(signals_db, **overrides))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert variable in lines[0] and "configuration error" in lines[0]
    assert GATEWAY_TOKEN not in result.stderr


def test_start_log_shows_only_token_prefix_and_sigterm_stops_cleanly(
    signals_db: DbConfig, tmp_path
) -> None:
    log = tmp_path / "api.log"
    api = ApiProcess(api_env(signals_db, LOG_LEVEL="info"), log_path=log).start()
    with urllib.request.urlopen(api.url + "/health", timeout=5) as answer:
        assert answer.status == 200
    assert api.stop(signal.SIGTERM) == 0
    text = log.read_text()
    assert GATEWAY_TOKEN[:8] in text
    assert GATEWAY_TOKEN not in text
    assert '"message": "api stopped"' in text
