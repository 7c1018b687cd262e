"""The root of ProtoLearn's domain exceptions.

Rooms subclass these (``AttemptClosed(Conflict)``); ``api/errors.py`` maps each base to an
HTTP status once, so no domain code knows about HTTP.
"""

from __future__ import annotations

from typing import Any

__all__ = (
    "Conflict",
    "InvalidInput",
    "NotFound",
    "PermissionDenied",
    "ProtoLearnError",
    "RateLimited",
    "Unauthenticated",
)


class ProtoLearnError(Exception):
    """A failure the caller can act on; ``detail`` is shown to them as is."""

    title = "Request failed"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class InvalidInput(ProtoLearnError):
    title = "Invalid input"


class Unauthenticated(ProtoLearnError):
    title = "Not authenticated"


class PermissionDenied(ProtoLearnError):
    title = "Forbidden"


class NotFound(ProtoLearnError):
    title = "Not found"


class Conflict(ProtoLearnError):
    title = "Conflict"


class RateLimited(ProtoLearnError):
    title = "Too many requests"

    def __init__(self, detail: str, retry_after: float) -> None:
        super().__init__(detail, retry_after=max(1, round(retry_after)))
        self.retry_after = max(1, round(retry_after))
