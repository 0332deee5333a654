"""Child processes that end with their parent, even when it is killed with SIGKILL.

Used as the initializer of the api's parse workers: on Linux the kernel sends
SIGTERM when the parent dies (prctl PR_SET_PDEATHSIG); a watchdog thread that
polls the parent pid covers other systems and the moment before prctl ran.
"""

from __future__ import annotations

import ctypes
import os
import signal
import sys
import threading
import time

PR_SET_PDEATHSIG = 1
WATCH_INTERVAL_S = 1.0


def set_parent_death_signal(sig: int) -> bool:
    """Ask Linux to send `sig` to this process when its parent dies; False elsewhere."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent_pid: int) -> None:
    while True:
        time.sleep(WATCH_INTERVAL_S)
        if os.getppid() != parent_pid:
            os._exit(0)


def exit_with_parent(parent_pid: int) -> None:
    """Make this process end when `parent_pid` (its parent) does."""
    set_parent_death_signal(signal.SIGTERM)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(0)
    threading.Thread(target=_watch, args=(parent_pid,), name="parent-watch", daemon=True).start()
