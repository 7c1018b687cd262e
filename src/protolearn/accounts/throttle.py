"""Login throttling that stops guessing without punishing a classroom.

Failed sign-ins are counted three ways within a sliding window: per account from one address
(the tight limit: someone guessing one password), per account from anywhere (guessing spread
over many addresses), and per address over every account (one place spraying many accounts;
its ceiling is much higher, since a whole school signs in from one address and some of them
mistype). Reaching one limit refuses only what it counts: a student who mistypes ten times
locks their own account from their own address, never the class beside them. A refusal says
when to try again.

Kept in process memory: one node's view. Several nodes each count on their own, which still
bounds guessing per node; a shared counter belongs with the Redis event bus when it comes.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from protolearn.errors import RateLimited

if TYPE_CHECKING:
    from protolearn.config import Settings

__all__ = ("LoginLimits", "LoginThrottle")


@dataclass(frozen=True, slots=True)
class LoginLimits:
    per_account_and_address: int = 10
    per_account: int = 50
    per_address: int = 300
    window_seconds: float = 300.0

    @classmethod
    def from_settings(cls, settings: Settings) -> LoginLimits:
        return cls(
            per_account_and_address=settings.login_max_failures,
            per_account=settings.login_max_failures_per_account,
            per_address=settings.login_max_failures_per_address,
            window_seconds=settings.login_window_seconds,
        )


class LoginThrottle:
    def __init__(
        self,
        limits: LoginLimits,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_keys: int = 100_000,
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    def check(self, email: str, address: str) -> None:
        """Raise ``RateLimited`` (with when to retry) if a count of this sign-in is used up."""
        now = self._clock()
        for key, limit, whose in self._counts(email, address):
            failures = self._recent(key, now)
            if failures is not None and len(failures) >= limit:
                retry_after = failures[len(failures) - limit] + self._limits.window_seconds - now
                raise RateLimited(
                    f"too many failed sign-ins {whose}; try again in {_duration(retry_after)}",
                    retry_after=retry_after,
                )

    def record_failure(self, email: str, address: str) -> None:
        now = self._clock()
        if len(self._failures) >= self._max_keys:
            self._evict(now)
        for key, _, _ in self._counts(email, address):
            self._failures.setdefault(key, deque()).append(now)

    def record_success(self, email: str, address: str) -> None:
        """The right password from this address: its own mistakes are forgiven (not those made
        from elsewhere, nor the address's with other accounts)."""
        self._failures.pop(_pair(email, address), None)

    def _counts(self, email: str, address: str) -> tuple[tuple[str, int, str], ...]:
        limits = self._limits
        return (
            (_pair(email, address), limits.per_account_and_address, "for this account from here"),
            (f"account:{email}", limits.per_account, "for this account"),
            (f"address:{address}", limits.per_address, "from your network"),
        )

    def _recent(self, key: str, now: float) -> deque[float] | None:
        failures = self._failures.get(key)
        if failures is None:
            return None
        while failures and failures[0] <= now - self._limits.window_seconds:
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


def _pair(email: str, address: str) -> str:
    return f"account-address:{email}|{address}"


def _duration(seconds: float) -> str:
    if seconds <= 90:
        return f"{max(1, math.ceil(seconds))} seconds"
    return f"{math.ceil(seconds / 60)} minutes"
