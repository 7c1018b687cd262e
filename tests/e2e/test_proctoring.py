"""Proctoring end to end: an aiortc student streams a real face through the relay, frames go
through the vision core to the rules, and violations land in the database with their clips."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import signal
from pathlib import Path
from typing import TypeVar

import av
import pytest
from sqlalchemy import select

from protolearn.config import Settings
from protolearn.events.bus import Subscription, student_topic
from protolearn.events.messages import Event, TestEnded, ViolationReceived
from protolearn.media.relay import ForwardingUnit
from protolearn.proctoring.supervisor import ProctoringSupervisor
from protolearn.proctoring_settings import RuleThresholds
from protolearn.store.attempts import TestAttempt
from protolearn.store.database import create_engine, create_sessionmaker
from protolearn.store.violations import EvidenceClip, Violation
from protolearn.vision.analysis_processes import AnalysisProcesses
from tests.support.api import Api, published_test, started_attempt
from tests.support.peers import FaceCamera, SceneSwitch, Tone, publish

E = TypeVar("E", bound=Event)


async def attempt_of_a_student(api: Api) -> int:
    teacher = await api.user("teacher")
    test = await published_test(teacher)
    student = await api.user("student")
    return int((await started_attempt(student, test["id"]))["attempt_id"])


async def violations_of(settings: Settings, attempt_id: int) -> list[tuple[Violation, EvidenceClip | None]]:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            rows = await session.execute(
                select(Violation, EvidenceClip)
                .outerjoin(EvidenceClip, EvidenceClip.id == Violation.evidence_id)
                .where(Violation.attempt_id == attempt_id)
                .order_by(Violation.id)
            )
            return [(violation, clip) for violation, clip in rows]
    finally:
        await engine.dispose()


async def until_analysed(supervisor: ProctoringSupervisor, attempt_id: int, frames: int) -> None:
    """Until the stream's first frames are analysed (the models load at the first stream)."""
    for _ in range(1200):  # a bound of minutes, for a pipeline that never starts
        report = supervisor.report(attempt_id)
        if report is not None and report.frames_analysed >= frames:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"attempt {attempt_id}: fewer than {frames} frames analysed")


async def test_a_face_present_throughout_raises_nothing(
    api: Api, settings: Settings, proctoring: tuple[ForwardingUnit, ProctoringSupervisor]
) -> None:
    unit, supervisor = proctoring
    attempt_id = await attempt_of_a_student(api)
    await supervisor.start(attempt_id, analysis_fps=4.0)
    student = await publish(unit, str(attempt_id), microphone=Tone(amplitude=0.0))
    await asyncio.sleep(8)
    report = await supervisor.stop(attempt_id)
    await student.close()

    assert report is not None
    assert report.frames_analysed >= 20
    found = await violations_of(settings, attempt_id)
    assert [(v.type, v.description, v.occurred_at, v.ended_at) for v, _ in found] == []


async def test_a_face_gone_for_five_seconds_is_one_no_face_with_a_playable_clip(
    api: Api, settings: Settings, tmp_path: Path, proctoring: tuple[ForwardingUnit, ProctoringSupervisor]
) -> None:
    unit, supervisor = proctoring
    attempt_id = await attempt_of_a_student(api)
    await supervisor.start(attempt_id, analysis_fps=4.0)
    empty_seat = FaceCamera(away=lambda seconds: 3.0 <= seconds < 8.0)
    student = await publish(unit, str(attempt_id), microphone=Tone(amplitude=0.0), camera=empty_seat)
    await asyncio.sleep(13)
    await supervisor.stop(attempt_id)
    await student.close()

    found = await violations_of(settings, attempt_id)
    assert [(v.type, v.description) for v, _ in found] == [("no_face", "no face in view")]
    [(violation, clip)] = found
    assert (violation.type, violation.source, violation.severity) == ("no_face", "server", "medium")
    assert violation.ended_at is not None
    gone_for = (violation.ended_at - violation.occurred_at).total_seconds()
    assert 4.0 <= gone_for <= 5.5
    assert clip is not None
    assert clip.duration_seconds >= gone_for  # a few seconds before the start to after the end
    path = tmp_path / clip.path
    assert path.stat().st_size == clip.size_bytes
    with av.open(str(path)) as container:
        frames = sum(1 for _ in container.decode(container.streams.video[0]))
    assert frames >= gone_for * 15 * 0.8


