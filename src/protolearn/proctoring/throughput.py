"""How fast the server analyses frames now: a window of recent analyses, read by the admin's stats."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

__all__ = ("AnalysisMeter",)

WINDOW_S = 10.0
MAX_SAMPLES = 4096  # more frames than a loaded server analyses in the window


class AnalysisMeter:
    """record() per analysed frame (cheap: one append); rate() and latency_ms() over the window."""

    def __init__(self, clock: Callable[[], float] = time.monotonic, window_s: float = WINDOW_S) -> None:
        self.clock = clock
        self.window_s = window_s
        self.total = 0
        self._samples: deque[tuple[float, float]] = deque(maxlen=MAX_SAMPLES)

    def record(self, latency_ms: float) -> None:
        self.total += 1
        self._samples.append((self.clock(), latency_ms))

    def _recent(self) -> list[float]:
        since = self.clock() - self.window_s
        return [latency for at, latency in self._samples if at >= since]

    def rate(self) -> float:
        """Frames analysed per second over the window."""
        return round(len(self._recent()) / self.window_s, 2)

    def latency_ms(self) -> float | None:
        """Mean inference latency over the window; None when nothing was analysed in it."""
        recent = self._recent()
        return round(sum(recent) / len(recent), 1) if recent else None
