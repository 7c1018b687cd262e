"""Login throttling: failed attempts counted per email and per client address.

Kept in process memory: one node's view. Several nodes each count on their own, which still
bounds guessing per node; a shared counter belongs with the Redis event bus when it comes.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from protolearn.errors import RateLimited

__all__ = ("LoginThrottle",)


class LoginThrottle:
    def __init__(
        self,
        *,
        max_failures: int,
        window_seconds: float,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self._max_failures = max_failures
        self._window = window_seconds
        self._clock = clock
        self._max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def check(self, email: str, address: str) -> None:
        """Raise ``RateLimited`` if either key has used up its failures in the window."""
        now = self._clock()
        for key in self._keys(email, address):
            failures = self._recent(key, now)
            if failures is not None and len(failures) >= self._max_failures:
                retry_after = failures[0] + self._window - now
                raise RateLimited("too many failed logins; try again later", retry_after=retry_after)

    def record_failure(self, email: str, address: str) -> None:
        now = self._clock()
        if len(self._failures) >= self._max_keys:
            self._evict(now)
        for key in self._keys(email, address):
            self._failures.setdefault(key, deque()).append(now)

    def record_success(self, email: str) -> None:
        self._failures.pop(f"email:{email}", None)

    @staticmethod
    def _keys(email: str, address: str) -> tuple[str, str]:
        return f"email:{email}", f"address:{address}"

    def _recent(self, key: str, now: float) -> deque[float] | None:
        failures = self._failures.get(key)
        if failures is None:
            return None
        while failures and failures[0] <= now - self._window:
            failures.popleft()
        if not failures:
            del self._failures[key]
            return None
        return failures

    def _evict(self, now: float) -> None:
        for key in list(self._failures):
            self._recent(key, now)
        if len(self._failures) >= self._max_keys:  # still full of live keys: drop the oldest half
            for key in list(self._failures)[: self._max_keys // 2]:
                del self._failures[key]
