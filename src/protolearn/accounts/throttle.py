"""Login throttling that stops guessing without punishing a classroom.

Failed sign-ins are counted three ways within a sliding window: per account from one address
(the tight limit: someone guessing one password), per account from anywhere (guessing spread
over many addresses), and per address over every account (one place spraying many accounts;
its ceiling is much higher, since a whole school signs in from one address and some of them
mistype). Reaching one limit refuses only what it counts: a student who mistypes ten times
locks their own account from their own address, never the class beside them. A refusal says
when to try again.

Counted in process memory on one node, or in Redis when several nodes serve a deployment
(`RedisFailures`: one count for all of them, so guessing is bounded per deployment, not per
node). When Redis does not answer, each node counts on its own until it does: sign-ins go on.
"""

from __future__ import annotations

import logging
import math
import time
import uuid
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from redis.asyncio import Redis
from redis.exceptions import RedisError

from protolearn.errors import RateLimited

if TYPE_CHECKING:
    from protolearn.config import Settings

__all__ = (
    "FailureStore",
    "LocalFailures",
    "LoginLimits",
    "LoginThrottle",
    "RedisFailures",
    "RequestLimit",
    "RequestLimits",
)

log = logging.getLogger(__name__)


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


class FailureStore(Protocol):
    """Timestamps of failed sign-ins per key, within a sliding window."""

    async def recent(self, keys: Sequence[str], now: float, window: float) -> list[list[float]]:
        """Each key's failures after ``now - window``, oldest first."""

    async def add(self, keys: Sequence[str], now: float, window: float) -> None: ...

    async def forget(self, key: str) -> None: ...


