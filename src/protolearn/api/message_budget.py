"""A live socket's message budget: a token bucket, and the refusals that make a flood.

Pure arithmetic on the times it is given, so one socket's budget costs a few floats and the
tests need no clock. Nothing here knows what the messages are.
"""

from __future__ import annotations

from enum import Enum

__all__ = ("MessageBudget", "Verdict")


class Verdict(Enum):
    ACCEPTED = "accepted"
    REFUSED = "refused"  # over the budget: answer it, do not act on it
    FLOODING = "flooding"  # refused too often: close the socket


class MessageBudget:
    """`burst` messages at once, then `per_second`; a message beyond is refused. Refusals are
    forgiven at the same rate, so a client that slows down is fine again; one with more than
    `flood_after` refusals outstanding keeps sending far past its budget and is a flood."""

    __slots__ = ("_at", "_refusals", "_tokens", "burst", "flood_after", "per_second")

    def __init__(self, *, burst: int, per_second: float, flood_after: int, now: float) -> None:
        self.burst = burst
        self.per_second = per_second
        self.flood_after = flood_after
        self._tokens = float(burst)
        self._refusals = 0.0
        self._at = now

    def spend(self, now: float) -> Verdict:
        """One message, arrived at `now` (monotonic seconds)."""
        regained = max(0.0, now - self._at) * self.per_second
        self._at = max(self._at, now)
        self._tokens = min(float(self.burst), self._tokens + regained)
        self._refusals = max(0.0, self._refusals - regained)
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return Verdict.ACCEPTED
        self._refusals += 1.0
        return Verdict.FLOODING if self._refusals > self.flood_after else Verdict.REFUSED
