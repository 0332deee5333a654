"""Backfill with real processes: the api and the gateway (Telegram through the test hook).

5,000 history messages, the gateway SIGKILLed in the middle of the read and
started again: each message stored once. `tpcap gateway backfill` against a
running gateway, with its progress bar.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from app.config import DbConfig
from tests.conftest import api_env
from tests.gateway.conftest import (
    CHANNEL_BARE_ID,
    CHANNEL_ID,
    REPO,
    GatewayProcess,
    gateway_env,
    stored_counts,
)
from tests.gateway.fake_telegram import FeedWriter
from tests.support.api import ApiProcess

pytestmark = pytest.mark.slow


def wait_for(check, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"{what} not reached in {timeout}s")


def log_records(path: Path) -> list[dict]:
    records = []
    for line in path.read_text().splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    return records


def history_feed(path: Path, count: int) -> None:
    feed = FeedWriter(path)
    feed.channel(CHANNEL_BARE_ID, "TP Capital")
    for n in range(count):
        feed.post(CHANNEL_BARE_ID, f"history {n}", gap=1 + n % 3)
    feed.close()


def test_backfill_of_5000_through_a_sigkill_stores_each_once(
    tmp_path: Path, signals_db: DbConfig
) -> None:
    api = ApiProcess(api_env(signals_db), log_path=tmp_path / "api.log").start()
    feed = tmp_path / "feed.jsonl"
    history_feed(feed, 5000)
    # One flood wait after the first page of the read: the moment to pull the plug.
    FeedWriter(feed).record("flood_waits_midway", seconds=[5])
    env = gateway_env(tmp_path, api.url, TELEGRAM_BACKFILL="5000", LOG_LEVEL="info")
    first_log, second_log = tmp_path / "gateway-1.log", tmp_path / "gateway-2.log"
    try:
        gateway = GatewayProcess(env, feed, first_log).start()
        wait_for(lambda: stored_counts(signals_db)[0] >= 100, what="first page stored")
        gateway.kill()
        assert stored_counts(signals_db)[0] < 5000
        waits = [r for r in log_records(first_log) if "flood wait" in r.get("message", "")]
        assert waits and waits[0]["seconds"] == 5

        gateway = GatewayProcess(env, feed, second_log).start()
        try:
            wait_for(lambda: stored_counts(signals_db)[0] >= 5000, 120, "all 5000 stored")
            time.sleep(0.5)
        finally:
            assert gateway.stop() == 0
    finally:
        api.stop()
    assert stored_counts(signals_db) == (5000, 5000)
    # The second run resumed the read where the first one stopped, not from the start.
    resumed = [
        r for r in log_records(second_log) if r.get("message") == "backfill: reading history"
    ]
    assert resumed and resumed[0]["cursor"] > resumed[0]["fromId"]


def backfill_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "app", "gateway", "backfill", *args],
        env={**os.environ, **env, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )


def test_backfill_command_with_progress_bar(tmp_path: Path, signals_db: DbConfig) -> None:
    api = ApiProcess(api_env(signals_db), log_path=tmp_path / "api.log").start()
    feed = tmp_path / "feed.jsonl"
    history_feed(feed, 300)
    env = gateway_env(tmp_path, api.url)
    not_running = backfill_cli(env, "--channel", str(CHANNEL_ID), "--limit", "5")
    assert not_running.returncode == 1 and "no gateway answers" in not_running.stderr
    gateway = GatewayProcess(env, feed, tmp_path / "gateway.log").start()
    try:

        def caught_up() -> bool:
            answer = gateway.health()
            channels = answer[1]["telegram"]["channels"] if answer else []
            return bool(channels) and all(c["caughtUp"] for c in channels)

        wait_for(caught_up, what="channel caught up")
        result = backfill_cli(env, "--channel", str(CHANNEL_ID), "--limit", "200")
        assert result.returncode == 0, result.stderr
        assert "backfill [" in result.stderr and "100.0%" in result.stderr
        assert "read 200 messages" in result.stdout
        wait_for(lambda: stored_counts(signals_db)[0] == 200, what="200 stored")
        unknown = backfill_cli(env, "--channel", "someone_else", "--since", "2024-01-01")
        assert unknown.returncode == 1
        assert unknown.stderr.count("\n") == 1 and "listens to" in unknown.stderr
    finally:
        gateway.stop()
        api.stop()
    assert stored_counts(signals_db) == (200, 200)
