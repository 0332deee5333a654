"""`vagrant up --provider=docker` runs to the end on this machine, and
`vagrant destroy -f` leaves nothing behind.

The staging container shares this machine's network and drives its Docker
engine through the mounted socket (Vagrantfile, docs/staging.md), like the
whole-host test; it uses the same default ports, so the two must run one
after the other (pytest runs the modules in turn; this one ends with
`vagrant destroy -f` before test_whole_host.py starts).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import require_or_skip
from tests.deploy.conftest import ROOT, run, tool_env
from tests.deploy.test_stack import wait_healthy
from tests.deploy.test_whole_host import gateway_health
from tests.deploy.wholehost import ports_still_in_use

pytestmark = [pytest.mark.docker, pytest.mark.slow]

# vagrant/staging.yml + staging-docker.yml: one api replica, project tpcap-staging
PORTS = {4005: "api", 4006: "gateway", 3200: "workspace", 5433: "database", 2222: "ssh"}
PROJECT, VOLUME = "tpcap-staging", "tpcap-staging-db"
IMAGES = ("tp-capital-app:staging", "tp-capital-db:staging")


def engine_leftovers() -> dict[str, list[str]]:
    def lines(*cmd: str) -> list[str]:
        out = subprocess.run(cmd, capture_output=True, text=True).stdout
        return [line for line in out.splitlines() if line.strip()]

    return {
        "containers": lines(
            "docker", "ps", "-a", "--format", "{{.Names}}",
            "--filter", f"label=com.docker.compose.project={PROJECT}",
        ) + lines(
            "docker", "ps", "-a", "--format", "{{.Names}}", "--filter", "name=^tpcap-staging$"
        ),
        "volumes": lines("docker", "volume", "ls", "-q", "--filter", f"name=^{VOLUME}$"),
        "images": [i for i in IMAGES if lines("docker", "image", "ls", "-q", i)],
        "networks": lines("docker", "network", "ls", "-q", "--filter", f"name=^{PROJECT}_default$"),
    }  # fmt: skip


def test_vagrant_up_docker_provider_then_destroy(
    docker_engine: None, deploy_bin: Path, tmp_path: Path
) -> None:
    require_or_skip(shutil.which("vagrant") is not None, "vagrant not installed")
    taken = ports_still_in_use(PORTS)
    if taken:
        pytest.fail(f"the staging machine's ports are taken: {'; '.join(taken)}", pytrace=False)
    leftovers = engine_leftovers()
    assert not any(leftovers.values()), f"a previous staging machine is still there: {leftovers}"
    env = tool_env(
        deploy_bin,
        VAGRANT_CHECKPOINT_DISABLE="1",
        VAGRANT_HOME=str(tmp_path / "vagrant.d"),
        VAGRANT_DOTFILE_PATH=str(tmp_path / "dot-vagrant"),
        VAGRANT_DEFAULT_PROVIDER="docker",
    )
    env.pop("VAGRANT_CWD", None)
    try:
        started = time.monotonic()
        run(["vagrant", "up", "--provider=docker"], timeout=2400, env=env, cwd=ROOT)
        wait_healthy("http://127.0.0.1:4005/health", timeout=240)
        wait_healthy("http://127.0.0.1:3200/health", timeout=240)
        health = gateway_health(120)
        up_s = time.monotonic() - started
        assert health["status"] == 503 and "not logged in" in json.dumps(health["body"]), health
        status = run(["vagrant", "status", "--machine-readable"], timeout=120, env=env, cwd=ROOT)
        assert ",state,running" in status.stdout
        print(f"vagrant up --provider=docker to green: {up_s:.0f}s")
    finally:
        run(["vagrant", "destroy", "-f"], timeout=600, env=env, cwd=ROOT, check=False)
    assert engine_leftovers() == {"containers": [], "volumes": [], "images": [], "networks": []}
    assert not os.path.exists(ROOT / ".vagrant" / "machines" / "staging" / "docker" / "id")