async def test_with_the_pages_analysis_copy_the_copy_is_analysed_and_the_camera_checked(
    api: Api, settings: Settings, proctoring: tuple[ForwardingUnit, ProctoringSupervisor]
) -> None:
    unit, supervisor = proctoring
    attempt_id = await attempt_of_a_student(api)
    await supervisor.start(attempt_id, analysis_fps=4.0)
    empty_seat = FaceCamera(away=lambda seconds: 3.0 <= seconds < 8.0)
    student = await publish(
        unit, str(attempt_id), microphone=Tone(amplitude=0.0), camera=empty_seat, analysis_copy=True
    )
    await asyncio.sleep(13)
    tap = supervisor.pipeline.tap
    assert tap is not None
    source, stats = tap.source(str(attempt_id)), dataclasses.asdict(tap.stats)
    await supervisor.stop(attempt_id)
    await student.close()

    assert source == "analysis"
    # The copy was decoded (and the camera only until the copy's first keyframe came), then the
    # camera only at its keyframes (one a second here); the copy matched them all.
    assert stats["analysis_decoded"] > 13 * 5
    assert stats["decoded"] - stats["analysis_decoded"] < 15
    assert stats["checked"] >= 5
    assert stats["passed_over"] > stats["decoded"]
    assert stats["problems"] == {}
    found = await violations_of(settings, attempt_id)
    assert [v.type for v, _ in found] == ["no_face"]
    [(violation, clip)] = found
    assert violation.ended_at is not None
    assert 4.0 <= (violation.ended_at - violation.occurred_at).total_seconds() <= 5.5
    assert clip is not None


async def test_a_copy_that_hides_an_empty_seat_is_caught_and_the_camera_analysed(
    api: Api, settings: Settings, proctoring: tuple[ForwardingUnit, ProctoringSupervisor]
) -> None:
    """A page that sends a face for analysis while the camera shows the student gone."""
    unit, supervisor = proctoring
    attempt_id = await attempt_of_a_student(api)
    await supervisor.start(attempt_id, analysis_fps=4.0)
    empty_seat = FaceCamera(away=lambda seconds: seconds >= 3.0)
    always_there = FaceCamera().analysis_copy()
    student = await publish(
        unit, str(attempt_id), microphone=Tone(amplitude=0.0), camera=empty_seat, analysis_copy=always_there
    )
    await asyncio.sleep(12)
    tap = supervisor.pipeline.tap
    assert tap is not None
    source, problems = tap.source(str(attempt_id)), dict(tap.stats.problems)
    await supervisor.stop(attempt_id)
    await student.close()

    assert source == "video"
    assert problems == {(str(attempt_id), "analysis_mismatch"): 1}
    found = await violations_of(settings, attempt_id)
    assert [v.type for v, _ in found] == ["no_face"]


async def test_with_the_models_in_processes_a_killed_one_is_replaced_and_the_empty_seat_caught(
    api: Api, settings: Settings, proctoring_in_processes: tuple[ForwardingUnit, ProctoringSupervisor]
) -> None:
    """The server's way: analysis in processes of its own. Both are killed while the student is
    there (a library crashing on a frame would do the same); fresh ones take their place and
    the empty seat that follows is still one no_face."""
    unit, supervisor = proctoring_in_processes
    attempt_id = await attempt_of_a_student(api)
    await supervisor.start(attempt_id, analysis_fps=4.0)
    switch = SceneSwitch()
    camera = FaceCamera(scene=switch)
    student = await publish(unit, str(attempt_id), microphone=Tone(amplitude=0.0), camera=camera)
    await until_analysed(supervisor, attempt_id, frames=4)
    analysis = supervisor.pipeline.analyzer
    assert isinstance(analysis, AnalysisProcesses)
    first = analysis.pids
    assert all(first) and os.getpid() not in first
    for pid in first:
        os.kill(pid, signal.SIGKILL)
    report = supervisor.report(attempt_id)
    assert report is not None
    await until_analysed(supervisor, attempt_id, frames=report.frames_analysed + 4)
    switch.scene = "empty"
    await asyncio.sleep(6)  # past the rule's 3 s hold
    switch.scene = "face"
    await asyncio.sleep(2)
    failures = supervisor.pipeline.stats.task_failures["vision-process"]
    await supervisor.stop(attempt_id)
    await student.close()

    assert 1 <= failures <= 2  # each process found dead at its next batch
    assert not set(analysis.pids) & set(first)
    found = await violations_of(settings, attempt_id)
    assert [v.type for v, _ in found] == ["no_face"]


