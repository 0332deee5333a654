"""Running the api for tests: in this process, or as a real `tpcap api` process."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from pathlib import Path

from prometheus_client import CollectorRegistry

from app.api.app import make_app
from app.api.config import ApiConfig
from app.config import Env
from app.db import create_pool
from app.localpg import free_port
from app.web.server import listen

REPO = Path(__file__).resolve().parents[2]


@contextlib.asynccontextmanager
async def serve_api(env: dict[str, str], registry: CollectorRegistry) -> AsyncIterator[str]:
    port = free_port()
    config = ApiConfig.from_env(Env({**env, "PORT": str(port)}))
    pool = await create_pool(config.db, minsize=0, maxsize=config.db_pool_max)
    app = make_app(config, pool=pool, registry=registry)
    server = listen(app, port, "127.0.0.1")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()
        await server.close_all_connections()
        app.settings["ctx"].parse_pool.close()
        pool.close()
        await pool.wait_closed()


class ApiProcess:
    """`python -m app api` (or another service) as a child process, on its own port."""

    def __init__(
        self,
        env: dict[str, str],
        port: int | None = None,
        log_path: Path | None = None,
        service: str = "api",
        args: tuple[str, ...] = (),
    ):
        self.service = service
        self.port = port or free_port()
        self.args = args
        self.env = {**os.environ, **env, "PORT": str(self.port), "PYTHONPATH": str(REPO)}
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True, timeout: float = 20.0) -> ApiProcess:
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self.process = subprocess.Popen(
            [sys.executable, "-m", "app", self.service, "--address", "127.0.0.1", *self.args],
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        if wait:
            self.wait_listening(timeout)
        return self

    def wait_listening(self, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"{self.service} exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise TimeoutError(f"{self.service} on {self.url} did not start in {timeout}s")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        if not self.process or self.process.poll() is not None:
            return self.process.returncode if self.process else None
        self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)
