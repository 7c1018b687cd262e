"""The background task that auto-submits attempts whose deadline has passed.

Deadlines live in the database, so nothing is lost across restarts: the first sweep after a
start closes whatever expired while the server was down. Between sweeps the task sleeps until
the next deadline (bounded), and a new attempt or extra time wakes it. Several nodes may sweep
at once: each close is a conditional UPDATE (status and deadline), so exactly one of them scores
an attempt, and never one whose deadline was moved since the sweep looked.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime

from protolearn.assessment.lifecycle import AttemptLifecycle
from protolearn.metrics import BACKGROUND_JOBS
from protolearn.store.base import utcnow
from protolearn.store.outage import database_unreachable

__all__ = ("DeadlineEnforcer",)

log = logging.getLogger(__name__)
_MIN_SLEEP_SECONDS = 0.05
_OUTAGE_RETRY_SECONDS = 2.0  # expired attempts close within this long of the database's return


class DeadlineEnforcer:
    def __init__(self, lifecycle: AttemptLifecycle, *, max_sleep_seconds: float) -> None:
        self._lifecycle = lifecycle
        self._max_sleep = max_sleep_seconds
        self._wake = asyncio.Event()
        lifecycle.on_new_deadline = self.notify

    def notify(self, _deadline: datetime | None = None) -> None:
        """A deadline was added or moved: look again before sleeping on."""
        self._wake.set()

    async def sweep(self, now: datetime | None = None) -> datetime | None:
        """Close the attempts expired by ``now`` (the clock's time unless given); return when the
        next one expires."""
        async with self._lifecycle.sessionmaker() as session:
            service = self._lifecycle.service(session)
            closed = await service.close_expired(now)
            if closed:
                log.info("auto-submitted %d attempt(s) at their deadline: %s", len(closed), closed)
                BACKGROUND_JOBS.labels("auto_submit", "done").inc(len(closed))
            return await service.next_deadline()

    async def run(self) -> None:
        while True:
            self._wake.clear()
            sleep = self._max_sleep
            try:
                next_deadline = await self.sweep()
            except Exception as error:
                BACKGROUND_JOBS.labels("auto_submit", "failed").inc()
                next_deadline = None
                if database_unreachable(error):  # an outage, not a bug: one line, and soon again
                    sleep = min(self._max_sleep, _OUTAGE_RETRY_SECONDS)
                    log.warning("deadline sweep: the database is out of reach; again in %.0f s", sleep)
                else:
                    log.exception("deadline sweep failed; retrying in %.0f s", self._max_sleep)
            if next_deadline is not None:
                until = (next_deadline - utcnow()).total_seconds() + _MIN_SLEEP_SECONDS
                sleep = min(self._max_sleep, max(_MIN_SLEEP_SECONDS, until))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=sleep)
