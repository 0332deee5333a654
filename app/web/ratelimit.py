"""Fixed-window rate limiting per client key, in process memory.

Each api copy counts on its own; behind a load balancer with N copies a
client gets at most N x the limit, which is the documented trade-off for
not needing a shared store.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    reset_seconds: int  # until the current window ends

    def headers(self) -> dict[str, str]:
        headers = {
            "RateLimit-Limit": str(self.limit),
            "RateLimit-Remaining": str(self.remaining),
            "RateLimit-Reset": str(self.reset_seconds),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.reset_seconds)
        return headers


class RateLimiter:
    def __init__(
        self, limit: int, window_seconds: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window = window_seconds
        self._clock = clock
        self._window_start = clock()
        self._counts: dict[str, int] = {}

    def hit(self, key: str) -> Decision:
        now = self._clock()
        if now - self._window_start >= self.window:
            # Windows are aligned for all clients, so one reset clears every counter.
            elapsed_windows = math.floor((now - self._window_start) / self.window)
            self._window_start += elapsed_windows * self.window
            self._counts.clear()
        count = self._counts.get(key, 0) + 1
        self._counts[key] = count
        reset = max(1, math.ceil(self._window_start + self.window - now))
        allowed = count <= self.limit
        return Decision(allowed, self.limit, max(0, self.limit - count), reset)
