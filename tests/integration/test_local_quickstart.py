"""`tpcap local`, the README's quick start, end to end."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from app.localpg import LocalPg, free_port
from tests.support.api import REPO


def local_command(home: Path, *extra: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "app",
        "local",
        "--home",
        str(home),
        "--api-port",
        str(free_port()),
        "--workspace-port",
        str(free_port()),
        "--gateway-port",
        str(free_port()),
        "--pg-port",
        str(free_port()),
        *extra,
    ]


def env() -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO)}


def test_demo_signal_goes_through_ingest_and_shows_in_signals(tmp_path: Path) -> None:
    result = subprocess.run(
        local_command(tmp_path / "home", "--exit-after-demo"),
        env=env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "TP Capital appliance is up" in out
    assert "X-Gateway-Token: " in out
    assert "demo: POST /ingest -> 200 (parsed as: signal)" in out
    assert '"asset": "BOVAW32"' in out and '"buy_min": 1.04' in out
    token_file = tmp_path / "home" / "gateway-token"
    assert token_file.stat().st_mode & 0o777 == 0o600
    assert len(token_file.read_text().strip()) >= 32
    assert not LocalPg(tmp_path / "home" / "pg").is_running()


def test_ctrl_c_stops_everything(tmp_path: Path) -> None:
    home = tmp_path / "home"
    process = subprocess.Popen(
        local_command(home, "--no-demo"),
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if "Press Ctrl-C" in line:
            break
    assert any("Press Ctrl-C" in line for line in lines), "".join(lines)
    process.send_signal(signal.SIGINT)
    rest, _ = process.communicate(timeout=60)
    assert process.returncode == 0, rest
    assert ">> stopped" in rest
    assert not LocalPg(home / "pg").is_running()
