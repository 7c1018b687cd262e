"""Login throttling, counted in this process and in the machine's real Redis (one count for every
node of a deployment), with the same rules."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from protolearn.accounts.throttle import (
    FailureStore,
    LocalFailures,
    LoginLimits,
    LoginThrottle,
    RedisFailures,
)
from protolearn.errors import RateLimited
from tests.support.redis import redis_or_skip

LIMITS = LoginLimits(per_account_and_address=3, per_account=5, per_address=8, window_seconds=60)
SCHOOL = "10.0.0.1"


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(params=["memory", "redis"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[FailureStore]:
    if request.param == "memory":
        yield LocalFailures()
        return
    client = await redis_or_skip()
    prefix = f"test:{uuid.uuid4().hex}:"  # this test's keys only
    yield RedisFailures(client, prefix=prefix)
    keys = [key async for key in client.scan_iter(f"{prefix}*")]
    if keys:
        await client.delete(*keys)
    await client.aclose()


async def fail(throttle: LoginThrottle, email: str, address: str, times: int = 1) -> None:
    for _ in range(times):
        await throttle.check(email, address)
        await throttle.record_failure(email, address)


async def test_one_student_mistyping_locks_only_their_account_from_their_address(store: FailureStore) -> None:
    clock = FakeClock()
    throttle = LoginThrottle(LIMITS, clock=clock, store=store)
    await fail(throttle, "ada@x.test", SCHOOL, 3)
    with pytest.raises(RateLimited) as raised:
        await throttle.check("ada@x.test", SCHOOL)
    assert raised.value.retry_after == pytest.approx(60)
    assert "try again in 60 seconds" in raised.value.detail
    await throttle.check("grace@x.test", SCHOOL)  # the classmate beside her signs in
    await throttle.check("ada@x.test", "192.0.2.7")  # and so does she, from home
    clock.now += 61
    await throttle.check("ada@x.test", SCHOOL)


async def test_guessing_one_account_from_many_addresses_is_stopped(store: FailureStore) -> None:
    throttle = LoginThrottle(LIMITS, clock=FakeClock(), store=store)
    for n in range(5):
        await fail(throttle, "ada@x.test", f"198.51.100.{n}")
    with pytest.raises(RateLimited) as raised:
        await throttle.check("ada@x.test", "198.51.100.99")
    assert "for this account" in raised.value.detail


async def test_spraying_accounts_from_one_address_meets_a_much_higher_ceiling(store: FailureStore) -> None:
    throttle = LoginThrottle(LIMITS, clock=FakeClock(), store=store)
    for n in range(8):
        await fail(throttle, f"user{n}@x.test", SCHOOL)
    with pytest.raises(RateLimited) as raised:
        await throttle.check("someone@x.test", SCHOOL)
    assert "from your network" in raised.value.detail


async def test_a_success_forgives_that_address_its_mistakes_only(store: FailureStore) -> None:
    throttle = LoginThrottle(LIMITS, clock=FakeClock(), store=store)
    await fail(throttle, "ada@x.test", SCHOOL, 2)
    await throttle.record_success("ada@x.test", SCHOOL)
    await fail(throttle, "ada@x.test", SCHOOL, 2)
    await throttle.check("ada@x.test", SCHOOL)  # 2 since the success, under 3
    await fail(throttle, "ada@x.test", "192.0.2.7")  # the account count (5) keeps all of them
    with pytest.raises(RateLimited):
        await throttle.check("ada@x.test", "192.0.2.8")


async def test_a_wait_of_minutes_is_said_in_minutes(store: FailureStore) -> None:
    limits = LoginLimits(per_account_and_address=1, window_seconds=300)
    throttle = LoginThrottle(limits, clock=FakeClock(), store=store)
    await fail(throttle, "ada@x.test", SCHOOL)
    with pytest.raises(RateLimited) as raised:
        await throttle.check("ada@x.test", SCHOOL)
    assert "try again in 5 minutes" in raised.value.detail


async def test_two_nodes_share_one_count_in_redis() -> None:
    client = await redis_or_skip()
    prefix = f"test:{uuid.uuid4().hex}:"
    clock = FakeClock()
    node_a = LoginThrottle(LIMITS, clock=clock, store=RedisFailures(client, prefix=prefix))
    node_b = LoginThrottle(LIMITS, clock=clock, store=RedisFailures(client, prefix=prefix))
    try:
        await fail(node_a, "ada@x.test", SCHOOL, 2)
        await fail(node_b, "ada@x.test", SCHOOL)  # the third, on the other node
        for node in (node_a, node_b):
            with pytest.raises(RateLimited):
                await node.check("ada@x.test", SCHOOL)
    finally:
        await client.delete(*[key async for key in client.scan_iter(f"{prefix}*")])
        await client.aclose()


async def test_without_redis_each_node_counts_on_its_own() -> None:
    gone = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)  # nothing listens there
    throttle = LoginThrottle(LIMITS, clock=FakeClock(), store=RedisFailures(gone))
    try:
        await fail(throttle, "ada@x.test", SCHOOL, 3)
        with pytest.raises(RateLimited):
            await throttle.check("ada@x.test", SCHOOL)
        await throttle.check("grace@x.test", SCHOOL)
    finally:
        await gone.aclose()


async def test_memory_is_bounded() -> None:
    store = LocalFailures(max_keys=100)
    throttle = LoginThrottle(LoginLimits(), clock=FakeClock(), store=store)
    for n in range(1000):
        await throttle.record_failure(f"user{n}@x.test", f"10.0.{n // 256}.{n % 256}")
    assert len(store._failures) <= 103
