"""The whole appliance from one `ansible-playbook site.yml` on one bare host.

The host is the local systemd image as PID 1 in a container sharing this
machine's network and Docker engine (see tests/deploy/wholehost.py for what
differs from a real server). The same site.yml and group_vars a user gets are
applied with an inventory whose host vars hold the only differences. One
full run (module-scoped fixture); every check below reuses its host.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.conftest import ANSIBLE_DIR, run, tool_env
from tests.deploy.test_stack import SIGNAL_TEXT, http, wait_healthy
from tests.deploy.wholehost import (
    ENGINE_UNITS,
    NAME,
    PORTS,
    Host,
    docker_run_args,
    ports_still_in_use,
    write_inventory,
)

pytestmark = [pytest.mark.docker, pytest.mark.slow]

PROJECT = "tpcap-host"
VOLUME = "tpcap-host-db"
APP_IMAGE, DB_IMAGE = "tp-capital-app:host-test", "tp-capital-db:host-test"
API = ("http://127.0.0.1:4005", "http://127.0.0.1:4105")
WORKSPACE = "http://127.0.0.1:3200"
GATEWAY = "http://127.0.0.1:4006"
CHANNEL = -1007000000001
ROTATION_CHANNEL = -1007000000002
# Writes what the gateway's Telegram receiver writes (the outbox entry of a new
# message), one every half second until told to stop; prints how many.
OUTBOX_WRITER = """\
import sys, time
from pathlib import Path
from app.gateway.outbox import OutboxStore, new_entry

store = OutboxStore(Path(sys.argv[1]), 100 * 1024 * 1024)
stop, channel, count = Path(sys.argv[2]), int(sys.argv[3]), 0
while not stop.exists() and count < 2000:
    count += 1
    store.add_many([new_entry({
        "channelId": channel, "messageId": count, "timestamp": "2026-11-30T12:00:00Z",
        "text": f"posted during the rotation {count}", "source": "user"})])
    time.sleep(0.5)
store.close()
print(count)
"""
# profile_tasks' summary line: "tp_capital_stack : Build the app image ---- 41.20s"
TASK_TIME = re.compile(r"^(?P<task>.+?) -{3,} (?P<seconds>\d+\.\d+)s\s*$", re.M)


def host_vars(token: str) -> dict[str, Any]:
    """Everything this host's inventory changes from production's."""
    return {
        # the vault's values (placeholders in group_vars/all/vault.yml)
        "vault_tp_capital_gateway_token": token,
        "vault_tp_capital_db_password": "whole-host-db-password-NOT-SECRET",
        "vault_tp_capital_api_key": "whole-host-api-key-0123456789abcdef",
        "vault_tp_capital_telegram_api_id": "12345",
        "vault_tp_capital_telegram_api_hash": "0123456789abcdef0123456789abcdef",
        # a test DC: a closed port on loopback (no session: never contacted)
        "tp_capital_gateway_telegram_dc_id": "2",
        "tp_capital_gateway_telegram_dc_address": "127.0.0.1:9",
        # this machine's engine is shared: names no one else uses
        "tp_capital_stack_project_name": PROJECT,
        "tp_capital_stack_db_volume": VOLUME,
        "tp_capital_stack_app_image": APP_IMAGE,
        "tp_capital_stack_db_image": DB_IMAGE,
        # the engine is the machine's, reached through the mounted socket
        "tp_capital_stack_engine_unit": "",
        # no registry: images on the locally built Debian bases
        "tp_capital_stack_build_db_image": True,
        "tp_capital_stack_app_base_image": "tpcap-base/debian-python:bookworm",
        "tp_capital_stack_db_base_image": "tpcap-base/debian-postgres:bookworm",
        "tp_capital_observability_enabled": True,
        "tp_capital_observability_system_packages": ["prometheus"],
    }


@dataclass
class Appliance:
    host: Host
    token: str
    inventory: Path
    env: dict[str, str]
    deploy_bin: Path
    tmp: Path
    timings: dict[str, float] = field(default_factory=dict)

    def playbook(self, *extra: str, timeout: float = 1800) -> subprocess.CompletedProcess[str]:
        return run(
            [
                str(self.deploy_bin / "ansible-playbook"),
                "-i",
                str(self.inventory),
                "site.yml",
                *extra,
            ],
            timeout=timeout,
            env=self.env,
            cwd=ANSIBLE_DIR,
        )

    def write_inventory(self, **extra: Any) -> None:
        write_inventory(
            self.inventory,
            host=self.host.name,
            wheelhouse=self.tmp / "wheelhouse",
            controller_python=str(self.deploy_bin / "python"),
            host_vars={**host_vars(self.token), **extra},
        )


def recap(output: str, host: str) -> dict[str, int]:
    for line in output.splitlines():
        if line.startswith(host) and "ok=" in line:
            return {k: int(v) for k, v in (p.split("=") for p in line.split()[2:])}
    raise AssertionError(f"no play recap for {host} in:\n{output[-3000:]}")


def task_seconds(output: str, task: str) -> float:
    times = [float(m["seconds"]) for m in TASK_TIME.finditer(output) if m["task"].endswith(task)]
    return max(times, default=0.0)


def gateway_health(timeout: float = 90) -> dict[str, Any]:
    """The gateway's /health once it answers: 503 'not logged in' is expected."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            status, body = http("GET", f"{GATEWAY}/health", timeout=3)
            if status in (200, 503):
                return {"status": status, "body": body}
            last = (status, body)
        except OSError as exc:
            last = exc
        time.sleep(1)
    raise AssertionError(f"gateway /health did not answer: {last}")


