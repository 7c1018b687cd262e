"""A test's proctoring settings: what the camera must show and the server-side rules' thresholds.

A leaf module: assessment/ stores and validates these per test, proctoring/ applies them, and
neither has to import the other for it. Nothing here but wire types and their defaults.
"""

from __future__ import annotations

from typing import Annotated

import msgspec

__all__ = ("ProctoringSettings", "RuleThresholds")

Seconds = Annotated[float, msgspec.Meta(gt=0, le=3600)]
Degrees = Annotated[float, msgspec.Meta(gt=0, le=180)]
_AnalysisFps = Annotated[float, msgspec.Meta(gt=0, le=30)]


class RuleThresholds(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Per-test settings; the defaults are what a school would accept out of the box."""

    no_face_seconds: Seconds = 3.0
    camera_obstructed_seconds: Seconds = 3.0
    multiple_faces_seconds: Seconds = 2.0
    looking_away_seconds: Seconds = 4.0
    max_head_yaw_degrees: Degrees = 35.0
    max_head_pitch_degrees: Degrees = 30.0
    max_gaze_yaw_degrees: Degrees = 25.0
    voice_seconds: Seconds = 3.0
    # RFC 6464 level (-dBov) at or under which the microphone hears speech (127 = silence).
    voice_level: Annotated[int, msgspec.Meta(ge=0, le=127)] = 45
    # A live stream whose video cannot be analysed (undecodable, a size out of bounds, a
    # picture frozen) for this long is a violation of its own: the camera shows nothing usable.
    video_unusable_seconds: Seconds = 4.0
    release_seconds: Seconds = 1.0  # a condition must be gone this long for its violation to end
    max_gap_seconds: Seconds = 2.0
    escalate_after_seconds: Seconds = 30.0


class ProctoringSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    camera_required: bool = True
    microphone_required: bool = True
    analysis_fps: _AnalysisFps = 2.0
    # The server-side rules' thresholds for this test.
    rules: RuleThresholds = msgspec.field(default_factory=RuleThresholds)
    # End an attempt by itself after this many critical violations (None: never).
    auto_terminate_after_critical: Annotated[int, msgspec.Meta(ge=1, le=100)] | None = None
