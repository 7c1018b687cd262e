"""Rules with hysteresis, on synthetic observation timelines at 2 frames per second."""

from __future__ import annotations

from collections.abc import Callable

import msgspec
import pytest

from protolearn.proctoring.rules import RuleEngine, ViolationSpan
from protolearn.proctoring_settings import RuleThresholds
from protolearn.store.violations import Severity
from protolearn.vision.schemas import Face, Gaze, Observation

STEP = 0.5  # 2 analysed frames per second


def face(yaw: float = 0.0, pitch: float = 0.0, gaze_yaw: float | None = 0.0) -> Face:
    return Face(
        box=(100.0, 100.0, 100.0, 100.0),
        score=0.9,
        keypoints=((0.0, 0.0),) * 6,
        yaw=yaw,
        pitch=pitch,
        roll=0.0,
        gaze=None if gaze_yaw is None else Gaze(yaw=gaze_yaw, pitch=0.0),
        eyes_visible=True,
    )


def seen(*faces: Face, dark: bool = False, room_scanned: bool = True) -> Observation:
    return Observation(
        faces=faces,
        brightness=5.0 if dark else 110.0,
        dark=dark,
        room_scanned=room_scanned,
        latency_ms=5.0,
        width=640,
        height=480,
    )


class Recorder:
    def __init__(self, thresholds: RuleThresholds | None = None) -> None:
        self.started: list[ViolationSpan] = []
        self.ended: list[ViolationSpan] = []
        self.engine = RuleEngine(thresholds or RuleThresholds(), self.started.append, self.ended.append)

    def play(self, seconds: float, frame: Callable[[float], Observation], start: float = 0.0) -> float:
        at = start
        while at < start + seconds - 1e-9:
            self.engine.observe(at, frame(at))
            at += STEP
        return at


def test_a_face_always_present_is_never_a_violation() -> None:
    rules = Recorder()
    end = rules.play(120, lambda _: seen(face(yaw=10, gaze_yaw=5)))
    rules.engine.close(end)
    assert rules.started == rules.ended == []


def test_a_face_gone_for_five_seconds_is_one_no_face_with_its_start_and_end() -> None:
    rules = Recorder()
    rules.play(60, lambda at: seen() if 10 <= at < 15 else seen(face()))
    [violation] = rules.ended
    assert violation.type == "no_face"
    assert (violation.started, violation.ended) == (10.0, 14.5)
    assert violation.severity is Severity.MEDIUM
    assert [s.type for s in rules.started] == ["no_face"]


def test_short_absences_and_flicker_do_not_multiply_violations() -> None:
    rules = Recorder()
    # Gone 2 s: under the 3 s hold. Then gone 10 s with one frame showing a face halfway.
    rules.play(60, lambda at: seen() if (5 <= at < 7) or (20 <= at < 30 and at != 25) else seen(face()))
    assert [(v.type, v.started, v.ended) for v in rules.ended] == [("no_face", 20.0, 29.5)]


def test_darkness_is_an_obstructed_camera_not_an_empty_seat() -> None:
    rules = Recorder()
    rules.play(20, lambda at: seen(dark=True) if 5 <= at < 12 else seen(face()))
    assert [v.type for v in rules.ended] == ["camera_obstructed"]


def test_a_far_face_only_the_room_scan_sees_is_multiple_faces_between_scans() -> None:
    # The room scan runs on one frame in three; the other frames see the student alone.
    rules = Recorder(RuleThresholds(release_seconds=0.5))
    rules.play(
        30,
        lambda at: (
            seen(face(), face())
            if 5 <= at < 20 and round(at / STEP) % 3 == 0
            else seen(face(), room_scanned=round(at / STEP) % 3 == 0)
        ),
    )
    [violation] = rules.ended
    assert violation.type == "multiple_faces"
    assert violation.started == 6.0 and violation.ended == 19.5


def test_room_scans_seconds_apart_still_hold_multiple_faces_and_a_stall_breaks_the_run() -> None:
    # Scans every 3 s (one frame in six), longer than the 2 s stall limit between samples.
    def frame(at: float) -> Observation:
        scanned = round(at / STEP) % 6 == 0
        if 3 <= at < 20 and scanned:
            return seen(face(), face())
        return seen(face(), room_scanned=scanned)

    rules = Recorder()
    rules.play(30, frame)
    [violation] = rules.ended
    assert (violation.type, violation.started, violation.ended) == ("multiple_faces", 3.0, 18.0)

    # The same, but the frames stop for 2.5 s after the first sighting: the run starts again.
    stalled = Recorder()
    stalled.play(3.5, frame)
    stalled.play(30, frame, start=6.0)
    [violation] = stalled.ended
    assert violation.started == 6.0


def test_a_second_face_for_two_seconds_is_multiple_faces() -> None:
    rules = Recorder()
    rules.play(20, lambda at: seen(face(), face()) if 5 <= at < 8 else seen(face()))
    [violation] = rules.ended
    assert (violation.type, violation.severity, violation.started) == ("multiple_faces", Severity.HIGH, 5.0)
    assert violation.detail == "2 faces in view"


@pytest.mark.parametrize(
    ("away", "detail"),
    [
        (face(yaw=50), "head turned +50 deg"),
        (face(pitch=-40), "head tilted -40 deg"),
        (face(gaze_yaw=-30), "eyes turned -30 deg"),
    ],
)
def test_looking_away_by_head_or_eyes_for_four_seconds(away: Face, detail: str) -> None:
    rules = Recorder()
    rules.play(30, lambda at: seen(away) if 5 <= at < 11 else seen(face()))
    rules.play(30, lambda at: seen(away) if 40 <= at < 43 else seen(face()), start=30)  # 3 s: under the hold
    [violation] = rules.ended
    assert (violation.type, violation.detail, violation.severity) == ("looking_away", detail, Severity.LOW)