def all_green(timeout: float = 240) -> None:
    for url in API:
        wait_healthy(f"{url}/health", timeout=timeout)
    wait_healthy(f"{WORKSPACE}/health", timeout=timeout)
    health = gateway_health(timeout)
    assert health["status"] == 503 and "not logged in" in json.dumps(health["body"]), health


def remove_leftovers() -> None:
    """Only what this test creates (fixed names, so a crashed run is cleaned up)."""
    subprocess.run(["docker", "rm", "-f", NAME], capture_output=True)
    ids = subprocess.run(
        ["docker", "ps", "-aq", "--filter", f"label=com.docker.compose.project={PROJECT}"],
        capture_output=True,
        text=True,
    ).stdout.split()
    if ids:
        subprocess.run(["docker", "rm", "-f", *ids], capture_output=True)
    subprocess.run(["docker", "volume", "rm", "-f", VOLUME], capture_output=True)
    subprocess.run(["docker", "network", "rm", f"{PROJECT}_default"], capture_output=True)


@pytest.fixture(scope="module")
def appliance(
    docker_engine: None, deploy_bin: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Appliance]:
    taken = ports_still_in_use(PORTS)
    if taken:
        pytest.fail(
            "the whole-host test publishes the appliance's default ports on this machine, "
            f"and these are taken: {'; '.join(taken)}",
            pytrace=False,
        )
    remove_leftovers()
    tmp = tmp_path_factory.mktemp("whole-host")
    app = Appliance(
        host=Host(NAME),
        token=f"whole-host-gateway-token-{uuid.uuid4().hex}",
        inventory=tmp / "inventory.yml",
        env=tool_env(deploy_bin, ANSIBLE_CONFIG=str(ANSIBLE_DIR / "ansible.cfg")),
        deploy_bin=deploy_bin,
        tmp=tmp,
    )
    app.write_inventory()
    try:
        started = time.monotonic()
        run(docker_run_args(NAME), timeout=120)
        app.host.wait_booted()
        app.host.run(f"systemctl mask {' '.join(ENGINE_UNITS)}")
        app.timings["boot"] = time.monotonic() - started

        mark = time.monotonic()
        first = app.playbook()
        app.timings["playbook"] = time.monotonic() - mark
        assert recap(first.stdout, NAME)["failed"] == 0
        all_green()
        app.timings["bare_to_green"] = time.monotonic() - started
        app.timings["build_app_image"] = task_seconds(first.stdout, "Build the app image")
        app.timings["build_db_image"] = task_seconds(first.stdout, "Build the database image")
        app.timings["wheelhouse"] = task_seconds(
            first.stdout, "Build the project wheel and its dependencies' wheels"
        )
        (tmp / "first-run.log").write_text(first.stdout)
        print(
            "whole host: bare host to all health checks green in "
            f"{app.timings['bare_to_green']:.0f}s (boot {app.timings['boot']:.0f}s, "
            f"site.yml {app.timings['playbook']:.0f}s, of which wheelhouse "
            f"{app.timings['wheelhouse']:.0f}s, app image build "
            f"{app.timings['build_app_image']:.0f}s, database image build "
            f"{app.timings['build_db_image']:.0f}s)"
        )
        yield app
    finally:
        for command in (
            "journalctl --no-pager -n 40 -u tp-capital-gateway -u tp-capital-stack",
            "systemctl list-units --failed --no-pager",
        ):
            out = subprocess.run(
                ["docker", "exec", NAME, "sh", "-c", command], capture_output=True, text=True
            )
            print(out.stdout[-6000:])
        # an orderly shutdown: the stack unit's ExecStop takes the project down
        subprocess.run(["docker", "stop", "-t", "120", NAME], capture_output=True, timeout=180)
        remove_leftovers()
        subprocess.run(["docker", "image", "rm", APP_IMAGE, DB_IMAGE], capture_output=True)


