"""The Compose stack for real on this machine's Docker engine.

The tp_capital_stack role (with its systemd unit switched off: this test host
has no systemd as init) builds the images locally, writes the env files and
the Compose file, runs the migrations and starts the database, two api
replicas and the workspace; a second run changes nothing. Then a signal is
ingested with the gateway token, read back from both replicas, an api
container is restarted and the whole project is taken down and up again
(the database volume kept): nothing is lost.
"""

from __future__ import annotations

import json
import os
import socket
import stat
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.conftest import ANSIBLE_DIR, ROOT, Images, run, tool_env

pytestmark = [pytest.mark.docker, pytest.mark.slow]

TOKEN = "stack-test-gateway-token-0123456789abcdef"
SIGNAL_TEXT = (
    "Swing Trade\nAtivo: BOVAW32\nCompra: 1,04 a 1,06\nAlvo 1: 1,15\nAlvo 2: 2,15\n"
    "Alvo final: 3,00\nStop: 0,80"
)


def free_port_block(count: int) -> int:
    """The first of `count` consecutive free loopback ports."""
    for _ in range(200):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            first = probe.getsockname()[1]
        if first + count >= 65535:
            continue
        ok = True
        for port in range(first, first + count):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port))
                except OSError:
                    ok = False
                    break
        if ok:
            return first
    raise RuntimeError("no block of free ports")


