"""The event bus: typed events on topics, delivered to local subscriptions with bounded queues.

Topics are strings (``attempt:7:teachers``, ``attempt:7:student``, ``attempts:ended``,
``user:3``); events are the Structs of events/messages.py. The bus keeps the local
subscriptions and fans out; an `EventBackend` carries events between publishers and the bus:
in-process by default (delivered at once, on the publisher's call), Redis when several nodes
serve one deployment (the same three operations). A subscriber that does not keep up loses its
oldest events, never the publisher's time.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable, Iterable
from typing import Protocol

from protolearn.events.messages import Event

__all__ = (
    "ACCOUNTS_CHANGED",
    "ATTEMPTS_ENDED",
    "EventBackend",
    "EventBus",
    "InProcessBackend",
    "Subscription",
    "student_topic",
    "teachers_topic",
    "user_topic",
)

ATTEMPTS_ENDED = "attempts:ended"
"""Topic of AttemptEnded: every attempt that stopped being in progress, on any node."""
ACCOUNTS_CHANGED = "accounts:changed"
"""Topic of SessionsEnded too, for every user: caches of accounts forget the user."""

Deliver = Callable[[str, Event], None]


def teachers_topic(attempt_id: int) -> str:
    return f"attempt:{attempt_id}:teachers"


def student_topic(attempt_id: int) -> str:
    return f"attempt:{attempt_id}:student"


def user_topic(user_id: int) -> str:
    """Events about one account (SessionsEnded), for every connection of that user."""
    return f"user:{user_id}"


class EventBackend(Protocol):
    """Carries events from publishers (on any node) to `deliver`, which the bus sets."""

    deliver: Deliver

    def start(self) -> None:
        """In the running event loop, before the app serves: a networked backend connects."""

    def publish(self, topic: str, event: Event) -> None:
        """Sends the event; never blocks the caller (a networked backend queues it)."""

    def subscribe(self, topic: str) -> None:
        """From now on, events on the topic reach the bus's deliver()."""

    def unsubscribe(self, topic: str) -> None: ...

    async def close(self) -> None: ...


class InProcessBackend:
    """One process: publish delivers at once, on the caller's stack."""

    def __init__(self) -> None:
        self._topics: set[str] = set()
        self.deliver: Deliver = lambda _topic, _event: None

    def start(self) -> None:
        pass

    def publish(self, topic: str, event: Event) -> None:
        if topic in self._topics:
            self.deliver(topic, event)

    def subscribe(self, topic: str) -> None:
        self._topics.add(topic)

    def unsubscribe(self, topic: str) -> None:
        self._topics.discard(topic)

    async def close(self) -> None:
        self._topics.clear()


class Subscription:
    """One listener's topics and its queue of events (oldest dropped when full). Leaving a
    topic also drops its events still queued: after replace(), only the new topics' events come."""

    def __init__(self, bus: EventBus, capacity: int) -> None:
        self._bus = bus
        self.topics: set[str] = set()
        self.capacity = capacity
        self._queue: deque[tuple[str, Event]] = deque()
        self._ready = asyncio.Event()
        self.dropped = 0

    def add(self, topics: Iterable[str]) -> None:
        for topic in topics:
            if topic not in self.topics:
                self.topics.add(topic)
                self._bus._join(topic, self)

    def remove(self, topics: Iterable[str]) -> None:
        left = {topic for topic in topics if topic in self.topics}
        for topic in left:
            self.topics.discard(topic)
            self._bus._leave(topic, self)
        if left and self._queue:
            self._queue = deque(item for item in self._queue if item[0] not in left)

    def replace(self, keep: Callable[[str], bool], topics: Iterable[str]) -> None:
        """Leaves the topics `keep` rejects, then joins `topics`: a teacher who watches other
        attempts hears only theirs from now on."""
        self.remove([topic for topic in self.topics if not keep(topic)])
        self.add(topics)

    def deliver(self, topic: str, event: Event) -> None:
        if len(self._queue) >= self.capacity:
            self._queue.popleft()
            self.dropped += 1
        self._queue.append((topic, event))
        self._ready.set()

    async def next(self) -> Event:
        while not self._queue:
            self._ready.clear()
            await self._ready.wait()
        return self._queue.popleft()[1]

    def drain(self) -> list[Event]:
        """The events waiting now, taken without waiting."""
        events = [event for _topic, event in self._queue]
        self._queue.clear()
        return events

    def close(self) -> None:
        self.remove(list(self.topics))


class EventBus:
    def __init__(self, backend: EventBackend | None = None) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}
        self.backend: EventBackend = backend or InProcessBackend()
        self.backend.deliver = self._deliver
        self.delivered = 0

    def publish(self, topic: str, event: Event) -> int:
        """Sends the event to the topic's subscribers; returns how many this node has."""
        self.backend.publish(topic, event)
        return len(self._subscribers.get(topic, ()))

    def subscribe(self, topics: Iterable[str] = (), capacity: int = 256) -> Subscription:
        subscription = Subscription(self, capacity)
        subscription.add(topics)
        return subscription

    def subscriber_count(self, topic: str) -> int:
        return len(self._subscribers.get(topic, ()))

    def _deliver(self, topic: str, event: Event) -> None:
        """From the backend: fan the event out to this node's subscriptions."""
        for subscription in list(self._subscribers.get(topic, ())):
            subscription.deliver(topic, event)
            self.delivered += 1

    def _join(self, topic: str, subscription: Subscription) -> None:
        subscribers = self._subscribers.setdefault(topic, set())
        if not subscribers:
            self.backend.subscribe(topic)
        subscribers.add(subscription)

    def _leave(self, topic: str, subscription: Subscription) -> None:
        subscribers = self._subscribers.get(topic)
        if subscribers is None:
            return
        subscribers.discard(subscription)
        if not subscribers:
            del self._subscribers[topic]
            self.backend.unsubscribe(topic)

    def start(self) -> None:
        self.backend.start()

    async def close(self) -> None:
        await self.backend.close()
