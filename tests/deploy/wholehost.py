"""A "bare Debian 12 server" for the whole-host test: the local systemd image
as PID 1 in a container that shares this machine's network and drives this
machine's Docker engine through its socket.

What the playbook sees is a Debian 12 host with systemd, reachable through the
community.docker.docker connection (docker exec). What differs from a real
server, and why:

* `--network host`: the host's services and the stack's published ports are
  on this machine's loopback, as they would be on the server's.
* The Docker socket is mounted in, so Compose on the host creates sibling
  containers on this machine's engine (nested Docker cannot run in an
  unprivileged container here). The host's own `docker.service`,
  `docker.socket` and `containerd.service` are masked before the playbook
  runs, so the `docker.io` package the role installs never starts a second
  engine over the mounted socket; the inventory sets
  `tp_capital_stack_engine_unit: ""` so the stack unit does not require it.
* The Compose file mounts no host path: env files are read by docker-compose
  on the host and sent to the engine as values, the database uses a named
  volume, image build contexts are uploaded by the client. So nothing needs
  to exist at the same path on both sides.
"""

from __future__ import annotations

import json
import shlex
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SYSTEMD_IMAGE = "tpcap-base/debian-systemd:bookworm"
NAME = "tpcap-host"
LABEL = "tpcap.test=whole-host"
# The appliance's default ports on this machine's loopback (api-1, api-2,
# gateway, workspace, database) and Debian's Prometheus (the observability
# role installs it for promtool).
PORTS = {
    4005: "api-1",
    4105: "api-2",
    4006: "gateway",
    3200: "workspace",
    5433: "database",
    9090: "prometheus",
}
# Units that would start a second Docker engine inside the host.
ENGINE_UNITS = ("docker.service", "docker.socket", "containerd.service")


def ports_in_use(ports: dict[int, str]) -> list[str]:
    """The ports of `ports` something on this machine already listens on."""
    taken = []
    for port, name in sorted(ports.items()):
        with socket.socket() as probe:
            try:
                probe.bind(("0.0.0.0", port))
            except OSError as exc:
                taken.append(f"{port} ({name}): {exc.strerror}")
    return taken


def ports_still_in_use(ports: dict[int, str], wait: float = 90) -> list[str]:
    """ports_in_use after waiting up to `wait` seconds for them to be freed
    (other tests on this machine hold a default port for a few seconds)."""
    deadline = time.monotonic() + wait
    while (taken := ports_in_use(ports)) and time.monotonic() < deadline:
        time.sleep(3)
    return taken


def docker_run_args(name: str, image: str = SYSTEMD_IMAGE) -> list[str]:
    """`docker run` for the host: DEVELOPERS.md's systemd options, the
    machine's network and the machine's Docker socket."""
    return [
        "docker", "run", "--detach", "--name", name, "--label", LABEL,
        "--network", "host",
        "--cap-add", "SYS_ADMIN", "--cgroupns=host",
        "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw",
        "--tmpfs", "/run", "--tmpfs", "/run/lock", "--tmpfs", "/tmp",
        "-v", "/var/run/docker.sock:/run/docker.sock",
        "--env", "container=docker",
        "--stop-signal", "SIGRTMIN+3", "--stop-timeout", "120",
        image, "/lib/systemd/systemd",
    ]  # fmt: skip


@dataclass
class Host:
    name: str

    def run(
        self, command: str, *, timeout: float = 120, tty: bool = False, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """A shell command on the host, as root."""
        cmd = ["docker", "exec", *(["-t"] if tty else []), self.name, "sh", "-c", command]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(
                f"on {self.name}: {command}\nexit {result.returncode}\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}"
            )
        return result

    def wait_booted(self, timeout: float = 600) -> str:
        """systemd's state once booting is over ('running' or 'degraded'); on a
        deployed host that includes the stack unit's `up`, so it can take minutes."""
        deadline = time.monotonic() + timeout
        state = ""
        while time.monotonic() < deadline:
            result = self.run("systemctl is-system-running --wait", check=False, timeout=timeout)
            state = result.stdout.strip()
            if state in ("running", "degraded"):
                return state
            time.sleep(1)
        raise AssertionError(f"{self.name} did not finish booting: {state!r}")

    def failed_units(self) -> list[str]:
        out = self.run("systemctl list-units --failed --plain --no-legend").stdout
        return [line.split()[0] for line in out.splitlines() if line.strip()]

    def gw(self, *args: str, timeout: float = 120, check: bool = True) -> str:
        """docs/runbooks/README.md's `gw` helper, word for word (sudo is root here)."""
        command = (
            "systemd-run --quiet --pty --wait --collect "
            "--uid=tpcap-gateway --gid=tpcap-gateway "
            "-p EnvironmentFile=/etc/tp-capital/gateway.env "
            "-p WorkingDirectory=/var/lib/tp-capital-gateway "
            "/opt/tp-capital-gateway/venv/bin/tpcap " + shlex.join(args)
        )
        result = self.run(command, tty=True, timeout=timeout, check=check)
        return result.stdout.replace("\r\n", "\n")


def write_inventory(
    path: Path, *, host: str, wheelhouse: Path, controller_python: str, host_vars: dict[str, Any]
) -> Path:
    """example.yml's groups with one host, and only what differs from a real
    server in its host vars (host vars outrank the playbook's group_vars)."""
    inventory = {
        "all": {
            "hosts": {
                "localhost": {
                    "ansible_connection": "local",
                    "ansible_python_interpreter": controller_python,
                    "tp_capital_wheelhouse_dir": str(wheelhouse),
                }
            },
            "children": {
                "tp_capital": {
                    "hosts": {
                        host: {
                            "ansible_connection": "community.docker.docker",
                            "ansible_host": host,
                            # a minimal Debian has no sudo; root becomes root with su
                            "ansible_become_method": "su",
                            "ansible_python_interpreter": "/usr/bin/python3",
                            "tp_capital_wheelhouse_dir": str(wheelhouse),
                            **host_vars,
                        }
                    },
                    "children": {
                        group: {"hosts": {host: None}}
                        for group in (
                            "tp_capital_stack",
                            "tp_capital_gateway",
                            "tp_capital_observability",
                        )
                    },
                }
            },
        }
    }
    # JSON is YAML: the yaml inventory plugin reads it
    path.write_text(json.dumps(inventory, indent=2))
    return path
