"""The registry of live nodes, and the node a test's live media is pinned to.

Each node writes a heartbeat to Redis (a sorted set of node ids scored by when they expire,
and each node's URL) every ``heartbeat_s``; one not heard of for ``expiry_s`` is dead. A test's
live media must meet on one node, the class and its teacher's monitor: the first lookup picks
the node by rendezvous hashing over the live nodes (highest hash of node and test: every node
picks the same one, and a node's death moves only its own tests) and pins it in Redis, so that
a node joining later does not split a class that is already live. A pin to a dead node is
replaced the same way. A node registered without media (``media=False``: it serves the API and
the pages, not live streams) is live but never picked; if no media node is live, a test's media
meets on the node asked, so that an exam goes on.

Without Redis (down, or not yet answered), every node serves what reaches it: an exam goes on,
one node at a time, and pins are looked up again when Redis is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = ("Node", "NodeRegistry", "rendezvous")

log = logging.getLogger(__name__)

# Keys, after the deployment's prefix: sorted sets of node ids scored by when their
# registration expires (unix time), all nodes and those that take live media, a hash of their
# URLs, and a pin per test.
NODES = ":nodes"
MEDIA_NODES = ":media-nodes"
URLS = ":node-urls"
PIN_TTL_S = 12 * 3600  # a pin outlives any exam; refreshed at each lookup


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    url: str


def rendezvous(key: str, nodes: Sequence[Node]) -> Node:
    """The node with the highest hash of (node, key): stable while the set of nodes is."""
    if not nodes:
        raise ValueError("no nodes")
    return max(nodes, key=lambda node: hashlib.sha256(f"{node.id}\n{key}".encode()).digest())


class NodeRegistry:
    def __init__(
        self,
        client: Redis,
        me: Node,
        *,
        heartbeat_s: float = 2.0,
        expiry_s: float = 6.0,
        clock: Callable[[], float] = time.time,
        prefix: str = "protolearn",
        media: bool = True,
    ) -> None:
        self._client = client
        self._nodes, self._urls, self._pins = prefix + NODES, prefix + URLS, prefix + ":pin:test:"
        self._media_nodes = prefix + MEDIA_NODES
        self.me = me
        self.media = media  # whether tests' live media may be pinned here
        self._heartbeat_s = heartbeat_s
        self._expiry_s = expiry_s
        self._clock = clock
        self._live: dict[str, Node] = {}
        self._media_ids: set[str] = set()
        self.reachable = False  # Redis answered the last heartbeat
        self._outage_logged = False

    @property
    def live(self) -> list[Node]:
        """The nodes alive at the last heartbeat (only this one while Redis is unreachable)."""
        return list(self._live.values()) if self.reachable else [self.me]

    @property
    def live_media(self) -> list[Node]:
        """The live nodes that take live media; this one if none does (or Redis cannot say)."""
        media = [node for node in self.live if node.id in self._media_ids]
        return media or [self.me]

    async def beat(self) -> None:
        """Register this node again and read which others are alive."""
        now = self._clock()
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.zadd(self._nodes, {self.me.id: now + self._expiry_s})
                if self.media:
                    pipe.zadd(self._media_nodes, {self.me.id: now + self._expiry_s})
                else:  # a node restarted without media leaves the media set at once
                    pipe.zrem(self._media_nodes, self.me.id)
                pipe.hset(self._urls, self.me.id, self.me.url)
                pipe.zremrangebyscore(self._nodes, "-inf", now)
                pipe.zremrangebyscore(self._media_nodes, "-inf", now)
                pipe.zrangebyscore(self._media_nodes, now, "+inf")
                pipe.zrangebyscore(self._nodes, now, "+inf")
                *_, media_ids, ids = await pipe.execute()
            urls = await self._client.hmget(self._urls, ids) if ids else []
        except (RedisError, OSError) as error:
            self._lost(error)
            return
        live = {_text(id_): Node(_text(id_), _text(url)) for id_, url in zip(ids, urls, strict=True) if url}
        live[self.me.id] = self.me
        if not self.reachable and self._outage_logged:
            log.info("Redis answers again: %d live node(s)", len(live))
        self._live, self.reachable, self._outage_logged = live, True, False
        self._media_ids = {_text(id_) for id_ in media_ids}

    async def run(self) -> None:
        while True:
            await self.beat()
            await asyncio.sleep(self._heartbeat_s)

    async def leave(self) -> None:
        """Deregister at shutdown, so that no page is sent here meanwhile."""
        with contextlib.suppress(RedisError, OSError):
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.zrem(self._nodes, self.me.id)
                pipe.zrem(self._media_nodes, self.me.id)
                pipe.hdel(self._urls, self.me.id)
                await pipe.execute()

    async def owner_of_test(self, test_id: int) -> Node:
        """The node the test's live media meets on: its pin while that node lives, else a new
        pin by rendezvous over the live media nodes (this node if none is live: the class is
        kept together here). This node when Redis cannot say."""
        if not self.reachable:
            return self.me
        live = {node.id: node for node in self.live}  # one alone still pins: a node joining later
        # must not split a class that is live here
        key = f"{self._pins}{test_id}"
        try:
            pinned = await self._client.get(key)
            node = live.get(_text(pinned)) if pinned is not None else None
            if node is None:
                node = rendezvous(f"test:{test_id}", self.live_media)
                # A first pin is set only if no other node set one meanwhile (that one wins); a
                # dead node's is replaced (the live nodes' rendezvous agree on its successor).
                if not await self._client.set(key, node.id, ex=PIN_TTL_S, nx=pinned is None):
                    won = await self._client.get(key)
                    node = live.get(_text(won)) if won is not None else None
                    node = node or self.me
            else:
                await self._client.expire(key, PIN_TTL_S)
        except (RedisError, OSError) as error:
            self._lost(error)
            return self.me
        return node

    def _lost(self, error: Exception) -> None:
        self.reachable = False
        if not self._outage_logged:
            log.warning("Redis unreachable (%s): this node serves what reaches it until it answers", error)
            self._outage_logged = True


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
