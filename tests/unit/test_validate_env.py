from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.envfile import EnvFileError, parse_env_text
from tests.support.api import REPO

TOKEN = "x" * 40


def run(tmp_path: Path, gateway: str, api: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "gateway.env").write_text(gateway)
    (tmp_path / "api.env").write_text(api)
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "validate-env",
            str(tmp_path / "gateway.env"),
            str(tmp_path / "api.env"),
        ],
        env={"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=30,
    )


GATEWAY = (
    f"API_ENDPOINT=http://127.0.0.1:4005\nAPI_SECRET_TOKEN={TOKEN}\nTELEGRAM_API_ID=1\n"
    "TELEGRAM_API_HASH=abc\n"
)
API = (
    f"# api\nGATEWAY_SECRET_TOKEN='{TOKEN}'\nTIMESCALEDB_HOST=db\nTIMESCALEDB_DATABASE=x\n"
    "export TIMESCALEDB_USER=postgres\n"
)


def test_matching_files_pass(tmp_path: Path) -> None:
    result = run(tmp_path, GATEWAY, API)
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def test_mismatch_fails_with_clear_message_and_no_secret(tmp_path: Path) -> None:
    result = run(tmp_path, GATEWAY.replace(TOKEN, "y" * 40), API)
    assert result.returncode == 1
    assert "token mismatch" in result.stderr
    assert TOKEN not in result.stderr and "y" * 40 not in result.stderr


def test_short_token_and_missing_variables(tmp_path: Path) -> None:
    result = run(tmp_path, "API_SECRET_TOKEN=short\n", API.replace(TOKEN, "short"))
    assert result.returncode == 1
    assert "API_ENDPOINT is required" in result.stderr
    assert "at least 32 characters" in result.stderr


def test_secrets_must_not_cross(tmp_path: Path) -> None:
    result = run(tmp_path, GATEWAY + "TIMESCALEDB_PASSWORD=pw\n", API + "TELEGRAM_API_HASH=h\n")
    assert result.returncode == 1
    assert "TIMESCALEDB_PASSWORD must not be in the gateway" in result.stderr
    assert "TELEGRAM_API_HASH must not be in the api" in result.stderr


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    result = run(tmp_path, GATEWAY + "this is not an assignment\n", API)
    assert result.returncode == 1
    assert "gateway.env:5: expected KEY=VALUE" in result.stderr


def test_unterminated_quote() -> None:
    with pytest.raises(EnvFileError, match=r"f:2: unterminated quote"):
        parse_env_text("A=1\nB='oops\n", "f")