def stored(channel: int) -> list[dict[str, Any]]:
    status, body = http("GET", f"{API[0]}/messages?channel={channel}&limit=1000")
    assert status == 200, body
    return body["data"]


def ingest(url: str, token: str, message_id: int, channel: int = CHANNEL) -> tuple[int, Any]:
    message = {
        "channelId": channel,
        "messageId": message_id,
        "timestamp": "2026-11-30T10:00:00Z",
        "text": SIGNAL_TEXT,
    }
    return http("POST", f"{url}/ingest", message, {"X-Gateway-Token": token})


# -- the deployment ------------------------------------------------------------------
def test_bare_host_comes_up_with_every_role(appliance: Appliance) -> None:
    host = appliance.host
    for unit in (
        "tp-capital-gateway.service",
        "tp-capital-gateway-session-backup.timer",
        "tp-capital-stack.service",
    ):
        assert host.run(f"systemctl is-enabled {unit}").stdout.strip() == "enabled", unit
        assert host.run(f"systemctl is-active {unit}").stdout.strip() == "active", unit
    assert host.failed_units() == []
    # the stack runs on the machine's engine, owned by the host's unit
    ps = run(
        ["docker", "ps", "--filter", f"label=com.docker.compose.project={PROJECT}",
         "--format", "{{.Label \"com.docker.compose.service\"}}"],
        timeout=30,
    )  # fmt: skip
    assert sorted(ps.stdout.split()) == ["api-1", "api-2", "db", "workspace"]
    validate = host.run(
        "/opt/tp-capital-gateway/venv/bin/tpcap validate-env "
        "/etc/tp-capital/gateway.env /etc/tp-capital/api.env"
    )
    assert validate.returncode == 0
    env = host.run("cat /etc/tp-capital/gateway.env").stdout
    assert "TELEGRAM_DC_ID=2\n" in env and "TELEGRAM_DC_ADDRESS=127.0.0.1:9\n" in env
    health = gateway_health()
    assert health["status"] == 503
    assert "telegram: not logged in" in json.dumps(health["body"]), health
    print(
        f"whole host timings (s): {json.dumps({k: round(v) for k, v in appliance.timings.items()})}"
    )


def test_second_run_changes_nothing(appliance: Appliance) -> None:
    second = appliance.playbook()
    result = recap(second.stdout, NAME)
    assert result["changed"] == 0 and result["failed"] == 0, second.stdout[-6000:]


def test_signal_is_stored_once_and_read_through_both_replicas(appliance: Appliance) -> None:
    status, body = ingest(API[0], appliance.token, 1)
    assert status == 200 and body["signal"], body
    status, body = ingest(API[1], appliance.token, 1)
    assert status == 200 and body["duplicate"] is True, body
    status, body = ingest(API[1], "not-the-deployed-token-0123456789abcdef", 2)
    assert status == 401, body
    for url in API:
        status, body = http("GET", f"{url}/signals?channel={CHANNEL}")
        assert status == 200, body
        assert [row["message_id"] for row in body["data"]] == [1], (url, body)


