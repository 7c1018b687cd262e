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


async def test_a_node_without_media_is_live_but_tests_meet_on_the_media_nodes(client: Redis) -> None:
    clock = Clock()
    media = registry(client, "node-a", clock)
    api = NodeRegistry(
        client,
        Node("node-api", "https://exam.test/nodes/api"),
        expiry_s=6.0,
        clock=clock,
        prefix=client.test_prefix,  # type: ignore[attr-defined]
        media=False,
    )
    await api.beat()
    await media.beat()
    await api.beat()
    assert {node.id for node in api.live} == {node.id for node in media.live} == {"node-a", "node-api"}
    assert [node.id for node in api.live_media] == [node.id for node in media.live_media] == ["node-a"]
    tests = range(1, 41)  # whichever node a class reaches first, it meets on the media node
    assert {(await api.owner_of_test(test)).id for test in tests} == {"node-a"}
    assert {(await media.owner_of_test(test)).id for test in tests} == {"node-a"}

    b = registry(client, "node-b", clock)  # a second media node takes new tests, not live ones
    await b.beat()
    await api.beat()
    assert {(await api.owner_of_test(test)).id for test in tests} == {"node-a"}
    fresh = {(await api.owner_of_test(test)).id for test in range(100, 140)}
    assert fresh == {"node-a", "node-b"}

    clock.now += 10  # both media nodes stop beating: the class is kept together where it asks
    await api.beat()
    assert [node.id for node in api.live_media] == ["node-api"]
    assert {(await api.owner_of_test(test)).id for test in tests} == {"node-api"}
    await media.beat()  # a media node back: classes live on the API node stay there while it lives
    await api.beat()
    assert {(await media.owner_of_test(test)).id for test in tests} == {"node-api"}
    assert (await media.owner_of_test(500)).id == "node-a"

    await api.leave()
    await media.beat()
    assert {node.id for node in media.live} == {"node-a"}
