"""Events across nodes over Redis pub/sub, behind the bus's `EventBackend`.

A publish is delivered to this node's own subscribers at once, as in one process, and queued
for Redis (channel ``<prefix>:events:<topic>``, the payload the publishing node's id and the
encoded event), so that a node keeps serving its own sockets while Redis is away. The other
nodes subscribed to the topic deliver it to theirs; a node skips what it published itself.

Two tasks talk to Redis and outlive its outages: the writer sends the queue in order (at most
``capacity`` events wait, the oldest dropped first), the reader keeps the subscriptions the bus
asked for and reconnects with a growing pause, subscribing again to every topic. Events sent
while Redis was away are sent when it is back; what another node published meanwhile is lost
to this one (pub/sub keeps nothing), which the supervisor's reconciliation and the pages'
polling already absorb.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from protolearn.events.bus import Deliver, InProcessBackend
from protolearn.events.messages import Event, decode_event, encode
from protolearn.supervision import TaskFailures, supervise

__all__ = ("RedisBackend",)

log = logging.getLogger(__name__)

_POLL_S = 0.05  # how soon a new subscription is sent while no message arrives
_RETRY_S = (0.1, 0.25, 0.5, 1.0, 2.0)


class RedisBackend:
    def __init__(
        self, client: Redis, node_id: str, *, prefix: str = "protolearn", capacity: int = 10_000
    ) -> None:
        self._client = client
        self._channels = f"{prefix}:events:"
        self._origin = node_id.encode()
        self._local = InProcessBackend()
        self._outbox: deque[tuple[str, bytes]] = deque()
        self._capacity = capacity
        self._queued = asyncio.Event()
        self._topics: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self.failures: TaskFailures = TaskFailures()
        self.sent = 0
        self.received = 0
        self.dropped = 0  # waited while Redis was away, until the queue was full
        self.connected = False

    @property
    def deliver(self) -> Deliver:
        return self._local.deliver

    @deliver.setter
    def deliver(self, deliver: Deliver) -> None:
        self._local.deliver = deliver

    def publish(self, topic: str, event: Event) -> None:
        self._local.publish(topic, event)
        if len(self._outbox) >= self._capacity:
            self._outbox.popleft()
            self.dropped += 1
        self._outbox.append((topic, encode(event)))
        self._queued.set()

    def subscribe(self, topic: str) -> None:
        self._local.subscribe(topic)
        self._topics.add(topic)

    def unsubscribe(self, topic: str) -> None:
        self._local.unsubscribe(topic)
        self._topics.discard(topic)

    def start(self) -> None:
        """Starts talking to Redis, in the running loop (the app subscribes as it is built,
        before the server's loop runs: those topics are subscribed to now)."""
        if not self._tasks:
            self._tasks = [
                asyncio.create_task(supervise("events-to-redis", self._write, failures=self.failures)),
                asyncio.create_task(supervise("events-from-redis", self._read, failures=self.failures)),
            ]

    async def _write(self) -> None:
        failures = 0
        while True:
            if not self._outbox:
                self._queued.clear()
                await self._queued.wait()
                continue
            topic, data = self._outbox[0]
            try:
                await self._client.publish(self._channels + topic, self._origin + b"\n" + data)
            except (RedisError, OSError) as error:
                failures = self._outage(failures, error)
                await asyncio.sleep(_RETRY_S[min(failures, len(_RETRY_S)) - 1])
                continue
            if self._outbox and self._outbox[0][1] is data:
                self._outbox.popleft()
            self.sent += 1
            failures = 0

    async def _read(self) -> None:
        failures = 0
        while True:
            try:
                async with self._client.pubsub() as pubsub:
                    subscribed: set[str] = set()
                    while True:
                        subscribed = await self._follow(pubsub, subscribed)
                        if not subscribed:  # nothing to read yet (nor a connection to read on)
                            await asyncio.sleep(_POLL_S)
                            continue
                        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=_POLL_S)
                        if not self.connected and subscribed:
                            log.info("Redis events: connected, %d topic(s)", len(subscribed))
                        self.connected, failures = True, 0
                        if message is not None and message.get("type") == "message":
                            self._received(message["channel"], message["data"])
            except (RedisError, OSError) as error:
                failures = self._outage(failures, error)
                await asyncio.sleep(_RETRY_S[min(failures, len(_RETRY_S)) - 1])

    async def _follow(self, pubsub: PubSub, subscribed: set[str]) -> set[str]:
        """Subscribe to the topics asked for since, leave those given up; the new set."""
        wanted = set(self._topics)
        joined, left = wanted - subscribed, subscribed - wanted
        if joined:
            await pubsub.subscribe(*(self._channels + topic for topic in joined))
        if left:
            await pubsub.unsubscribe(*(self._channels + topic for topic in left))
        return wanted

    def _received(self, channel: bytes | str, data: bytes) -> None:
        origin, _, encoded = data.partition(b"\n")
        if origin == self._origin:
            return  # delivered here when it was published
        topic = (channel.decode() if isinstance(channel, bytes) else channel).removeprefix(self._channels)
        if topic not in self._topics:
            return
        try:
            event = decode_event(encoded)
        except ValueError as error:  # a newer node's event this one cannot read (msgspec's errors)
            log.warning("an event on %s could not be decoded: %s", topic, error)
            return
        self.received += 1
        self._local.deliver(topic, event)

    def _outage(self, failures: int, error: Exception) -> int:
        if self.connected or failures == 0:
            log.warning("Redis events unreachable (%s); this node's own events still flow", error)
        self.connected = False
        return failures + 1

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []
        await self._local.close()
