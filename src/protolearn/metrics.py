"""The process's own Prometheus instruments: what happens, counted where it happens.

Each room records its events here (a violation stored, a vision batch run, an LLM call, a
negotiation, a background job) and knows nothing else of Prometheus. State that is read rather
than counted (live publishers, the database pool, frames tapped so far) is collected when
``/metrics`` is scraped, from the services themselves (api/metrics.py).

The instruments live in the client's default registry, as Litestar's request middleware's do:
one process, one set of counters, however many apps it builds (the tests build many).
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

__all__ = (
    "ANALYSIS_LAG_SECONDS",
    "BACKGROUND_JOBS",
    "INFERENCE_BATCH_SIZE",
    "INFERENCE_SECONDS",
    "LLM_ERRORS",
    "LLM_SECONDS",
    "NEGOTIATIONS",
    "PREFIX",
    "VIOLATIONS",
)

PREFIX = "protolearn"

VIOLATIONS = Counter(
    f"{PREFIX}_violations",
    "Violations stored, by type and by who saw it (server or browser)",
    ["type", "source"],
)
INFERENCE_SECONDS = Histogram(
    f"{PREFIX}_inference_seconds",
    "Time of one vision batch on a worker thread, detector to pose",
    buckets=(0.002, 0.005, 0.01, 0.02, 0.035, 0.05, 0.075, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5),
)
# From a frame's arrival to the observation the rules get: what an alert waits beyond its hold.
# A node that falls behind (more streams than its cores analyse) shows here first: its alerts
# come late (benchmarks/proctoring_latency.py: late_no_face), not false.
ANALYSIS_LAG_SECONDS = Histogram(
    f"{PREFIX}_analysis_lag_seconds",
    "From a video frame's arrival to its observation reaching the rules",
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0),
)
INFERENCE_BATCH_SIZE = Histogram(
    f"{PREFIX}_inference_batch_size",
    "Frames per vision batch",
    buckets=(1, 2, 3, 4, 6, 8, 12, 16, 32, 64),
)
NEGOTIATIONS = Counter(
    f"{PREFIX}_webrtc_negotiations",
    "WebRTC offers and answers handled on the live channel, by role and outcome (ok or failed)",
    ["role", "outcome"],
)
LLM_SECONDS = Histogram(
    f"{PREFIX}_llm_request_seconds",
    "Calls to the AI provider, by provider and operation, errors included",
    ["provider", "operation"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1, 2, 4, 8, 15, 30, 60, 120),
)
LLM_ERRORS = Counter(
    f"{PREFIX}_llm_errors",
    "Calls to the AI provider that failed, by provider and operation",
    ["provider", "operation"],
)
BACKGROUND_JOBS = Counter(
    f"{PREFIX}_background_jobs",
    "Background work items finished, by job (auto_submit, extraction, retention) and outcome",
    ["job", "outcome"],
)