def http(
    method: str,
    url: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> tuple[int, Any]:
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        payload = exc.read()
        try:
            return exc.code, json.loads(payload or b"null")
        except ValueError:
            return exc.code, payload.decode(errors="replace")


def wait_healthy(url: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            status, last = http("GET", url, timeout=3)
            if status == 200:
                return
        except OSError as exc:
            last = exc
        time.sleep(1)
    raise AssertionError(f"{url} not healthy after {timeout}s: {last}")


def play_recap(output: str) -> dict[str, int]:
    for line in output.splitlines():
        if line.startswith("localhost") and "ok=" in line:
            return {k: int(v) for k, v in (p.split("=") for p in line.split()[2:])}
    raise AssertionError(f"no play recap in:\n{output[-3000:]}")


@pytest.fixture
def stack(images: Images, deploy_bin: Path, tmp_path: Path, remove_images: None):
    project = f"tpcap-test-{os.getpid()}"
    api_port, second = sorted({free_port_block(1) for _ in range(8)})[:2]
    workspace_port, db_port = free_port_block(1), free_port_block(1)
    workspace = (ROOT / "app" / "workspace" / "main.py").exists()
    extra = {
        "tp_capital_stack_project_name": project,
        "tp_capital_stack_dir": str(tmp_path / "stack"),
        "tp_capital_stack_config_dir": str(tmp_path / "etc"),
        "tp_capital_stack_manage_systemd": False,
        "tp_capital_stack_system_packages": [],
        "tp_capital_stack_wheelhouse_dir": str(images.wheelhouse),
        "tp_capital_stack_app_image": images.app,
        "tp_capital_stack_app_base_image": os.environ.get(
            "APP_BASE_IMAGE", "tpcap-base/debian-python:bookworm"
        ),
        "tp_capital_stack_build_db_image": True,
        "tp_capital_stack_db_image": images.db,
        "tp_capital_stack_db_base_image": os.environ.get(
            "DB_BASE_IMAGE", "tpcap-base/debian-postgres:bookworm"
        ),
        "tp_capital_stack_db_volume": f"{project}-db",
        "tp_capital_stack_api_replicas": 2,
        "tp_capital_stack_api_port": api_port,
        "tp_capital_stack_api_port_step": second - api_port,
        "tp_capital_stack_workspace_enabled": workspace,
        "tp_capital_stack_workspace_port": workspace_port,
        "tp_capital_stack_db_port": db_port,
        "tp_capital_stack_db_password": "stack-test-db-password",
        "tp_capital_stack_gateway_token": TOKEN,
        "tp_capital_stack_api_key": "stack-test-api-key-0123456789",
        "tp_capital_stack_log_level": "warning",
    }
    vars_file = tmp_path / "vars.json"
    vars_file.write_text(json.dumps(extra))
    env = tool_env(
        deploy_bin,
        ANSIBLE_ROLES_PATH=str(ANSIBLE_DIR / "roles"),
        ANSIBLE_CONFIG=str(ANSIBLE_DIR / "ansible.cfg"),
    )
    compose = [
        "docker-compose",
        "--project-name",
        project,
        "--file",
        str(tmp_path / "stack" / "docker-compose.yml"),
    ]
    playbook = [
        str(deploy_bin / "ansible-playbook"),
        "-i",
        "localhost,",
        "-e",
        f"@{vars_file}",
        "-e",
        f"ansible_python_interpreter={deploy_bin}/python",
        str(ROOT / "tests" / "deploy" / "playbooks" / "stack.yml"),
    ]
    try:
        yield {
            "playbook": playbook,
            "env": env,
            "compose": compose,
            "api_ports": (api_port, second),
            "workspace_port": workspace_port if workspace else None,
            "tmp": tmp_path,
        }
    finally:
        if (tmp_path / "stack" / "docker-compose.yml").exists():
            logs = subprocess.run(
                [*compose, "logs", "--no-color", "--tail", "30"], capture_output=True, text=True
            )
            print(logs.stdout[-8000:])
            subprocess.run(
                [*compose, "down", "--volumes", "--remove-orphans", "--timeout", "5"],
                capture_output=True,
            )
        subprocess.run(["docker", "volume", "rm", "-f", f"{project}-db"], capture_output=True)


def test_stack_converges_serves_and_keeps_data_across_restarts(stack: dict[str, Any]) -> None:
    # check mode on the fresh "host": passes and creates nothing
    checked = run([*stack["playbook"], "--check"], timeout=300, env=stack["env"])
    assert play_recap(checked.stdout)["failed"] == 0
    assert not (stack["tmp"] / "stack").exists() and not (stack["tmp"] / "etc").exists()

    started = time.monotonic()
    first = run(stack["playbook"], timeout=900, env=stack["env"])
    converge_s = time.monotonic() - started
    assert play_recap(first.stdout)["failed"] == 0

    started = time.monotonic()
    second = run(stack["playbook"], timeout=600, env=stack["env"])
    idempotence_s = time.monotonic() - started
    recap = play_recap(second.stdout)
    assert recap["changed"] == 0, f"second run changed something:\n{second.stdout[-6000:]}"
    print(f"stack converge {converge_s:.0f}s, idempotence {idempotence_s:.0f}s")

    for name in ("api.env", "workspace.env", "db.env"):
        mode = stat.S_IMODE((stack["tmp"] / "etc" / name).stat().st_mode)
        assert mode == 0o600, f"{name} is {mode:o}"

    api1 = f"http://127.0.0.1:{stack['api_ports'][0]}"
    api2 = f"http://127.0.0.1:{stack['api_ports'][1]}"
    for url in (api1, api2):
        wait_healthy(f"{url}/health")
    if stack["workspace_port"]:
        wait_healthy(f"http://127.0.0.1:{stack['workspace_port']}/health")

    # containers run as the image's non-root user, with an init as PID 1
    ps = run([*stack["compose"], "ps", "-q", "api-1"], timeout=30)
    container = ps.stdout.strip()
    user = run(["docker", "exec", container, "id", "-u"], timeout=30).stdout.strip()
    assert user != "0"
    pid1 = run(["docker", "exec", container, "cat", "/proc/1/cmdline"], timeout=30).stdout
    assert "tini" in pid1
    volumes = run(["docker", "inspect", "-f", "{{json .Mounts}}", container], timeout=30)
    assert json.loads(volumes.stdout) == [], "the api container must have no volume"

    message = {
        "channelId": -1001234567890,
        "messageId": 1,
        "timestamp": "2026-11-23T10:00:00Z",
        "text": SIGNAL_TEXT,
    }
    status, body = http("POST", f"{api1}/ingest", message, {"X-Gateway-Token": TOKEN})
    assert status == 200, body
    assert body["status"] == "ok" and body["duplicate"] is False, body
    assert body["signal"], body

    status, body = http("POST", f"{api1}/ingest", message, {"X-Gateway-Token": "x" * 40})
    assert status == 401, body

    def signals(url: str) -> list[dict[str, Any]]:
        status, body = http("GET", f"{url}/signals")
        assert status == 200, body
        return body["data"]

    assert len(signals(api1)) == 1
    assert len(signals(api2)) == 1, "both replicas serve the same database"

    # restart one api container: nothing lost, the message is a duplicate now
    run([*stack["compose"], "restart", "api-1"], timeout=120)
    wait_healthy(f"{api1}/health")
    assert len(signals(api1)) == 1
    status, body = http("POST", f"{api1}/ingest", message, {"X-Gateway-Token": TOKEN})
    assert status == 200 and body["duplicate"] is True, body

    # the whole project down and up (the database volume stays): still there
    run([*stack["compose"], "down", "--timeout", "10"], timeout=180)
    run([*stack["compose"], "up", "--detach"], timeout=300)
    wait_healthy(f"{api1}/health", timeout=180)
    wait_healthy(f"{api2}/health", timeout=180)
    rows = signals(api2)
    assert len(rows) == 1
    assert rows[0].get("asset", rows[0].get("ativo", "BOVAW32")) == "BOVAW32"
