"""`tpcap local`, the README's quick start, end to end."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from app.localpg import LocalPg, free_port
from tests.support import proctree
from tests.support.api import REPO
from tests.support.proctree import alive, command_lines


def local_command(home: Path, *extra: str, api_port: int = 0, pg_port: int = 0) -> list[str]:
    return [
        sys.executable,
        "-m",
        "app",
        "local",
        "--home",
        str(home),
        "--api-port",
        str(api_port or free_port()),
        "--workspace-port",
        str(free_port()),
        "--gateway-port",
        str(free_port()),
        "--pg-port",
        str(pg_port or free_port()),
        *extra,
    ]


@pytest.fixture
def tmp_path() -> Iterator[Path]:
    """A folder outside pytest's basetemp: each new pytest session (another engineer's
    run, say) chmods /tmp/pytest-of-<user> back to 0700, which locks the `postgres`
    user out of a cluster in it (as tests/conftest.py notes for its server)."""
    folder = Path(tempfile.mkdtemp(prefix="tpcap-test-local-"))
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def env() -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "PYTHONPATH": str(REPO)}


def test_demo_signal_goes_through_ingest_and_shows_in_signals(tmp_path: Path) -> None:
    api_port = free_port()
    result = subprocess.run(
        local_command(tmp_path / "home", "--exit-after-demo", api_port=api_port),
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
    # The banner names the ports in use, not the defaults.
    assert f"curl -s http://127.0.0.1:{api_port}/signals" in out
    assert "localhost:4005" not in out
    home = tmp_path / "home"
    token_file = home / "gateway-token"
    assert len(token_file.read_text().strip()) >= 32
    private = [token_file, home / "pg-password", *sorted((home / "logs").iterdir())]
    assert {p.name for p in private} >= {"api.log", "workspace.log", "gateway.log"}
    assert {p.name: p.stat().st_mode & 0o777 for p in private} == {p.name: 0o600 for p in private}
    assert not LocalPg(home / "pg").is_running()


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


def start_local(home: Path, *extra: str, **ports: int) -> tuple[subprocess.Popen[str], list[str]]:
    process = subprocess.Popen(
        local_command(home, "--no-demo", *extra, **ports),
        env=env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    return process, read_until(process, "Press Ctrl-C")


def read_until(process: subprocess.Popen[str], marker: str, timeout: float = 120) -> list[str]:
    assert process.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return lines
    raise AssertionError(f"no {marker!r} in:\n{''.join(lines)}")


def descendants(pid: int) -> dict[int, str]:
    """{pid: command line} of every process below `pid`."""
    return command_lines(proctree.descendants(pid))


def health(url: str) -> int:
    try:
        with urllib.request.urlopen(url + "/health", timeout=2) as answer:
            return answer.status
    except OSError:
        return 0


def test_a_crashed_api_is_restarted_and_nothing_outlives_the_appliance(tmp_path: Path) -> None:
    home = tmp_path / "home"
    api_port, pg_port = free_port(), free_port()
    process, _ = start_local(home, api_port=api_port, pg_port=pg_port)
    url = f"http://127.0.0.1:{api_port}"
    try:
        # PostgreSQL asks for the password, whoever connects.
        with pytest.raises(psycopg2.OperationalError, match="password"):
            psycopg2.connect(host="127.0.0.1", port=pg_port, user="postgres", dbname="postgres")
        password = (home / "pg-password").read_text().strip()
        psycopg2.connect(
            host="127.0.0.1", port=pg_port, user="postgres", dbname="postgres", password=password
        ).close()
        with pytest.raises(psycopg2.OperationalError, match="password"):
            psycopg2.connect(
                host="127.0.0.1", port=pg_port, user="postgres", dbname="postgres", password="x"
            )

        apis = [p for p, cmd in descendants(process.pid).items() if " -m app api" in cmd]
        assert len(apis) == 1, descendants(process.pid)
        os.kill(apis[0], signal.SIGKILL)
        lines = read_until(process, "api restarted")
        crash = next(line for line in lines if "api exited" in line)
        assert "api exited with code -9; restarting in 1s" in crash
        deadline = time.monotonic() + 60
        while health(url) != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert health(url) == 200  # the new api serves, PostgreSQL kept running
        with urllib.request.urlopen(url + "/signals", timeout=5) as answer:
            assert json.loads(answer.read())["count"] == 0
        running = descendants(process.pid)
        assert any(" -m app api" in cmd for cmd in running.values())
        assert any(" -m app workspace" in cmd for cmd in running.values())
    finally:
        running = descendants(process.pid)
        process.send_signal(signal.SIGINT)
        rest, _ = process.communicate(timeout=90)
    assert process.returncode == 0, rest
    assert ">> stopped" in rest
    survivors = {pid: cmd for pid, cmd in running.items() if alive(pid)}
    for pid in survivors:
        os.kill(pid, signal.SIGKILL)
    assert survivors == {}
    assert not LocalPg(home / "pg").is_running()


def test_a_home_from_the_trust_era_is_migrated_to_passwords(tmp_path: Path) -> None:
    home = tmp_path / "home"
    old = LocalPg(home / "pg", free_port())
    old.start()  # initdb --auth=trust, as the previous version did
    old.stop()
    assert old.trusts_anyone()
    (home / "gateway-token").write_text("t" * 40 + "\n")
    os.chmod(home / "gateway-token", 0o644)

    pg_port = free_port()
    result = subprocess.run(
        local_command(home, "--exit-after-demo", pg_port=pg_port),
        env=env(),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "demo: POST /ingest -> 200 (parsed as: signal)" in result.stdout
    assert (home / "gateway-token").stat().st_mode & 0o777 == 0o600
    assert (home / "gateway-token").read_text().strip() == "t" * 40  # the token is kept
    assert (home / "pg-password").stat().st_mode & 0o777 == 0o600
    migrated = LocalPg(home / "pg", pg_port, password_file=home / "pg-password")
    assert not migrated.trusts_anyone()
    migrated.start()
    try:
        with pytest.raises(psycopg2.OperationalError, match="password"):
            psycopg2.connect(host="127.0.0.1", port=pg_port, user="postgres", dbname="tp_capital")
        conn = psycopg2.connect(
            host="127.0.0.1",
            port=pg_port,
            user="postgres",
            dbname="tp_capital",
            password=(home / "pg-password").read_text().strip(),
        )
        with conn, conn.cursor() as cur:
            cur.execute("SELECT count(*) FROM tp_capital.tp_capital_signals")
            assert cur.fetchone() == (1,)
        conn.close()
    finally:
        migrated.stop()
