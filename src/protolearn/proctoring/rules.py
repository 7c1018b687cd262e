"""Server-side proctoring rules: observations in, violations (with a start and an end) out.

Each rule is a condition over the latest sample (an observation of a frame, an audio level, the
stream's state) with hysteresis: it must hold for `hold` seconds, with no break as long as
`release`, before it is a violation (a face missing from one frame is not, and a face seen in
one frame does not restart the count), and the violation ends only once the
condition has been false for `release` seconds, so a condition that persists, or flickers, is
one violation, not one per frame. Samples further apart than `max_gap` (the stream stalled)
restart the count: absence of evidence is not evidence.

Severity is the rule's base severity, one step higher once the violation has lasted
`escalate_after` seconds (HIGH -> CRITICAL), see SEVERITY_BY_RULE. Pure: no clock, no I/O;
times are seconds on any one monotonic clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from protolearn.proctoring_settings import RuleThresholds
from protolearn.store.violations import Severity
from protolearn.vision.schemas import Observation

__all__ = ("SEVERITY_BY_RULE", "RuleEngine", "ViolationSpan")


SEVERITY_BY_RULE: dict[str, Severity] = {
    "no_face": Severity.MEDIUM,
    "camera_obstructed": Severity.MEDIUM,
    "multiple_faces": Severity.HIGH,
    "looking_away": Severity.LOW,
    "voice_detected": Severity.MEDIUM,
    "camera_lost": Severity.HIGH,
    "video_unusable": Severity.HIGH,
}
_ESCALATION = {
    Severity.LOW: Severity.MEDIUM,
    Severity.MEDIUM: Severity.HIGH,
    Severity.HIGH: Severity.CRITICAL,
    Severity.CRITICAL: Severity.CRITICAL,
}


@dataclass(frozen=True, slots=True)
class ViolationSpan:
    """A violation: started when its condition began (not when the hold ran out)."""

    type: str
    started: float
    ended: float | None  # None while it goes on
    severity: Severity
    detail: str


@dataclass(slots=True)
class _Rule:
    name: str
    hold: float
    since: float | None = None  # first sample of the current run of true samples
    last_true: float | None = None
    last_sample: float | None = None
    open: ViolationSpan | None = None
    detail: str = ""


SpanSink = Callable[[ViolationSpan], None]
# The rules that analysed frames decide (and more frames decide sooner).
PICTURE_RULES = frozenset({"no_face", "camera_obstructed", "multiple_faces", "looking_away"})


class RuleEngine:
    """One attempt's rules. on_start(span) fires when a violation begins, on_end(span) when it
    ends (with its final severity)."""

    def __init__(self, thresholds: RuleThresholds, on_start: SpanSink, on_end: SpanSink) -> None:
        self.thresholds = thresholds
        self._on_start = on_start
        self._on_end = on_end
        t = thresholds
        self._last_observed: float | None = None
        self._stalled_since_count = False  # frames stalled since multiple_faces' last sample
        self._last_faces = 0  # faces in the last analysed frame
        self._rules = {
            rule.name: rule
            for rule in (
                _Rule("no_face", t.no_face_seconds),
                _Rule("camera_obstructed", t.camera_obstructed_seconds),
                _Rule("multiple_faces", t.multiple_faces_seconds),
                _Rule("looking_away", t.looking_away_seconds),
                _Rule("voice_detected", t.voice_seconds),
                _Rule("camera_lost", 0.0),
                _Rule("video_unusable", t.video_unusable_seconds),
            )
        }

    def observe(self, at: float, observation: Observation) -> None:
        """One analysed frame."""
        faces = observation.faces
        self._last_faces = len(faces)
        t = self.thresholds
        away = ""
        if faces:
            main = faces[0]
            if abs(main.yaw) > t.max_head_yaw_degrees:
                away = f"head turned {main.yaw:+.0f} deg"
            elif abs(main.pitch) > t.max_head_pitch_degrees:
                away = f"head tilted {main.pitch:+.0f} deg"
            elif main.gaze is not None and abs(main.gaze.yaw) > t.max_gaze_yaw_degrees:
                away = f"eyes turned {main.gaze.yaw:+.0f} deg"
        self._sample("no_face", at, not faces and not observation.dark, "no face in view")
        self._sample("camera_obstructed", at, not faces and observation.dark, "too dark to see")
        # Other faces are looked for on room scans, seconds apart (a far face, someone behind
        # the student, only they see; the frames between follow the student's face alone):
        # the frames between can confirm a second face but never deny one, and the run is
        # broken by a stall of the frames, not by the time between scans.
        stalled = self._last_observed is not None and at - self._last_observed > t.max_gap_seconds
        self._stalled_since_count |= stalled
        self._last_observed = at
        if observation.room_scanned or len(faces) >= 2:
            self._sample(
                "multiple_faces",
                at,
                len(faces) >= 2,
                f"{len(faces)} faces in view",
                stalled=self._stalled_since_count,
            )
            self._stalled_since_count = False
        # Where the head faces the camera and the eyes were not read this frame (they are read
        # about once a second, on every frame while looking_away decides), it tells nothing.
        if away or not faces or observation.gaze_read or faces[0].gaze is not None:
            self._sample("looking_away", at, bool(away), away)

    def hear(self, at: float, level: int | None) -> None:
        """The microphone's RFC 6464 level (None: no audio information)."""
        speaking = level is not None and level <= self.thresholds.voice_level
        self._sample("voice_detected", at, speaking, f"speech-level audio ({level} -dBov)")

    def video(self, at: float, usable: bool, detail: str, since: float | None = None) -> None:
        """Whether a live stream gave a picture that can be analysed lately (undecodable
        frames, a size out of bounds, a frozen picture: not); since: when it stopped."""
        self._sample("video_unusable", at, not usable, detail, since)

    def stream_lost(self, at: float, last_media: float) -> None:
        """The camera stream stopped; the violation starts at its last media."""
        rule = self._rules["camera_lost"]
        if rule.open is None:
            self._open(rule, last_media, "no video from the camera")
        # While there is no stream, nothing else can be judged.
        for name, rule in self._rules.items():
            if name != "camera_lost":
                self._close(rule, at)

    def stream_live(self, at: float) -> None:
        self._close(self._rules["camera_lost"], at)

    def close(self, at: float) -> None:
        """The attempt ended: every open violation ends now."""
        for rule in self._rules.values():
            self._close(rule, at)

    @property
    def deciding(self) -> bool:
        """A rule judged from the picture has begun a run that is not yet a violation: the
        frames that follow decide when, or whether, it opens. multiple_faces only while the last
        frame showed several faces (between room scans, frames that follow the student alone
        decide nothing)."""
        return self.decides_at is not None

    @property
    def decides_at(self) -> float | None:
        """When the first of the deciding rules opens if its condition holds on (its run's start
        plus its hold); None when none is deciding."""
        return min(
            (
                rule.since + rule.hold
                for name, rule in self._rules.items()
                if name in PICTURE_RULES
                and rule.since is not None
                and rule.open is None
                and (name != "multiple_faces" or self._last_faces >= 2)
            ),
            default=None,
        )

    @property
    def open_violations(self) -> list[ViolationSpan]:
        return [rule.open for rule in self._rules.values() if rule.open is not None]

    def _sample(
        self,
        name: str,
        at: float,
        condition: bool,
        detail: str,
        since: float | None = None,
        stalled: bool | None = None,
    ) -> None:
        """since: when the condition began, where the caller knows it better than the samples;
        stalled: whether the input stalled since the rule's last sample, where the caller knows
        it better than the time between samples."""
        rule = self._rules[name]
        gap = (
            stalled
            if stalled is not None
            else (rule.last_sample is not None and at - rule.last_sample > self.thresholds.max_gap_seconds)
        )
        rule.last_sample = at
        if gap:
            rule.since = None  # a stall breaks the run: the condition must hold again
            if rule.open is not None and rule.last_true is not None:
                self._close(rule, rule.last_true)
        if condition:
            rule.last_true = at
            rule.detail = detail or rule.detail
            if rule.since is None:
                rule.since = at if since is None else min(since, at)
            if rule.open is None and at - rule.since >= rule.hold:
                self._open(rule, rule.since, rule.detail)
            return
        # Hysteresis both ways: a run survives a contrary blip shorter than the release time (one
        # phantom face in a black frame must not restart a camera_obstructed hold).
        if rule.last_true is None or at - rule.last_true >= self.thresholds.release_seconds:
            rule.since = None
        if (
            rule.open is not None
            and rule.last_true is not None
            and at - rule.last_true >= self.thresholds.release_seconds
        ):
            self._close(rule, rule.last_true)

    def _open(self, rule: _Rule, started: float, detail: str) -> None:
        rule.open = ViolationSpan(rule.name, started, None, SEVERITY_BY_RULE[rule.name], detail)
        self._on_start(rule.open)

    def _close(self, rule: _Rule, ended: float) -> None:
        span = rule.open
        if span is None:
            return
        rule.open = None
        rule.since = None
        ended = max(ended, span.started)
        severity = span.severity
        if ended - span.started >= self.thresholds.escalate_after_seconds:
            severity = _ESCALATION[severity]
        self._on_end(ViolationSpan(span.type, span.started, ended, severity, span.detail))
