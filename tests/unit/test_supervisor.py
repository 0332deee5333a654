"""The local appliance's supervisor: restart with backoff, give up on configuration errors."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from app.supervisor import Service, Supervisor, backoff_delay


def test_backoff_doubles_up_to_thirty_seconds() -> None:
    assert [backoff_delay(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


def service(tmp_path: Path, name: str, code: int) -> Service:
    return Service(
        name,
        [sys.executable, "-c", f"import sys; print('run'); sys.exit({code})"],
        {},
        "",
        tmp_path / f"{name}.log",
    )


def wait_exit(svc: Service) -> None:
    assert svc.process is not None
    svc.process.wait(30)


def test_a_crash_is_restarted_after_its_backoff_and_a_config_error_is_not(
    tmp_path: Path,
) -> None:
    said: list[str] = []
    supervisor = Supervisor(said.append)
    crashing = supervisor.add(service(tmp_path, "crashing", 3))
    misconfigured = supervisor.add(service(tmp_path, "misconfigured", 2))
    wait_exit(crashing)
    wait_exit(misconfigured)
    now = time.monotonic()
    supervisor.check(now)
    assert said == [
        f"crashing exited with code 3; restarting in 1s (crash 1 in a row), see {crashing.log}",
        f"misconfigured exited with code 2 (configuration error); not restarting it, "
        f"see {misconfigured.log}",
    ]
    first = crashing.process
    supervisor.check(now + 0.5)  # still waiting
    assert crashing.process is first
    supervisor.check(now + 1.0)
    assert crashing.process is not first and crashing.restarts == 1
    assert said[-1] == f"crashing restarted (pid {crashing.process.pid})"
    wait_exit(crashing)
    supervisor.check(now + 2.0)
    assert "restarting in 2s (crash 2 in a row)" in said[-1]
    assert misconfigured.restarts == 0 and misconfigured.given_up
    assert crashing.log.read_text().count("run") == 2
    assert crashing.log.stat().st_mode & 0o777 == 0o600
    supervisor.stop()