def test_workspace_answers_with_its_deployed_key(appliance: Appliance) -> None:
    key = host_vars(appliance.token)["vault_tp_capital_api_key"]
    item = {
        "title": "whole-host item",
        "description": "made by the test",
        "category": "documentacao",
    }
    status, body = http(
        "POST", f"{WORKSPACE}/api/items", item, {"X-API-Key": "wrong-key-0123456789"}
    )
    assert status in (401, 403), body
    status, body = http(
        "POST", f"{WORKSPACE}/api/items", item, {"X-API-Key": key, "X-User": "test"}
    )
    assert status in (200, 201), body
    status, body = http("GET", f"{WORKSPACE}/api/items")
    assert status == 200, body
    assert "whole-host item" in json.dumps(body)


def test_prometheus_rules_in_place_and_promtool_passes_on_the_host(appliance: Appliance) -> None:
    host = appliance.host
    out = host.run(
        "promtool check rules /etc/tp-capital/observability/tp-capital-alerts.yml"
    ).stdout
    assert "SUCCESS" in out, out
    scrape = host.run("cat /etc/tp-capital/observability/tp-capital-scrape.yml").stdout
    assert '"127.0.0.1:4005", "127.0.0.1:4105"' in scrape, scrape
    host.run("test -s /etc/tp-capital/observability/tp-capital-dashboard.json")


# -- runbooks, followed literally ----------------------------------------------------
def test_runbook_failure_queue_recovery_replays_once(appliance: Appliance) -> None:
    """docs/runbooks/failure-queue-recovery.md, steps 3 to 5."""
    host = appliance.host
    host.run("systemctl stop tp-capital-gateway")
    host.gw("recover", "export")
    host.run("systemctl start tp-capital-gateway")
    lines = [
        {"channelId": CHANNEL, "messageId": 100 + n, "timestamp": "2026-11-30T11:00:00Z",
         "text": f"queued {n}", "failedAt": "2026-11-30T11:00:05Z"}
        for n in range(3)
    ]  # fmt: skip
    # the same message twice (a retry that was dead-lettered twice): stored once
    payload = "\n".join(json.dumps(line) for line in [*lines, lines[0]]) + "\n"
    queue = "/var/lib/tp-capital-gateway/data/failure-queue.jsonl"
    host.run(
        f"cat >> {queue} <<'EOF'\n{payload}EOF\n"
        f"chown tpcap-gateway:tpcap-gateway {queue} && chmod 0600 {queue}"
    )
    out = host.gw("recover", "replay")
    assert host.run(f"wc -l < {queue}").stdout.strip() == "0", out
    ids = sorted(row["message_id"] for row in stored(CHANNEL) if row["message_id"] >= 100)
    assert ids == [100, 101, 102], out
    # a second replay of an empty queue changes nothing
    host.gw("recover", "replay")
    assert len([r for r in stored(CHANNEL) if r["message_id"] >= 100]) == 3


def test_restarts_bring_everything_back_with_nothing_lost(appliance: Appliance) -> None:
    host = appliance.host
    before = len(stored(CHANNEL))
    assert before >= 1
    host.run("systemctl restart tp-capital-stack", timeout=600)
    all_green()
    assert len(stored(CHANNEL)) == before

    run(["docker", "restart", "-t", "120", host.name], timeout=300)
    host.wait_booted()
    all_green()
    assert host.failed_units() == []
    assert len(stored(CHANNEL)) == before
    for url in API:
        status, body = ingest(url, appliance.token, 1)
        assert status == 200 and body["duplicate"] is True, body


