"""AnalysisMeter: frames per second and mean latency over a sliding window."""

from __future__ import annotations

from protolearn.proctoring.throughput import AnalysisMeter


def test_rate_and_latency_cover_the_window_only() -> None:
    now = [100.0]
    meter = AnalysisMeter(lambda: now[0], window_s=10.0)
    assert meter.rate() == 0 and meter.latency_ms() is None
    for latency in (10.0, 20.0, 30.0, 40.0):
        meter.record(latency)
        now[0] += 1.0
    assert meter.rate() == 0.4
    assert meter.latency_ms() == 25.0
    now[0] += 7.5  # the first two samples fall out of the window
    assert meter.rate() == 0.2 and meter.latency_ms() == 35.0
    now[0] += 60.0
    assert meter.rate() == 0 and meter.latency_ms() is None
    assert meter.total == 4
