"""Gateway test helpers: configs, the gateway in-process or as a child process, row counts."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import psycopg2
import pytest
from prometheus_client import CollectorRegistry
from telethon.sessions import MemorySession

from app.config import DbConfig, Env
from app.gateway.config import GatewayConfig
from app.gateway.service import Gateway
from app.gateway.session import open_file_session
from app.localpg import free_port
from tests.conftest import GATEWAY_TOKEN
from tests.gateway.fake_telegram import FakeClient, FakeTelegram

REPO = Path(__file__).resolve().parents[2]
API_HASH = "0123456789abcdef0123456789abcdef"
CHANNEL_BARE_ID = 1_234_567_890
CHANNEL_ID = -1_001_234_567_890  # the marked id Telegram and the api use


def gateway_env(tmp_path: Path, endpoints: str, **overrides: str) -> dict[str, str]:
    env = {
        "TELEGRAM_API_ID": "12345",
        "TELEGRAM_API_HASH": API_HASH,
        "TELEGRAM_CHANNELS": str(CHANNEL_ID),
        "SESSION_DIR": str(tmp_path / "session"),
        "GATEWAY_PORT": str(free_port()),
        "API_ENDPOINT": endpoints,
        "API_SECRET_TOKEN": GATEWAY_TOKEN,
        "MAX_RETRY_ATTEMPTS": "3",
        "RETRY_DELAY_MS": "100",
        "FAILURE_QUEUE_PATH": str(tmp_path / "failure-queue.jsonl"),
        "OUTBOX_PATH": str(tmp_path / "outbox.sqlite3"),
        "LOG_LEVEL": "warning",
    }
    env.update(overrides)
    return env


def gateway_config(tmp_path: Path, endpoints: str, **overrides: str) -> GatewayConfig:
    return GatewayConfig.from_env(Env(gateway_env(tmp_path, endpoints, **overrides)))


@pytest.fixture
def telegram() -> FakeTelegram:
    server = FakeTelegram()
    server.add_channel(CHANNEL_BARE_ID, "TP Capital", "tp_capital_signals")
    return server


@contextlib.asynccontextmanager
async def running_gateway(
    config: GatewayConfig, telegram: FakeTelegram, *, logged_in: bool = True, **kwargs: Any
) -> AsyncIterator[Gateway]:
    gateway = Gateway(
        config,
        factory=lambda _config, _session, *, bot: FakeClient(telegram, bot=bot),
        registry=CollectorRegistry(),
        user_session=MemorySession() if logged_in else None,
        **kwargs,
    )
    await gateway.start("127.0.0.1")
    try:
        yield gateway
    finally:
        await gateway.stop()


async def eventually(
    check: Callable[[], Any] | Callable[[], Awaitable[Any]],
    timeout: float = 20.0,
    interval: float = 0.05,
    message: str = "condition",
) -> Any:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        await asyncio.sleep(interval)
    raise AssertionError(f"{message} not reached in {timeout}s (last: {last!r})")


def stored_counts(db: DbConfig, channel_id: int = CHANNEL_ID) -> tuple[int, int]:
    """(rows, distinct message ids) of the channel in telegram_messages."""
    with psycopg2.connect(db.dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*), count(DISTINCT message_id) FROM tp_capital.telegram_messages"
            " WHERE channel_id = %s",
            (channel_id,),
        )
        rows, distinct = cur.fetchone()
    conn.close()
    return rows, distinct


def stored_ids(db: DbConfig, channel_id: int = CHANNEL_ID) -> list[int]:
    with psycopg2.connect(db.dsn()) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT message_id FROM tp_capital.telegram_messages WHERE channel_id = %s"
            " ORDER BY message_id",
            (channel_id,),
        )
        ids = [row[0] for row in cur.fetchall()]
    conn.close()
    return ids


def make_session_file(env: dict[str, str]) -> Path:
    """An (empty) Telethon session file, 0600 in a 0700 dir: what `gateway login` leaves."""
    path = Path(env["SESSION_DIR"]) / "gateway.session"
    session = open_file_session(path, create=True)
    assert session is not None
    session.close()
    return path


class GatewayProcess:
    """`python -m app gateway` as a child process, Telegram replaced through the test hook."""

    def __init__(
        self,
        env: dict[str, str],
        feed: Path | None,
        log_path: Path | None = None,
        *,
        session: bool = True,
    ) -> None:
        """`feed=None` runs the production client factory (no test hook at all)."""
        if session:
            make_session_file(env)
        self.env = {**os.environ, **env, "PYTHONPATH": str(REPO)}
        if feed is not None:
            self.env["TPCAP_GATEWAY_TEST_TELEGRAM_FACTORY"] = "tests.gateway.fake_telegram:factory"
            self.env["FAKE_TELEGRAM_FEED"] = str(feed)
        self.port = int(env["GATEWAY_PORT"])
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, args: tuple[str, ...] = ()) -> GatewayProcess:
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", "gateway", *args, "--address", "127.0.0.1"],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=REPO,
        )
        return self

    def health(self) -> tuple[int, dict[str, Any]] | None:
        try:
            with urllib.request.urlopen(
                f"http://127.0.0.1:{self.port}/health", timeout=2
            ) as answer:
                return answer.status, json.loads(answer.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read())
        except OSError:
            return None

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()

    def stop(self, timeout: float = 20.0) -> int | None:
        if not self.process:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()