@pytest.mark.parametrize(
    ("scene", "expected"),
    [("two", "multiple_faces"), ("dark", "camera_obstructed")],
    ids=["a second person", "darkness"],
)
async def test_a_second_person_and_darkness_are_their_own_violations(
    api: Api,
    settings: Settings,
    proctoring: tuple[ForwardingUnit, ProctoringSupervisor],
    scene: str,
    expected: str,
) -> None:
    unit, supervisor = proctoring
    attempt_id = await attempt_of_a_student(api)
    await supervisor.start(attempt_id, analysis_fps=4.0)
    switch = SceneSwitch()
    camera = FaceCamera(scene=switch)
    student = await publish(unit, str(attempt_id), microphone=Tone(amplitude=0.0), camera=camera)
    await until_analysed(supervisor, attempt_id, frames=4)
    # Longer than the rule's hold, with searches once a second and a room scan or two (the
    # second person sits beside the student, near enough for either); then the student alone.
    switch.scene = scene
    await asyncio.sleep(8)
    switch.scene = "face"
    await asyncio.sleep(3)
    await supervisor.stop(attempt_id)
    await student.close()

    found = await violations_of(settings, attempt_id)
    assert [violation.type for violation, _ in found] == [expected]  # darkness is not an empty seat
    assert all(clip is not None for _, clip in found)


async def test_a_test_can_end_an_attempt_after_critical_violations(
    api: Api, settings: Settings, proctoring: tuple[ForwardingUnit, ProctoringSupervisor]
) -> None:
    unit, supervisor = proctoring
    attempt_id = await attempt_of_a_student(api)
    # A strict test: a second person is critical after 1 s, and one critical violation ends it.
    strict = RuleThresholds(escalate_after_seconds=1.0)
    await supervisor.start(attempt_id, analysis_fps=4.0, thresholds=strict, auto_terminate_after_critical=1)
    ended = supervisor.bus.subscribe([student_topic(attempt_id)])
    switch = SceneSwitch()
    camera = FaceCamera(scene=switch)
    student = await publish(unit, str(attempt_id), microphone=Tone(amplitude=0.0), camera=camera)
    await until_analysed(supervisor, attempt_id, frames=4)
    switch.scene = "two"
    await asyncio.wait_for(_next(ended, ViolationReceived), timeout=120)  # opened
    await asyncio.sleep(2)  # past the second after which it is critical
    switch.scene = "face"  # the second person leaves: the critical violation closes

    message = await asyncio.wait_for(_next(ended, TestEnded), timeout=120)
    await student.close()

    assert (message.status, message.reason) == ("terminated", "1 critical violations")
    [(violation, _clip)] = await violations_of(settings, attempt_id)
    assert (violation.type, violation.severity) == ("multiple_faces", "critical")
    engine = create_engine(settings.database_url)
    async with create_sessionmaker(engine)() as session:
        attempt = await session.get(TestAttempt, attempt_id)
        assert attempt is not None
        assert (attempt.status, attempt.end_reason) == ("terminated", "1 critical violations")
    await engine.dispose()


async def _next(subscription: Subscription, kind: type[E]) -> E:
    while True:
        message = await subscription.next()
        if isinstance(message, kind):
            return message


async def test_speech_is_voice_detected_and_a_dead_camera_is_camera_lost(
    api: Api, settings: Settings, proctoring: tuple[ForwardingUnit, ProctoringSupervisor]
) -> None:
    unit, supervisor = proctoring
    attempt_id = await attempt_of_a_student(api)
    await supervisor.start(attempt_id, analysis_fps=4.0)
    student = await publish(unit, str(attempt_id), microphone=Tone(amplitude=0.3))  # talking throughout
    await asyncio.sleep(6)
    await student.close()  # the laptop dies
    await asyncio.sleep(unit.lost_after_s + 2)
    await supervisor.stop(attempt_id)

    found = {violation.type: violation for violation, _ in await violations_of(settings, attempt_id)}
    assert set(found) == {"voice_detected", "camera_lost"}
    assert found["camera_lost"].severity == "high"
    assert found["voice_detected"].ended_at is not None
