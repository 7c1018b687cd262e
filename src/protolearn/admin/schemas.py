"""Wire types of ``GET /api/admin/stats``."""

from __future__ import annotations

from protolearn.ai.schemas import AiHealth
from protolearn.wire import Response

__all__ = ("AdminStats", "LiveStats", "TestCounts", "UserCounts")


class UserCounts(Response, frozen=True):
    total: int
    active: int
    by_role: dict[str, int]  # every role, 0 when it has no users


class TestCounts(Response, frozen=True):
    total: int
    published: int


class LiveStats(Response, frozen=True):
    publishers: int  # students whose camera stream is flowing to the server now
    viewers: int  # teachers' viewing connections
    proctored_attempts: int  # attempts whose video the server is analysing
    frames_per_second: float  # frames analysed per second, over the last few seconds
    inference_latency_ms: float | None  # mean, over the same window; null when nothing was analysed
    # Audio and video frames sent on to viewers since the server started, and those not sent
    # because the viewer paused that stream (a tile out of view on a teacher's monitor).
    frames_forwarded: int
    frames_held_back: int


class AdminStats(Response, frozen=True):
    # The database's counts are null when it does not answer (database: "unavailable").
    users: UserCounts | None
    tests: TestCounts | None
    attempts_in_progress: int | None
    violations_last_hour: int | None
    live: LiveStats
    database: str  # "ok" or "unavailable"
    ai: AiHealth


class ErasureReport(Response, frozen=True):
    """What erasing a user deleted; the account stays, anonymous and deactivated."""

    user_id: int
    attempts: int
    answers: int
    violations: int
    clips: int
