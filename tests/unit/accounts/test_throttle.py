from __future__ import annotations

import pytest

from protolearn.accounts.throttle import LoginThrottle
from protolearn.errors import RateLimited


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_failures_per_email_and_address_expire_with_the_window() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(max_failures=3, window_seconds=60, clock=clock)
    for _ in range(3):
        throttle.check("a@x.test", "10.0.0.1")
        throttle.record_failure("a@x.test", "10.0.0.1")
    with pytest.raises(RateLimited) as raised:
        throttle.check("a@x.test", "10.0.0.2")  # the email is blocked from any address
    assert raised.value.retry_after == 60
    with pytest.raises(RateLimited):
        throttle.check("b@x.test", "10.0.0.1")  # and the address for any email
    throttle.check("b@x.test", "10.0.0.2")
    clock.now += 61
    throttle.check("a@x.test", "10.0.0.1")


def test_success_clears_the_email_but_not_the_address() -> None:
    throttle = LoginThrottle(max_failures=2, window_seconds=60, clock=FakeClock())
    throttle.record_failure("a@x.test", "10.0.0.1")
    throttle.record_failure("a@x.test", "10.0.0.1")
    throttle.record_success("a@x.test")
    throttle.check("a@x.test", "10.0.0.9")
    with pytest.raises(RateLimited):
        throttle.check("a@x.test", "10.0.0.1")


def test_memory_is_bounded() -> None:
    throttle = LoginThrottle(max_failures=5, window_seconds=60, clock=FakeClock(), max_keys=100)
    for n in range(1000):
        throttle.record_failure(f"user{n}@x.test", f"10.0.{n // 256}.{n % 256}")
    assert len(throttle._failures) <= 102
