"""Latency and error counts per AI provider, for ``GET /api/ai/health``. In process memory."""

from __future__ import annotations

import contextlib
import statistics
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from protolearn.ai.schemas import ProviderStatsOut
from protolearn.metrics import LLM_ERRORS, LLM_SECONDS

__all__ = ("ProviderStats",)

_WINDOW = 200  # latencies kept for the percentiles


@dataclass(slots=True)
class _Counters:
    calls: int = 0
    errors: int = 0
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=_WINDOW))
    by_operation: dict[str, int] = field(default_factory=dict)
    last_error: str | None = None
    last_error_at: datetime | None = None


class ProviderStats:
    def __init__(self) -> None:
        self._counters: dict[str, _Counters] = {}

    @contextlib.contextmanager
    def track(self, provider: str, operation: str) -> Iterator[None]:
        """Count one call of ``operation``; an exception leaving the block counts as an error."""
        counters = self._counters.setdefault(provider, _Counters())
        counters.calls += 1
        counters.by_operation[operation] = counters.by_operation.get(operation, 0) + 1
        started = time.perf_counter()
        try:
            yield
        except Exception as exc:
            counters.errors += 1
            LLM_ERRORS.labels(provider, operation).inc()
            counters.last_error = f"{operation}: {type(exc).__name__}: {exc}"[:500]
            counters.last_error_at = datetime.now(UTC)
            raise
        finally:
            elapsed = time.perf_counter() - started
            counters.latencies_ms.append(elapsed * 1000)
            LLM_SECONDS.labels(provider, operation).observe(elapsed)

    def snapshot(self) -> dict[str, ProviderStatsOut]:
        found = {}
        for provider, c in self._counters.items():
            latencies = sorted(c.latencies_ms)
            found[provider] = ProviderStatsOut(
                calls=c.calls,
                errors=c.errors,
                error_rate=round(c.errors / c.calls, 4) if c.calls else 0.0,
                last_latency_ms=round(c.latencies_ms[-1], 1) if latencies else None,
                p50_latency_ms=round(statistics.median(latencies), 1) if latencies else None,
                p95_latency_ms=round(latencies[int(0.95 * (len(latencies) - 1))], 1) if latencies else None,
                by_operation=dict(c.by_operation),
                last_error=c.last_error,
                last_error_at=c.last_error_at,
            )
        return found
