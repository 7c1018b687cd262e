"""Background tasks that cannot die silently, and faults that are counted, not lost.

`supervise()` runs a long-lived coroutine (a decoder, a frame consumer, the deadline sweep, the
extraction worker, an event forwarder) and, when it raises, logs the failure with its name and
context, counts it, waits a little (doubling up to a bound) and starts it again. A task that
returns on its own has finished its work; cancelling the supervisor cancels the task.
`FaultCounter` counts per-item faults on hot paths (a bad frame, a failing listener) by key and
logs only the first of each key, so a hostile stream cannot flood the log. Nothing here knows
what the tasks or items are.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Awaitable, Callable

__all__ = ("FaultCounter", "TaskFailures", "supervise")

log = logging.getLogger(__name__)

TaskFailures = Counter[str]
"""Failures per task name, for stats and tests."""


class FaultCounter:
    """Faults by key (e.g. (stream, kind)); the first of each key is logged, the rest counted."""

    def __init__(self, logger: logging.Logger) -> None:
        self.counts: Counter[tuple[str, ...]] = Counter()
        self._log = logger

    def record(
        self, key: tuple[str, ...], message: str, *args: object, error: BaseException | None = None
    ) -> None:
        self.counts[key] += 1
        if self.counts[key] == 1:
            self._log.warning(message, *args, exc_info=error)

    def forget(self, first: str) -> None:
        """Drops the counts whose key starts with `first` (a stream that ended)."""
        for key in [key for key in self.counts if key[0] == first]:
            del self.counts[key]


# A task that ran this long before failing is failing anew, not in a loop: restart at once-ish.
_STABLE_AFTER_S = 60.0


async def supervise(
    name: str,
    run: Callable[[], Awaitable[None]],
    *,
    failures: TaskFailures | None = None,
    restart_delay_s: float = 0.5,
    max_restart_delay_s: float = 30.0,
    context: str = "",
) -> None:
    """Runs `run()` until it returns, restarting it after each exception (not after cancel)."""
    delay = restart_delay_s
    while True:
        started = time.monotonic()
        try:
            await run()
        except asyncio.CancelledError:
            raise
        except Exception:
            if failures is not None:
                failures[name] += 1
            if time.monotonic() - started >= _STABLE_AFTER_S:
                delay = restart_delay_s
            log.exception("background task %s failed%s; restarting in %.1f s", name, _ctx(context), delay)
            await asyncio.sleep(delay)
            delay = min(max_restart_delay_s, delay * 2)
        else:
            return


def _ctx(context: str) -> str:
    return f" ({context})" if context else ""
