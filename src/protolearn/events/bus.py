"""An in-process event bus: topics, and subscriptions with bounded queues.

Topics are strings (``attempt:7:teachers``, ``attempt:7:student``); messages are JSON-ready
dicts. A subscriber that does not keep up loses its oldest messages, never the publisher's
time. A Redis backend with the same two methods serves several nodes (see ARCHITECTURE.md).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import Any

__all__ = ("EventBus", "Subscription", "student_topic", "teachers_topic")

Message = dict[str, Any]


def teachers_topic(attempt_id: int) -> str:
    return f"attempt:{attempt_id}:teachers"


def student_topic(attempt_id: int) -> str:
    return f"attempt:{attempt_id}:student"


class Subscription:
    def __init__(self, bus: EventBus, capacity: int) -> None:
        self._bus = bus
        self.topics: set[str] = set()
        self.queue: asyncio.Queue[Message] = asyncio.Queue(capacity)
        self.dropped = 0

    def add(self, topics: Iterable[str]) -> None:
        for topic in topics:
            self.topics.add(topic)
            self._bus._subscribers.setdefault(topic, set()).add(self)

    def deliver(self, message: Message) -> None:
        if self.queue.full():
            self.queue.get_nowait()
            self.dropped += 1
        self.queue.put_nowait(message)

    async def next(self) -> Message:
        return await self.queue.get()

    def close(self) -> None:
        for topic in self.topics:
            subscribers = self._bus._subscribers.get(topic)
            if subscribers is not None:
                subscribers.discard(self)
                if not subscribers:
                    del self._bus._subscribers[topic]
        self.topics.clear()


class EventBus:
    def __init__(self) -> None:
        self._subscribers: dict[str, set[Subscription]] = {}

    def publish(self, topic: str, message: Message) -> int:
        """Delivers to every subscriber of the topic now; returns how many there were."""
        subscribers = self._subscribers.get(topic, ())
        for subscription in list(subscribers):
            subscription.deliver(message)
        return len(subscribers)

    def subscribe(self, topics: Iterable[str] = (), capacity: int = 256) -> Subscription:
        subscription = Subscription(self, capacity)
        subscription.add(topics)
        return subscription
