from __future__ import annotations

import pytest

from protolearn.accounts.throttle import LoginLimits, LoginThrottle
from protolearn.errors import RateLimited

LIMITS = LoginLimits(per_account_and_address=3, per_account=5, per_address=8, window_seconds=60)
SCHOOL = "10.0.0.1"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def fail(throttle: LoginThrottle, email: str, address: str, times: int = 1) -> None:
    for _ in range(times):
        throttle.check(email, address)
        throttle.record_failure(email, address)


def test_one_student_mistyping_locks_only_their_account_from_their_address() -> None:
    clock = FakeClock()
    throttle = LoginThrottle(LIMITS, clock=clock)
    fail(throttle, "ada@x.test", SCHOOL, 3)
    with pytest.raises(RateLimited) as raised:
        throttle.check("ada@x.test", SCHOOL)
    assert raised.value.retry_after == 60
    assert "try again in 60 seconds" in raised.value.detail
    throttle.check("grace@x.test", SCHOOL)  # the classmate beside her signs in
    throttle.check("ada@x.test", "192.0.2.7")  # and so does she, from home
    clock.now += 61
    throttle.check("ada@x.test", SCHOOL)


def test_guessing_one_account_from_many_addresses_is_stopped() -> None:
    throttle = LoginThrottle(LIMITS, clock=FakeClock())
    for n in range(5):
        fail(throttle, "ada@x.test", f"198.51.100.{n}")
    with pytest.raises(RateLimited) as raised:
        throttle.check("ada@x.test", "198.51.100.99")
    assert "for this account" in raised.value.detail


def test_spraying_many_accounts_from_one_address_meets_a_much_higher_ceiling() -> None:
    throttle = LoginThrottle(LIMITS, clock=FakeClock())
    for n in range(8):
        fail(throttle, f"user{n}@x.test", SCHOOL)
    with pytest.raises(RateLimited) as raised:
        throttle.check("someone@x.test", SCHOOL)
    assert "from your network" in raised.value.detail


def test_a_success_forgives_that_address_its_mistakes_only() -> None:
    throttle = LoginThrottle(LIMITS, clock=FakeClock())
    fail(throttle, "ada@x.test", SCHOOL, 2)
    throttle.record_success("ada@x.test", SCHOOL)
    fail(throttle, "ada@x.test", SCHOOL, 2)
    throttle.check("ada@x.test", SCHOOL)  # 2 since the success, under 3
    fail(throttle, "ada@x.test", "192.0.2.7")  # the account count (5) keeps all of them
    with pytest.raises(RateLimited):
        throttle.check("ada@x.test", "192.0.2.8")


def test_a_wait_of_minutes_is_said_in_minutes() -> None:
    throttle = LoginThrottle(LoginLimits(per_account_and_address=1, window_seconds=300), clock=FakeClock())
    fail(throttle, "ada@x.test", SCHOOL)
    with pytest.raises(RateLimited) as raised:
        throttle.check("ada@x.test", SCHOOL)
    assert "try again in 5 minutes" in raised.value.detail


def test_memory_is_bounded() -> None:
    throttle = LoginThrottle(LoginLimits(), clock=FakeClock(), max_keys=100)
    for n in range(1000):
        throttle.record_failure(f"user{n}@x.test", f"10.0.{n // 256}.{n % 256}")
    assert len(throttle._failures) <= 103
