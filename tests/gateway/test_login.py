"""`tpcap gateway login` as a process, against the fake Telegram through Telethon's own
sign-in flow (`TelegramClient.start`): the unoccupied number, two-step verification,
a bot token, and the settings it must not need."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.gateway.conftest import REPO, gateway_env
from tests.gateway.fake_telegram import FeedWriter

PHONE = "+5511999990000"
BOT_TOKEN = "123456789:" + "A" * 35


def login_env(tmp_path: Path, *records: tuple[str, dict]) -> dict[str, str]:
    feed = tmp_path / "feed.jsonl"
    writer = FeedWriter(feed)
    for op, fields in records:
        writer.record(op, **fields)
    writer.close()
    env = gateway_env(tmp_path, "http://127.0.0.1:1", LOG_LEVEL="info")
    # Login needs only the Telegram settings.
    env.pop("TELEGRAM_CHANNELS")
    env.pop("API_SECRET_TOKEN")
    env["TELEGRAM_PHONE_NUMBER"] = PHONE
    env["TPCAP_GATEWAY_TEST_TELEGRAM_FACTORY"] = "tests.gateway.fake_telegram:factory"
    env["FAKE_TELEGRAM_FEED"] = str(feed)
    return env


def login(env: dict[str, str], stdin: str = "", *args: str) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if k not in ("API_SECRET_TOKEN",)}
    return subprocess.run(
        [sys.executable, "-m", "app", "gateway", "login", *args],
        env={**environ, **env, "PYTHONPATH": str(REPO)},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=REPO,
    )


def session_file(env: dict[str, str], name: str = "gateway.session") -> Path:
    return Path(env["SESSION_DIR"]) / name


def test_unoccupied_number_is_one_line_and_leaves_no_session(tmp_path: Path) -> None:
    env = login_env(tmp_path, ("logged_out", {}))
    result = login(env, "12345\n")
    assert result.returncode == 1, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "has no Telegram account" in lines[0] and PHONE in lines[0]
    assert "Traceback" not in result.stdout + result.stderr
    assert not session_file(env).exists()
    assert not session_file(env).with_name("gateway.session-journal").exists()


def test_two_step_password_login_without_channels_or_api_token(tmp_path: Path) -> None:
    account = {"phone": PHONE, "code": "24680", "password": "correct horse"}
    env = login_env(tmp_path, ("logged_out", {}), ("account", account))
    result = login(env, "24680\ncorrect horse\n")
    assert result.returncode == 0, result.stderr
    assert "logged in as fake_operator" in result.stdout
    assert stat.S_IMODE(session_file(env).stat().st_mode) == 0o600
    # The prompts are not interleaved with Telethon's connection lines (LOG_LEVEL=info).
    assert "Login code sent by Telegram: " in result.stdout
    assert "Connecting to" not in result.stdout + result.stderr


def test_wrong_password_ends_in_one_line_and_cleans_up(tmp_path: Path) -> None:
    account = {"phone": PHONE, "code": "24680", "password": "correct horse"}
    env = login_env(tmp_path, ("logged_out", {}), ("account", account))
    result = login(env, "24680\nwrong\nwrong\nwrong\n")
    assert result.returncode == 1
    assert "password was wrong" in result.stderr.strip().splitlines()[-1]
    assert "Traceback" not in result.stderr
    assert not session_file(env).exists()


def test_bot_token_login(tmp_path: Path) -> None:
    env = login_env(tmp_path, ("logged_out", {}), ("bot_tokens", {"tokens": [BOT_TOKEN]}))
    env["TELEGRAM_INGESTION_BOT_TOKEN"] = BOT_TOKEN
    result = login(env, "", "--bot")
    assert result.returncode == 0, result.stderr
    assert "bot logged in as @fake_bot" in result.stdout
    assert stat.S_IMODE(session_file(env, "bot.session").stat().st_mode) == 0o600
    assert not session_file(env).exists()


def test_invalid_bot_token_is_one_line(tmp_path: Path) -> None:
    env = login_env(tmp_path, ("logged_out", {}), ("bot_tokens", {"tokens": [BOT_TOKEN]}))
    env["TELEGRAM_INGESTION_BOT_TOKEN"] = "987654321:" + "B" * 35
    result = login(env, "", "--bot")
    assert result.returncode == 1
    assert "@BotFather" in result.stderr and "Traceback" not in result.stderr
    assert not session_file(env, "bot.session").exists()
