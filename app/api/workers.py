"""`tpcap api --workers N`: N api processes on one port, sharing only the database.

The supervisor binds nothing and serves nothing: it starts N copies of
`tpcap api` with API_WORKER_INDEX set, each of which binds the port with
SO_REUSEPORT (the kernel spreads connections across them) and has its own
pool, group commit and parse worker. Their Prometheus metrics go to files
in PROMETHEUS_MULTIPROC_DIR, so any copy's /metrics shows the sum over all.

SIGTERM or SIGINT is passed on to every copy, which drains and stops; a copy
that exits on its own stops the others too, and the supervisor exits with its
status, so systemd or Docker restarts the whole set. If the supervisor itself
is killed, the kernel sends each copy SIGTERM (PR_SET_PDEATHSIG).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from prometheus_client import multiprocess

log = logging.getLogger("app.api.workers")

WORKER_INDEX = "API_WORKER_INDEX"
MULTIPROC_DIR = "PROMETHEUS_MULTIPROC_DIR"
KILL_AFTER_SECONDS = 20  # a copy still running this long after SIGTERM gets SIGKILL
_PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    """preexec_fn of each copy: SIGTERM it when the supervisor goes away."""
    libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != parent:  # the supervisor died before prctl took effect
        os._exit(1)


def _metrics_dir() -> tuple[Path, bool]:
    """PROMETHEUS_MULTIPROC_DIR emptied (stale files would add old counts), or a new one."""
    given = os.environ.get(MULTIPROC_DIR)
    if not given:
        return Path(tempfile.mkdtemp(prefix="tpcap-api-metrics-")), True
    path = Path(given)
    path.mkdir(parents=True, exist_ok=True)
    for stale in path.glob("*.db"):
        stale.unlink()
    return path, False


def supervise(workers: int, address: str) -> int:
    metrics_dir, owned = _metrics_dir()
    env = {**os.environ, MULTIPROC_DIR: str(metrics_dir)}
    command = [sys.executable, "-m", "app", "api", "--address", address, "--workers", "1"]
    me = os.getpid()
    live: dict[int, int] = {}  # pid -> worker index
    stopping = False

    def stop_all(signum: int, _frame: object = None) -> None:
        nonlocal stopping
        stopping = True
        for pid in live:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL if signum == signal.SIGALRM else signal.SIGTERM)
        if signum != signal.SIGALRM:
            signal.alarm(KILL_AFTER_SECONDS)

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM):
        signal.signal(sig, stop_all)
    for index in range(workers):
        if stopping:
            break
        child = subprocess.Popen(
            command,
            env={**env, WORKER_INDEX: str(index)},
            preexec_fn=lambda: _die_with_parent(me),
        )
        live[child.pid] = index
    log.info("api workers started", extra={"workers": workers, "pids": sorted(live)})
    status = 0
    try:
        while live:
            # os.wait is retried after a signal handler runs (PEP 475).
            pid, wait_status = os.wait()
            index = live.pop(pid, None)
            if index is None:
                continue
            code = os.waitstatus_to_exitcode(wait_status)
            multiprocess.mark_process_dead(pid, str(metrics_dir))
            if not stopping:
                log.error(
                    "api worker exited; stopping the others",
                    extra={"worker": index, "pid": pid, "exit_code": code},
                )
                status = code or 1
                stop_all(signal.SIGTERM)
    finally:
        signal.alarm(0)
        if owned:
            shutil.rmtree(metrics_dir, ignore_errors=True)
    log.info("api workers stopped", extra={"exit_code": status})
    return status if status > 0 else (1 if status else 0)