def test_speech_level_audio_for_three_seconds_is_voice_detected() -> None:
    rules = Recorder()
    for n in range(40):
        at = n * 0.25
        rules.engine.hear(at, 20 if 2 <= at < 6 else 127)
    rules.engine.hear(10, None)
    [violation] = rules.ended
    assert (violation.type, violation.started, violation.ended) == ("voice_detected", 2.0, 5.75)


def test_a_stalled_stream_restarts_the_count_and_a_lost_camera_is_one_violation() -> None:
    rules = Recorder()
    rules.play(2, lambda _: seen())  # 2 s without a face, then nothing for 8 s
    rules.play(2.5, lambda _: seen(), start=10)  # 2.5 s more: the count restarted at 10
    assert rules.started == []

    rules.engine.stream_lost(20.0, last_media=15.0)
    rules.engine.stream_lost(21.0, last_media=15.0)
    rules.engine.stream_live(30.0)
    [lost] = rules.ended
    assert (lost.type, lost.started, lost.ended, lost.severity) == ("camera_lost", 15.0, 30.0, Severity.HIGH)


def test_long_violations_escalate_and_closing_ends_what_is_open() -> None:
    rules = Recorder()
    end = rules.play(50, lambda at: seen() if at >= 5 else seen(face()))
    assert [v.type for v in rules.engine.open_violations] == ["no_face"]
    rules.engine.close(end)
    [violation] = rules.ended
    assert violation.severity is Severity.HIGH  # medium, lasted over 30 s
    assert violation.ended == pytest.approx(50.0)  # the attempt ended with the seat still empty


def test_thresholds_are_per_test_settings() -> None:
    strict = Recorder(RuleThresholds(no_face_seconds=1.0))
    strict.play(10, lambda at: seen() if 2 <= at < 3.5 else seen(face()))
    assert [v.type for v in strict.ended] == ["no_face"]


def test_a_one_frame_blip_does_not_restart_a_hold() -> None:
    """A phantom face in one black frame (seen with VP8 and a 4x gain) keeps the dark run going."""
    rules = Recorder()
    at = rules.play(2.0, lambda _: seen(face()))
    at = rules.play(2.5, lambda _: seen(dark=True), start=at)  # 2.0 .. 4.0
    at = rules.play(0.5, lambda _: seen(face(), dark=True), start=at)  # 4.5: a phantom face
    at = rules.play(1.0, lambda _: seen(dark=True), start=at)  # 5.0 .. 5.5: 3 s since 2.0
    assert [(s.type, s.started) for s in rules.started] == [("camera_obstructed", 2.0)]
    rules.play(3.0, lambda _: seen(face()), start=at)
    assert [(s.type, s.started, s.ended) for s in rules.ended] == [("camera_obstructed", 2.0, 5.5)]


def test_a_rule_is_deciding_from_its_first_sample_until_it_opens_or_lets_go() -> None:
    rules = Recorder()
    rules.play(5, lambda _: seen(face()))
    assert not rules.engine.deciding
    rules.engine.observe(5.0, seen())  # the face just went: no_face's hold begins
    assert rules.engine.deciding and rules.engine.decides_at == 8.0  # when it opens if it holds
    rules.play(2.5, lambda _: seen(), start=5.5)  # until 7.5: still under the 3 s hold
    assert rules.engine.deciding and rules.started == [] and rules.engine.decides_at == 8.0
    rules.engine.observe(8.0, seen())  # 3 s: it opens, decided
    assert [s.type for s in rules.started] == ["no_face"] and not rules.engine.deciding
    rules.play(3, lambda _: seen(face()), start=8.5)  # back: closed after the release time
    assert [s.type for s in rules.ended] == ["no_face"] and not rules.engine.deciding
    # A head turned for a moment decides looking_away until the release time lets it go.
    rules.engine.observe(12.0, seen(face(yaw=60)))
    assert (
        rules.engine.deciding
        and rules.engine.decides_at == 12.0 + rules.engine.thresholds.looking_away_seconds
    )
    rules.play(1.5, lambda _: seen(face()), start=12.5)
    assert not rules.engine.deciding and rules.started == [rules.started[0]]
    assert rules.engine.decides_at is None
    # Voice is not judged from the picture: it never asks for more frames.
    rules.engine.hear(14.0, 3)
    assert not rules.engine.deciding


def test_multiple_faces_decides_only_while_its_last_sample_saw_them() -> None:
    rules = Recorder()
    rules.engine.observe(0.0, seen(face(), face()))  # a room scan sees two: the hold begins
    assert rules.engine.deciding
    # The frames between scans follow the student alone: they neither deny nor decide it.
    rules.engine.observe(0.5, seen(face(), room_scanned=False))
    assert not rules.engine.deciding
    rules.engine.observe(1.0, seen(face(), face(), room_scanned=False))  # seen again: deciding
    assert rules.engine.deciding


def test_eyes_away_on_the_frames_that_read_them_hold_through_the_frames_that_do_not() -> None:
    rules = Recorder()

    def frame(at: float) -> Observation:  # the eyes read once a second, as the pipeline does
        read = round(at / STEP) % 2 == 0
        away = 5 <= at < 11
        gaze_yaw = (40.0 if away else 0.0) if read else None
        return msgspec.structs.replace(seen(face(gaze_yaw=gaze_yaw)), gaze_read=read)

    rules.play(30, frame)
    [violation] = rules.ended
    assert (violation.type, violation.detail) == ("looking_away", "eyes turned +40 deg")
    assert (violation.started, violation.ended) == (5.0, 10.0)
