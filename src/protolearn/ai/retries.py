"""The retry rules every model provider follows, chat and OCR alike.

A failure worth retrying (time-out, refused connection, HTTP 429 or 5xx) is a ``TransientFailure``
and is tried again after a backoff that doubles from half a second up to eight, or after the
server's own ``retry-after`` when it gave one; a server asking to wait longer than ``MAX_WAIT_S``
is not waited for. Any other HTTP status is ``ProviderUnavailable`` at once: retrying cannot help.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import httpx

from protolearn.ai.errors import ProviderUnavailable

__all__ = ("MAX_WAIT_S", "TransientFailure", "backoff_s", "failure_of_status", "retry_after")

_BACKOFF_FIRST_S = 0.5
_BACKOFF_MAX_S = 8.0
MAX_WAIT_S = _BACKOFF_MAX_S * 4


@dataclass(frozen=True, slots=True)
class TransientFailure(Exception):
    """A failure worth retrying; ``retry_after`` is the server's own wait, when it gave one."""

    reason: str
    retry_after: float | None = None


def retry_after(headers: httpx.Headers) -> float | None:
    for name, scale in (("retry-after-ms", 0.001), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                seconds = float(value) * scale
            except ValueError:
                continue
            if math.isfinite(seconds) and seconds >= 0:
                return seconds
    return None


def failure_of_status(provider: str, response: httpx.Response) -> Exception:
    """What a non-200 answer means: a ``TransientFailure`` to retry, or ``ProviderUnavailable``."""
    status = response.status_code
    if status == 429 or status >= 500:
        return TransientFailure(f"HTTP {status}", retry_after(response.headers))
    return ProviderUnavailable(
        f"the {provider} provider refused the request (HTTP {status})", provider=provider
    )


def backoff_s(provider: str, attempt: int, failure: TransientFailure, max_retries: int) -> float:
    """How long to wait before trying again after ``failure`` on try ``attempt`` (from 0), or
    ``ProviderUnavailable`` when the tries are spent or the server asks to wait too long."""
    if attempt >= max_retries:
        raise ProviderUnavailable(
            f"the {provider} provider failed {attempt + 1} time(s): {failure.reason}",
            provider=provider,
            retry_after=failure.retry_after,
        ) from failure
    delay = failure.retry_after
    if delay is None:
        return float(min(_BACKOFF_FIRST_S * 2.0**attempt, _BACKOFF_MAX_S))
    if delay > MAX_WAIT_S:
        raise ProviderUnavailable(
            f"the {provider} provider asks to wait {delay:.0f} s", provider=provider, retry_after=delay
        ) from failure
    return delay
