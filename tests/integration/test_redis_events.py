"""Live events between two nodes over Redis pub/sub (a Redis of the test's own, stopped and
started): delivered across nodes once, a node's own events reach its own listeners even while
Redis is gone, and events cross again when it is back, with no restart of either node."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from redis.asyncio import Redis

from protolearn.events.bus import EventBus, Subscription
from protolearn.events.messages import Event, WarningMessage
from protolearn.events.redis_backend import RedisBackend
from tests.support.redis import OwnRedis, own_redis

TOPIC = "attempt:7:student"


@pytest.fixture
async def redis(tmp_path: Path) -> AsyncIterator[OwnRedis]:
    with own_redis(tmp_path / "redis") as server:
        yield server


def warning(text: str) -> WarningMessage:
    return WarningMessage(attempt_id=7, message=text)


async def next_of(subscription: Subscription, within: float = 30.0) -> Event:
    """The next event; the bound is only for one that never comes."""
    return await asyncio.wait_for(subscription.next(), timeout=within)


async def test_events_cross_nodes_once_and_survive_redis_going_away(redis: OwnRedis) -> None:
    clients = [Redis.from_url(redis.url, socket_connect_timeout=1, socket_timeout=2) for _ in range(2)]
    a, b = (
        EventBus(RedisBackend(client, name))
        for client, name in zip(clients, ("node-a", "node-b"), strict=True)
    )
    try:
        a.start()
        b.start()
        on_a, on_b = a.subscribe([TOPIC]), b.subscribe([TOPIC])
        # The other node's subscription reaches Redis a moment after it is made: publish until heard.
        for attempt in range(600):
            a.publish(TOPIC, warning(f"hello {attempt}"))
            try:
                first = await asyncio.wait_for(on_b.next(), timeout=0.1)
                break
            except TimeoutError:
                continue
        else:
            raise AssertionError("node b never heard node a")
        assert isinstance(first, WarningMessage) and first.message.startswith("hello")
        on_a.drain()
        on_b.drain()
        a.publish(TOPIC, warning("once"))
        assert await next_of(on_b) == warning("once")
        assert await next_of(on_a) == warning("once")
        await asyncio.sleep(0.3)
        assert on_a.drain() == [] and on_b.drain() == []  # not echoed back through Redis

        redis.stop()
        a.publish(TOPIC, warning("while redis is gone"))
        assert await next_of(on_a) == warning("while redis is gone")  # this node's own listeners

        redis.start()
        for attempt in range(600):  # the nodes reconnect and subscribe again on their own
            a.publish(TOPIC, warning(f"back {attempt}"))
            try:
                heard = await asyncio.wait_for(on_b.next(), timeout=0.1)
            except TimeoutError:
                continue
            if isinstance(heard, WarningMessage) and heard.message.startswith("back"):
                break
        else:
            raise AssertionError("events did not cross again after Redis came back")
        assert a.backend.connected and b.backend.connected  # type: ignore[attr-defined]
    finally:
        await a.close()
        await b.close()
        for client in clients:
            await client.aclose()