def test_runbook_token_rotation_both_sides_loses_nothing(appliance: Appliance) -> None:
    """docs/runbooks/token-rotation.md: a new token in the vault values, then
    the runbook's tagged run. Meanwhile messages keep arriving in the
    gateway's outbox (written as its Telegram receiver writes them: the fake
    is at the Telegram boundary); every one of them is stored exactly once,
    the old token stops working and the new one works."""
    host = appliance.host
    host.run(f"cat > /tmp/outbox-writer.py <<'EOF'\n{OUTBOX_WRITER}EOF")
    writer = subprocess.Popen(
        ["docker", "exec", host.name, "runuser", "-u", "tpcap-gateway", "--",
         "/opt/tp-capital-gateway/venv/bin/python", "/tmp/outbox-writer.py",
         "/var/lib/tp-capital-gateway/data/outbox.sqlite3", "/tmp/outbox-writer.stop",
         str(ROTATION_CHANNEL)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        old = appliance.token
        appliance.token = f"whole-host-rotated-token-{uuid.uuid4().hex}"
        appliance.write_inventory()
        appliance.playbook(
            "--tags",
            "tp_capital_stack_configure,tp_capital_stack_run,"
            "tp_capital_gateway_configure,tp_capital_gateway_run",
        )
    finally:
        host.run("touch /tmp/outbox-writer.stop")
        out, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    written = int(out.split()[-1])
    assert written >= 10, out

    host.run(
        "/opt/tp-capital-gateway/venv/bin/tpcap validate-env "
        "/etc/tp-capital/gateway.env /etc/tp-capital/api.env"
    )
    all_green()
    for url in API:
        assert ingest(url, old, 500)[0] == 401
    status, body = ingest(API[1], appliance.token, 500)
    assert status == 200, body

    # what arrived during the rotation is delivered by the gateway, each once
    deadline = time.monotonic() + 240
    ids: list[int] = []
    while time.monotonic() < deadline:
        ids = sorted(row["message_id"] for row in stored(ROTATION_CHANNEL))
        if len(ids) >= written:
            break
        time.sleep(3)
    assert ids == list(range(1, written + 1)), f"{written} written, stored: {ids}"
    print(f"token rotation: {written} messages reached the outbox during the run, each stored once")


def test_runbook_session_backup_restore(appliance: Appliance) -> None:
    """An existing session supplied through the inventory, backed up by the
    timer's service, lost, and restored with
    docs/runbooks/session-backup-restore.md's commands."""
    host = appliance.host
    supplied = appliance.tmp / "supplied.session"
    key = make_session(supplied)
    appliance.write_inventory(tp_capital_gateway_session_file=str(supplied))
    appliance.playbook("--tags", "tp_capital_gateway_configure,tp_capital_gateway_run")
    session = "/var/lib/tp-capital-gateway/.session/gateway.session"
    assert host.run(f"stat -c '%a %U' {session}").stdout.split() == ["600", "tpcap-gateway"]

    host.run("systemctl start tp-capital-gateway-session-backup.service", timeout=120)
    archive = host.run("ls -1t /var/backups/tp-capital-gateway/ | head -1").stdout.strip()
    assert archive.startswith("session-") and archive.endswith(".tar.gz"), archive
    host.run(f"rm -f {session}")  # the loss

    host.run("systemctl stop tp-capital-gateway")
    host.run(
        "python3 /opt/tp-capital-gateway/bin/session-restore.py "
        f"/var/backups/tp-capital-gateway/{archive} "
        "--dest /var/lib/tp-capital-gateway/.session --force"
    )
    host.run("systemctl start tp-capital-gateway")
    assert host.run(f"stat -c '%a %U' {session}").stdout.split() == ["600", "tpcap-gateway"]
    restored = host.run(
        "python3 -c \"import sqlite3; print(sqlite3.connect('file:"
        + session
        + "?mode=ro', uri=True).execute('SELECT hex(auth_key) FROM sessions').fetchone()[0])\""
    ).stdout.strip()
    assert restored.lower() == key.hex()
    # the session loads (no 77/78 exit: not unsafe, not corrupt); the test DC
    # is a closed port, so it is not connected
    health = gateway_health()
    assert health["status"] == 503, health
    status = host.run("systemctl show -p ExecMainStatus tp-capital-gateway").stdout
    assert status.strip().split("=")[1] not in ("77", "78"), status


def make_session(path: Path) -> bytes:
    """A Telethon session file for the test DC (loopback, a closed port)."""
    from telethon.crypto import AuthKey
    from telethon.sessions import SQLiteSession

    key = os.urandom(256)
    session = SQLiteSession(str(path.with_suffix("")))
    session.set_dc(2, "127.0.0.1", 9)
    session.auth_key = AuthKey(key)
    session.save()
    session.close()
    path.chmod(0o600)
    return key
