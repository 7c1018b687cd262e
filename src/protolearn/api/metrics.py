"""``GET /metrics``: the process's instruments (protolearn.metrics, Litestar's request metrics)
and, read at each scrape, the state of this app's services: live media, frames through the
proctoring pipeline, the database pool, background work.

Not an API operation (no schema entry, no token): it is scraped on the nodes' own network. The
reverse proxy in front of a deployment does not pass it through (deploy/Caddyfile).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

from litestar import Request, get
from litestar.enums import ScopeType
from litestar.plugins.prometheus import PrometheusConfig
from litestar.response import Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from protolearn.metrics import PREFIX

__all__ = ("AppStateCollector", "metrics", "request_metrics")


def request_metrics() -> PrometheusConfig:
    """Request counts and latency histograms per route template (``/api/tests/{test_id:int}``),
    HTTP only: a live-channel socket's lifetime is not a latency."""
    return PrometheusConfig(
        app_name=PREFIX, prefix=PREFIX, group_path=True, scopes={ScopeType.HTTP}, exclude=["^/metrics$"]
    )


class AppStateCollector(Collector):
    """Reads one app's services when scraped; nothing is counted twice or kept here."""

    def __init__(self, state: Any) -> None:
        self._state = state

    def collect(self) -> Iterator[Metric]:
        state = self._state
        media, proctoring = state.media, state.proctoring
        yield _gauge("live_publishers", "Students whose media is flowing to this node", media.publisher_count)
        yield _gauge("live_viewers", "Teacher viewer connections on this node", media.viewer_count)
        yield _gauge("proctored_attempts", "Attempts proctored on this node", len(proctoring.attempts))
        yield _counter("media_frames_forwarded", "Encoded frames sent to viewers", media.stats.forwarded)
        yield _counter("media_frames_held_back", "Frames held back from paused tiles", media.stats.held_back)
        yield from self._frames(proctoring.pipeline)
        yield from self._pool(state.engine)
        extractor = state.ai_tools.extractor
        yield _gauge("background_jobs_queued", "Extractions queued or running here", extractor.queued)
        failures: Counter[str] = Counter()
        for counts in (proctoring.task_failures, proctoring.pipeline.stats.task_failures, extractor.failures):
            failures.update(counts)
        pipeline = proctoring.pipeline
        if pipeline.tap is not None:
            failures.update(pipeline.tap.stats.task_failures)
        if pipeline.batcher is not None:
            failures.update(pipeline.batcher.task_failures)
        family = CounterMetricFamily(
            f"{PREFIX}_background_task_failures",
            "Background tasks that raised and were restarted, by task",
            labels=["task"],
        )
        for task, count in sorted(failures.items()):
            family.add_metric([task], count)
        yield family
        yield _counter("events_delivered", "Live events delivered to listeners here", state.bus.delivered)
        if state.cluster is not None:
            nodes = state.cluster.nodes
            yield _gauge("live_nodes", "Nodes heard of at the last heartbeat, this one too", len(nodes.live))
            yield _gauge("redis_reachable", "1 while Redis answers the heartbeat", int(nodes.reachable))

    @staticmethod
    def _frames(pipeline: Any) -> Iterator[Metric]:
        tap, batcher = pipeline.tap, pipeline.batcher
        decoded = CounterMetricFamily(
            f"{PREFIX}_frames_decoded", "Video frames decoded for analysis, by track", labels=["track"]
        )
        copy = tap.stats.analysis_decoded if tap else 0
        decoded.add_metric(["camera"], (tap.stats.decoded if tap else 0) - copy)
        decoded.add_metric(["copy"], copy)
        decoded.add_metric(["camera_keyframe"], tap.stats.checked if tap else 0)
        yield decoded
        yield _counter("frames_tapped", "Decoded frames taken for analysis", tap.stats.tapped if tap else 0)
        analysed = batcher.stats.analysed if batcher else 0
        yield _counter("frames_analysed", "Frames the vision core analysed", analysed)
        scans = CounterMetricFamily(
            f"{PREFIX}_frames_room_scanned",
            "Frames the full-range detector ran on, by why",
            labels=["reason"],
        )
        for reason, count in (batcher.stats.room_scans if batcher else {}).items():
            scans.add_metric([reason], count)
        yield scans
        dropped = CounterMetricFamily(
            f"{PREFIX}_frames_dropped", "Frames not analysed, by why", labels=["reason"]
        )
        reasons = {
            "decoder_behind": tap.stats.dropped_encoded if tap else 0,
            "analysis_behind": tap.stats.dropped_tapped if tap else 0,
            "unusable": sum(tap.stats.problems.values()) if tap else 0,
            "decode_error": tap.stats.decode_errors if tap else 0,
            "batcher_backlog": batcher.stats.dropped if batcher else 0,
            "analysis_failed": batcher.stats.failed if batcher else 0,
            # A camera picture sooner than its stream's next room scan: not needed, not a fault.
            "room_scan_not_due": batcher.stats.scans_not_due if batcher else 0,
            # An empty room's picture that had not changed: its last finding stands.
            "still_empty_room": batcher.stats.stills if batcher else 0,
        }
        for reason, count in reasons.items():
            dropped.add_metric([reason], count)
        yield dropped

    @staticmethod
    def _pool(engine: Any) -> Iterator[Metric]:
        pool = engine.pool
        connections = GaugeMetricFamily(
            f"{PREFIX}_db_pool_connections", "Database connections of the pool, by state", labels=["state"]
        )
        for state, method in (("checked_out", "checkedout"), ("idle", "checkedin"), ("overflow", "overflow")):
            if hasattr(pool, method):
                connections.add_metric([state], max(0, getattr(pool, method)()))
        yield connections
        if hasattr(pool, "size"):
            yield _gauge("db_pool_size", "Connections the pool keeps", pool.size())


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=value)


def _counter(name: str, documentation: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(f"{PREFIX}_{name}", documentation, value=value)


@get("/metrics", exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def metrics(request: Request[Any, Any, Any]) -> Response[bytes]:
    """Prometheus's text format: the process's families, then this app's."""
    registry: CollectorRegistry = request.app.state.metrics_registry
    return Response(generate_latest(REGISTRY) + generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