class LocalFailures:
    """One process's counts, with at most ``max_keys`` keys (a spray of made-up addresses
    cannot grow it without bound)."""

    def __init__(self, max_keys: int = 100_000) -> None:
        self._max_keys = max_keys
        self._failures: dict[str, deque[float]] = {}

    async def recent(self, keys: Sequence[str], now: float, window: float) -> list[list[float]]:
        return [list(self._recent(key, now, window)) for key in keys]

    async def add(self, keys: Sequence[str], now: float, window: float) -> None:
        if len(self._failures) >= self._max_keys:
            self._evict(now, window)
        for key in keys:
            self._failures.setdefault(key, deque()).append(now)

    async def forget(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str, now: float, window: float) -> deque[float]:
        failures = self._failures.get(key)
        if failures is None:
            return deque()
        while failures and failures[0] <= now - window:
            failures.popleft()
        if not failures:
            del self._failures[key]
        return failures

    def _evict(self, now: float, window: float) -> None:
        for key in list(self._failures):
            self._recent(key, now, window)
        if len(self._failures) >= self._max_keys:  # still full of live keys: drop the oldest half
            for key in list(self._failures)[: self._max_keys // 2]:
                del self._failures[key]


class RedisFailures:
    """The deployment's counts in Redis: a sorted set of failure times per key, expiring with
    the window; in this node's memory while Redis does not answer."""

    def __init__(self, client: Redis, *, prefix: str = "protolearn:login:", keep: int = 1000) -> None:
        self._client = client
        self._prefix = prefix
        self._keep = keep  # failures kept per key: more than any limit needs
        self._fallback = LocalFailures()
        self._down = False

    async def recent(self, keys: Sequence[str], now: float, window: float) -> list[list[float]]:
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.zremrangebyscore(self._prefix + key, "-inf", now - window)
                    pipe.zrange(self._prefix + key, 0, -1, withscores=True)
                replies = await pipe.execute()
        except (RedisError, OSError) as error:
            self._lost(error)
            return await self._fallback.recent(keys, now, window)
        self._back()
        return [[score for _member, score in entries] for entries in replies[1::2]]

    async def add(self, keys: Sequence[str], now: float, window: float) -> None:
        member = f"{now:.6f}:{uuid.uuid4().hex[:8]}"
        try:
            async with self._client.pipeline(transaction=False) as pipe:
                for key in keys:
                    pipe.zadd(self._prefix + key, {member: now})
                    pipe.zremrangebyrank(self._prefix + key, 0, -self._keep - 1)
                    pipe.expire(self._prefix + key, math.ceil(window) + 1)
                await pipe.execute()
        except (RedisError, OSError) as error:
            self._lost(error)
            await self._fallback.add(keys, now, window)

    async def forget(self, key: str) -> None:
        await self._fallback.forget(key)
        try:
            await self._client.delete(self._prefix + key)
        except (RedisError, OSError) as error:
            self._lost(error)

    def _lost(self, error: Exception) -> None:
        if not self._down:
            log.warning("login throttling: Redis unreachable (%s); counting on this node meanwhile", error)
        self._down = True

    def _back(self) -> None:
        if self._down:
            log.info("login throttling: Redis answers again; counting for every node")
        self._down = False


class LoginThrottle:
    def __init__(
        self,
        limits: LoginLimits,
        *,
        clock: Callable[[], float] = time.time,
        store: FailureStore | None = None,
    ) -> None:
        self._limits = limits
        self._clock = clock
        self._store: FailureStore = store or LocalFailures()

    async def check(self, email: str, address: str) -> None:
        """Raise ``RateLimited`` (with when to retry) if a count of this sign-in is used up."""
        now = self._clock()
        counts = self._counts(email, address)
        window = self._limits.window_seconds
        recent = await self._store.recent([key for key, _, _ in counts], now, window)
        for (_key, limit, whose), failures in zip(counts, recent, strict=True):
            _refuse_past(limit, failures, window, now, f"failed sign-ins {whose}")

    async def record_failure(self, email: str, address: str) -> None:
        keys = [key for key, _, _ in self._counts(email, address)]
        await self._store.add(keys, self._clock(), self._limits.window_seconds)

    async def record_success(self, email: str, address: str) -> None:
        """The right password from this address: its own mistakes are forgiven (not those made
        from elsewhere, nor the address's with other accounts)."""
        await self._store.forget(_pair(email, address))

    def _counts(self, email: str, address: str) -> tuple[tuple[str, int, str], ...]:
        limits = self._limits
        return (
            (_pair(email, address), limits.per_account_and_address, "for this account from here"),
            (f"account:{email}", limits.per_account, "for this account"),
            (f"address:{address}", limits.per_address, "from your network"),
        )


class RequestLimit:
    """At most ``limit`` requests per key (an address, a user) within a sliding window, counted
    in the same store as sign-in failures (shared by every node with Redis)."""

    def __init__(
        self,
        name: str,
        limit: int,
        window_seconds: float,
        what: str,
        *,
        store: FailureStore | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._name, self._limit, self._window, self._what = name, limit, window_seconds, what
        self._store: FailureStore = store or LocalFailures()
        self._clock = clock

    async def spend(self, key: str) -> None:
        """Count one request, or raise ``RateLimited`` (saying when to retry) past the limit."""
        now, counted = self._clock(), f"{self._name}:{key}"
        [recent] = await self._store.recent([counted], now, self._window)
        _refuse_past(self._limit, recent, self._window, now, self._what)
        await self._store.add([counted], now, self._window)


@dataclass(frozen=True, slots=True)
class RequestLimits:
    registration: RequestLimit  # per address
    ai: RequestLimit  # per user

    @classmethod
    def from_settings(cls, settings: Settings, store: FailureStore | None = None) -> RequestLimits:
        return cls(
            registration=RequestLimit(
                "register",
                settings.register_max_per_address,
                settings.register_window_seconds,
                "accounts made from your network",
                store=store,
            ),
            ai=RequestLimit(
                "ai",
                settings.ai_max_requests_per_user,
                settings.ai_window_seconds,
                "AI requests",
                store=store,
            ),
        )


def _refuse_past(limit: int, times: list[float], window: float, now: float, what: str) -> None:
    """RateLimited when ``times`` (oldest first, within the window) use up ``limit``: the retry
    comes when the oldest of the last ``limit`` leaves the window."""
    if len(times) >= limit:
        retry_after = times[len(times) - limit] + window - now
        raise RateLimited(f"too many {what}; try again in {_duration(retry_after)}", retry_after=retry_after)


def _pair(email: str, address: str) -> str:
    return f"account-address:{email}|{address}"


def _duration(seconds: float) -> str:
    if seconds <= 90:
        return f"{max(1, math.ceil(seconds))} seconds"
    return f"{math.ceil(seconds / 60)} minutes"
