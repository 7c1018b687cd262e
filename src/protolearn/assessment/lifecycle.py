"""How attempts end: the one place `AttemptService` is built and attempts are closed from.

Submit (the student), auto-submit (the deadline task, or a late write), terminate (a teacher)
and auto-terminate (proctoring, after N critical violations) all close through AttemptService,
and every close that took effect publishes one `AttemptEnded` on the bus (ATTEMPTS_ENDED):
proctoring stops the attempt's session on it, on whichever node holds the stream. A student
whose attempt was ended for them also hears `test-ended`. Extra time moves an attempt's deadline
later: the deadline task is told, and the student hears `deadline-changed`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protolearn.assessment.attempts import AttemptService
from protolearn.events.bus import ATTEMPTS_ENDED, EventBus, student_topic
from protolearn.events.messages import AttemptEnded, DeadlineChanged, TestEnded
from protolearn.store.attempts import AttemptStatus

__all__ = ("AttemptLifecycle",)

# Ends the student did not choose: their page is told.
_ENDED_FOR_THE_STUDENT = {AttemptStatus.TERMINATED.value, AttemptStatus.AUTO_SUBMITTED.value}


class AttemptLifecycle:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        bus: EventBus,
        *,
        grace_seconds: float,
    ) -> None:
        self.sessionmaker = sessionmaker
        self.bus = bus
        self.grace_seconds = grace_seconds
        # Set by the deadline task: a new attempt (or extra time) changes when the next one is due.
        self.on_new_deadline: Callable[[datetime], None] | None = None

    def service(self, session: AsyncSession) -> AttemptService:
        return AttemptService(
            session,
            grace_seconds=self.grace_seconds,
            on_new_deadline=self._new_deadline,
            on_closed=self._closed,
            on_deadline_changed=self._deadline_changed,
        )

    async def end(self, attempt_id: int, status: AttemptStatus, reason: str) -> bool:
        """Ends an attempt in progress (terminate, auto-terminate); False if it already ended."""
        async with self.sessionmaker() as session:
            return await self.service(session).close(attempt_id, status, reason=reason)

    def _new_deadline(self, deadline: datetime) -> None:
        if self.on_new_deadline is not None:
            self.on_new_deadline(deadline)

    def _deadline_changed(self, changed: DeadlineChanged) -> None:
        self.bus.publish(student_topic(changed.attempt_id), changed)

    def _closed(self, ended: AttemptEnded) -> None:
        self.bus.publish(ATTEMPTS_ENDED, ended)
        if ended.status in _ENDED_FOR_THE_STUDENT:
            self.bus.publish(
                student_topic(ended.attempt_id),
                TestEnded(attempt_id=ended.attempt_id, status=ended.status, reason=ended.reason),
            )
