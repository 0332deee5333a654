from __future__ import annotations

from app.web.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_window_counts_per_key_and_resets() -> None:
    clock = Clock()
    limiter = RateLimiter(3, 60, clock)
    decisions = [limiter.hit("a") for _ in range(4)]
    assert [d.allowed for d in decisions] == [True, True, True, False]
    assert [d.remaining for d in decisions] == [2, 1, 0, 0]
    assert limiter.hit("b").allowed
    assert decisions[-1].headers()["Retry-After"] == "60"
    clock.now += 30
    assert limiter.hit("a").reset_seconds == 30
    clock.now += 31
    fresh = limiter.hit("a")
    assert fresh.allowed and fresh.remaining == 2


def test_headers_on_allowed_answer_have_no_retry_after() -> None:
    decision = RateLimiter(1, 10, Clock()).hit("x")
    assert decision.headers() == {
        "RateLimit-Limit": "1",
        "RateLimit-Remaining": "0",
        "RateLimit-Reset": "10",
    }
