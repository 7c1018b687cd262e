"""The node registry on the machine's Redis: nodes see each other by their heartbeats, a test is
pinned to one live node and stays there when another joins, a dead node's tests move to a live
one, and without Redis each node serves what reaches it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from redis.asyncio import Redis

from protolearn.cluster.nodes import Node, NodeRegistry, rendezvous
from tests.support.redis import redis_or_skip


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def client() -> AsyncIterator[Redis]:
    redis = await redis_or_skip()
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    redis.test_prefix = prefix  # type: ignore[attr-defined]
    yield redis
    keys = [key async for key in redis.scan_iter(f"{prefix}*")]
    if keys:
        await redis.delete(*keys)
    await redis.aclose()


def registry(client: Redis, name: str, clock: Clock) -> NodeRegistry:
    me = Node(name, f"https://exam.test/nodes/{name}")
    return NodeRegistry(client, me, expiry_s=6.0, clock=clock, prefix=client.test_prefix)  # type: ignore[attr-defined]


async def test_a_class_stays_pinned_when_a_node_joins_and_moves_when_its_node_dies(client: Redis) -> None:
    clock = Clock()
    a = registry(client, "node-a", clock)
    await a.beat()
    assert [node.id for node in a.live] == ["node-a"]
    tests = range(1, 41)
    alone = {test: (await a.owner_of_test(test)).id for test in tests}
    assert set(alone.values()) == {"node-a"}  # pinned, though only one node is alive

    b = registry(client, "node-b", clock)
    await b.beat()
    await a.beat()
    assert {node.id for node in a.live} == {node.id for node in b.live} == {"node-a", "node-b"}
    for test in tests:  # classes already live stay where they are, whoever asks
        assert (await a.owner_of_test(test)).id == (await b.owner_of_test(test)).id == "node-a"
    fresh = range(100, 140)
    owners = {test: (await b.owner_of_test(test)).id for test in fresh}
    assert set(owners.values()) == {"node-a", "node-b"}  # new tests spread over both
    nodes = [a.me, b.me]
    assert all(owners[test] == rendezvous(f"test:{test}", nodes).id for test in fresh)
    assert [(await a.owner_of_test(test)).id for test in fresh] == [owners[test] for test in fresh]

    clock.now += 10  # node a stops beating: its registration runs out
    await b.beat()
    assert [node.id for node in b.live] == ["node-b"]
    assert {(await b.owner_of_test(test)).id for test in (*tests, *fresh)} == {"node-b"}


async def test_without_redis_a_node_serves_what_reaches_it() -> None:
    gone = Redis.from_url("redis://127.0.0.1:1/0", socket_connect_timeout=0.5)
    alone = NodeRegistry(gone, Node("node-a", "https://exam.test/nodes/a"))
    try:
        await alone.beat()
        assert not alone.reachable
        assert alone.live == [alone.me]
        assert await alone.owner_of_test(7) == alone.me
    finally:
        await gone.aclose()
