"""Child services kept running: a crashed one is restarted with exponential backoff.

Each service runs in its own process group (its own workers included), so a
stop reaches every process it started; each also gets SIGTERM from the kernel
if the supervisor itself dies (PR_SET_PDEATHSIG), so nothing outlives it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.parent_watch import set_parent_death_signal

# Exit statuses that a restart cannot fix: configuration errors (2), and the
# gateway's "no usable session" (73, 78), as its systemd unit treats them.
NO_RESTART = {2: "configuration error", 73: "cannot create the session", 78: "corrupt session"}
BACKOFF_FIRST_S = 1.0
BACKOFF_MAX_S = 30.0
# Running this long counts as recovered: the next crash starts the backoff afresh.
STABLE_S = 60.0


def open_private_log(path: Path) -> int:
    """An append-only log file descriptor, readable by the owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    os.fchmod(fd, 0o600)  # a log left by an earlier version may be looser
    return fd


def _child_setup() -> None:
    set_parent_death_signal(signal.SIGTERM)


@dataclass
class Service:
    name: str
    command: list[str]
    env: dict[str, str]
    url: str
    log: Path
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    failures: int = 0
    restart_at: float | None = None
    given_up: bool = False
    restarts: int = field(default=0)

    def start(self) -> None:
        fd = open_private_log(self.log)
        try:
            self.process = subprocess.Popen(
                self.command,
                env=self.env,
                stdout=fd,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group; Ctrl-C reaches only us
                preexec_fn=_child_setup,
            )
        finally:
            os.close(fd)
        self.started_at = time.monotonic()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal_group(self, sig: int) -> None:
        if self.process is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, sig)


def backoff_delay(failures: int) -> float:
    """1 s, 2 s, 4 s … up to 30 s for the n-th crash in a row."""
    return min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** max(failures - 1, 0))


@dataclass
class Supervisor:
    say: Callable[[str], None]
    services: list[Service] = field(default_factory=list)

    def add(self, service: Service) -> Service:
        service.start()
        self.services.append(service)
        return service

    def check(self, now: float | None = None) -> None:
        """Notice crashed services and restart those whose backoff has passed."""
        now = time.monotonic() if now is None else now
        for service in self.services:
            if service.given_up or service.process is None:
                continue
            if service.restart_at is not None:
                if now >= service.restart_at:
                    service.restart_at = None
                    service.restarts += 1
                    service.start()
                    assert service.process is not None
                    self.say(f"{service.name} restarted (pid {service.process.pid})")
                continue
            code = service.process.poll()
            if code is None:
                if service.failures and now - service.started_at >= STABLE_S:
                    service.failures = 0
                continue
            # Whatever the dead service had started (workers) goes with it.
            service.signal_group(signal.SIGKILL)
            if code in NO_RESTART:
                service.given_up = True
                self.say(
                    f"{service.name} exited with code {code} ({NO_RESTART[code]}); "
                    f"not restarting it, see {service.log}"
                )
                continue
            service.failures += 1
            delay = backoff_delay(service.failures)
            service.restart_at = now + delay
            self.say(
                f"{service.name} exited with code {code}; restarting in {delay:g}s "
                f"(crash {service.failures} in a row), see {service.log}"
            )

    def stop(self, timeout: float = 15.0) -> None:
        """SIGTERM every service's process group, newest first; SIGKILL what remains."""
        for service in reversed(self.services):
            if service.running:
                service.signal_group(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        for service in reversed(self.services):
            if service.process is None:
                continue
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.process.wait(max(0.0, deadline - time.monotonic()))
            # Its workers, and the service itself if it ignored SIGTERM.
            service.signal_group(signal.SIGKILL)
            with contextlib.suppress(subprocess.TimeoutExpired):
                service.process.wait(5)
