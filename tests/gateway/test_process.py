"""`tpcap gateway` as a process: exit codes, the Telegram-less mode, login, SIGTERM."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import time
from pathlib import Path

from app.gateway.session import EXIT_SESSION_CORRUPT, EXIT_SESSION_UNSAFE
from tests.gateway.conftest import REPO, GatewayProcess, gateway_env
from tests.gateway.fake_telegram import FeedWriter


def run_gateway(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "gateway", *args],
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def first_health(gateway: GatewayProcess) -> tuple[int, dict]:
    """The first /health answer, waiting up to 10 s for the port to open."""
    for _ in range(100):
        answer = gateway.health()
        if answer is not None:
            return answer
        time.sleep(0.1)
    raise AssertionError("the gateway never answered /health")


def test_bad_config_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    env = gateway_env(tmp_path, "http://127.0.0.1:1", TELEGRAM_API_ID="twelve")
    result = run_gateway(env)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "TELEGRAM_API_ID" in result.stderr


def test_partial_telegram_config_names_the_missing_variable(tmp_path: Path) -> None:
    env = gateway_env(tmp_path, "http://127.0.0.1:1")
    env.pop("TELEGRAM_API_HASH")
    result = run_gateway(env)
    assert result.returncode == 2
    assert "TELEGRAM_API_HASH" in result.stderr


def test_without_telegram_settings_it_runs_and_says_so(tmp_path: Path) -> None:
    env = gateway_env(tmp_path, "http://127.0.0.1:1", LOG_LEVEL="info")
    for name in ("TELEGRAM_API_ID", "TELEGRAM_API_HASH", "TELEGRAM_CHANNELS"):
        env.pop(name, None)
    log = tmp_path / "gateway.log"
    gateway = GatewayProcess(env, None, log, session=False).start()
    try:
        status, body = first_health(gateway)
        assert status == 503
        assert "telegram: not logged in" in body["reasons"]
        assert gateway.stop() == 0
    finally:
        gateway.kill()
    assert "telegram: not configured" in log.read_text()
    login = run_gateway(env, "login")
    assert login.returncode == 2 and "TELEGRAM_API_ID" in login.stderr


def test_corrupt_session_file_is_moved_aside_with_a_distinct_exit_code(tmp_path: Path) -> None:
    env = gateway_env(tmp_path, "http://127.0.0.1:1")
    directory = Path(env["SESSION_DIR"])
    directory.mkdir(mode=0o700)
    session = directory / "gateway.session"
    session.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    os.chmod(session, 0o600)
    result = run_gateway(env)
    assert result.returncode == EXIT_SESSION_CORRUPT == 78
    assert "tpcap gateway login" in result.stderr
    assert not session.exists()
    assert [p.name.startswith("gateway.session.corrupt-") for p in directory.iterdir()] == [True]


def test_world_readable_session_is_refused(tmp_path: Path) -> None:
    env = gateway_env(tmp_path, "http://127.0.0.1:1")
    directory = Path(env["SESSION_DIR"])
    directory.mkdir()
    os.chmod(directory, 0o755)
    result = run_gateway(env)
    assert result.returncode == EXIT_SESSION_UNSAFE == 77
    assert "chmod 700" in result.stderr


def test_without_a_session_it_runs_and_says_not_logged_in(tmp_path: Path) -> None:
    # The production client factory: no test hook, no Telegram needed to get this far.
    env = gateway_env(tmp_path, "http://127.0.0.1:1", LOG_LEVEL="info")
    log = tmp_path / "gateway.log"
    gateway = GatewayProcess(env, None, log, session=False).start()
    try:
        status, body = first_health(gateway)
        assert status == 503
        assert "telegram: not logged in" in body["reasons"]
        assert body["telegram"]["state"] == "not logged in"
        assert body["outbox"]["writable"] is True
        assert gateway.stop() == 0
    finally:
        gateway.kill()
    text = log.read_text()
    token = env["API_SECRET_TOKEN"]
    assert token[:8] in text and token not in text
    assert "TEST HOOK" not in text


def test_sigterm_stops_cleanly(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    FeedWriter(feed).channel(1_234_567_890, "TP Capital")
    env = gateway_env(tmp_path, "http://127.0.0.1:1")
    gateway = GatewayProcess(env, feed, tmp_path / "gateway.log").start()
    try:
        for _ in range(100):
            answer = gateway.health()
            if answer is not None and answer[1]["telegram"]["state"] == "connected":
                break
            time.sleep(0.1)
        assert gateway.stop() == 0
    finally:
        gateway.kill()


def test_login_writes_a_0600_session_in_a_0700_dir(tmp_path: Path) -> None:
    feed = tmp_path / "feed.jsonl"
    feed.write_text("")
    env = gateway_env(tmp_path, "http://127.0.0.1:1", TELEGRAM_PHONE_NUMBER="+5511999999999")
    env["TPCAP_GATEWAY_TEST_TELEGRAM_FACTORY"] = "tests.gateway.fake_telegram:factory"
    env["FAKE_TELEGRAM_FEED"] = str(feed)
    result = run_gateway(env, "login")
    assert result.returncode == 0, result.stderr
    session = Path(env["SESSION_DIR"]) / "gateway.session"
    assert stat.S_IMODE(session.stat().st_mode) == 0o600
    assert stat.S_IMODE(session.parent.stat().st_mode) == 0o700
    assert "logged in as fake_operator" in result.stdout


def test_the_test_hook_only_accepts_test_modules(tmp_path: Path) -> None:
    env = gateway_env(tmp_path, "http://127.0.0.1:1")
    env["TPCAP_GATEWAY_TEST_TELEGRAM_FACTORY"] = "app.gateway.clients:telethon_client"
    result = run_gateway(env, "login")
    assert result.returncode == 2
    assert "TPCAP_GATEWAY_TEST_TELEGRAM_FACTORY" in result.stderr
