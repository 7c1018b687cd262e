"""What proctoring tells people live: typed events on the bus, never a database write.

Teachers watching an attempt get `student-status` (connection, camera, what the camera sees)
and `violation` (when it starts, and again when it ends with its clip); the student gets
`violation-received` when one starts. Violations are announced only after they are stored.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime

from protolearn.events.bus import EventBus, student_topic, teachers_topic
from protolearn.events.messages import (
    LastObservation,
    StudentStatus,
    ViolationEvent,
    ViolationNotice,
    ViolationReceived,
    ViolationSummary,
)
from protolearn.proctoring.rules import ViolationSpan
from protolearn.vision.schemas import Observation

__all__ = ("Announcer", "iso", "wall_time")


def wall_time(monotonic: float) -> float:
    """A time.monotonic() reading as time.time()."""
    return time.time() - time.monotonic() + monotonic


def iso(wall_seconds: float) -> str:
    return datetime.fromtimestamp(wall_seconds, UTC).isoformat().replace("+00:00", "Z")


class Announcer:
    def __init__(self, bus: EventBus) -> None:
        self.bus = bus

    def status(
        self,
        attempt_id: int,
        *,
        live: bool,
        camera_ok: bool,
        open_violations: list[str],
        observation: Observation | None,
    ) -> None:
        last = None if observation is None else LastObservation(len(observation.faces), observation.dark)
        self.bus.publish(
            teachers_topic(attempt_id),
            StudentStatus(
                attempt_id=attempt_id,
                connected=live,
                camera_ok=camera_ok,
                open_violations=open_violations,
                last_observation=last,
            ),
        )

    def violation(
        self, attempt_id: int, row: int, span: ViolationSpan, ended: float | None, evidence_id: int | None
    ) -> None:
        """A stored violation started (ended None) or ended (monotonic times)."""
        started = iso(wall_time(span.started))
        summary = ViolationSummary(
            id=row,
            attempt_id=attempt_id,
            type=span.type,
            severity=span.severity.value,
            source="server",
            description=span.detail,
            timestamp=started,
            ended_at=None if ended is None else iso(wall_time(ended)),
            evidence_id=evidence_id,
        )
        self.bus.publish(teachers_topic(attempt_id), ViolationEvent(violation=summary))
        if ended is None:
            notice = ViolationNotice(id=row, type=span.type, severity=span.severity.value, timestamp=started)
            self.bus.publish(student_topic(attempt_id), ViolationReceived(violation=notice))
