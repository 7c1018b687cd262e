"""The proctoring supervisor on a clock of the test's own: sessions, video health, attempt ends.

No peers and no sleeping on the wall clock: frames are delivered to the stream hub by hand with
the fake clock's times, and the periodic video check is called with them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protolearn.assessment.lifecycle import AttemptLifecycle
from protolearn.config import Settings
from protolearn.events.bus import EventBus, teachers_topic
from protolearn.events.messages import StudentStatus, ViolationEvent
from protolearn.media.forwarding import EncodedFrame
from protolearn.media.relay import ForwardingUnit
from protolearn.media.streams import StreamEvent
from protolearn.media.tap import TappedFrame
from protolearn.proctoring.supervisor import ProctoringSupervisor
from protolearn.store.attempts import AttemptStatus, TestAttempt
from protolearn.store.base import utcnow
from protolearn.store.database import create_engine, create_sessionmaker
from protolearn.store.tests import Test
from protolearn.store.users import User
from protolearn.store.violations import Violation
from protolearn.vision.runtimes import create_analyzer
from protolearn.vision.schemas import Face, Gaze, Observation


@dataclass
class FakeClock:
    now: float

    def __call__(self) -> float:
        return self.now


@dataclass
class Proctoring:
    supervisor: ProctoringSupervisor
    unit: ForwardingUnit
    clock: FakeClock
    sessionmaker: async_sessionmaker[AsyncSession]


@pytest.fixture
async def proctoring(settings: Settings, tmp_path: Path) -> AsyncIterator[Proctoring]:
    engine = create_engine(settings.database_url)
    sessionmaker = create_sessionmaker(engine)
    supervisors: list[ProctoringSupervisor] = []

    def on_event(event: StreamEvent) -> None:
        for supervisor in supervisors:
            supervisor.on_stream_event(event)

    unit = ForwardingUnit(on_event=on_event)
    clock = FakeClock(time.monotonic())
    lifecycle = AttemptLifecycle(sessionmaker, EventBus(), grace_seconds=0)
    supervisor = ProctoringSupervisor(
        unit, sessionmaker, tmp_path, lambda: create_analyzer("onnx"), lifecycle=lifecycle, clock=clock
    )
    supervisors.append(supervisor)
    yield Proctoring(supervisor, unit, clock, sessionmaker)
    await supervisor.close()
    await unit.close()
    await engine.dispose()


async def an_attempt(sessionmaker: async_sessionmaker[AsyncSession]) -> int:
    async with sessionmaker() as db:
        teacher = User(
            email=f"t{time.monotonic_ns()}@school.test", password_hash="x", name="T", role="teacher"
        )
        student = User(
            email=f"s{time.monotonic_ns()}@school.test", password_hash="x", name="S", role="student"
        )
        db.add_all([teacher, student])
        await db.flush()
        test = Test(teacher_id=teacher.id, title="Chemistry", time_limit=30, is_published=True)
        db.add(test)
        await db.flush()
        attempt = TestAttempt(
            test_id=test.id,
            student_id=student.id,
            deadline=utcnow() + timedelta(minutes=30),
            question_order=[],
        )
        db.add(attempt)
        await db.commit()
        return attempt.id


def audio(at: float) -> EncodedFrame:
    return EncodedFrame("audio", b"\xfc\xff\xfe", 0, False, at)


async def stored(sessionmaker: async_sessionmaker[AsyncSession], attempt_id: int) -> list[Violation]:
    async with sessionmaker() as db:
        return list(await db.scalars(select(Violation).where(Violation.attempt_id == attempt_id)))


async def eventually(condition: object, *, within: float = 30.0) -> None:
    """Awaits a coroutine function until it returns true (database writes are asynchronous)."""
    assert callable(condition)
    deadline = time.monotonic() + within
    while not await condition():
        assert time.monotonic() < deadline, "not true in time"
        await asyncio.sleep(0.05)


async def test_media_without_a_usable_picture_is_video_unusable(proctoring: Proctoring) -> None:
    supervisor, clock = proctoring.supervisor, proctoring.clock
    attempt_id = await an_attempt(proctoring.sessionmaker)
    events = supervisor.bus.subscribe([teachers_topic(attempt_id)])
    await supervisor.start(attempt_id, analysis_fps=2.0)
    hub = proctoring.unit.hub(str(attempt_id))

    # Audio flows, video never gives a picture: after the stale window and the 4 s hold, a violation.
    for _ in range(20):  # 10 s in steps of 0.5 s
        clock.now += 0.5
        hub.deliver(audio(clock.now))
        supervisor.check_video()

    async def opened() -> bool:
        return any(v.type == "video_unusable" for v in await stored(proctoring.sessionmaker, attempt_id))

    await eventually(opened)
    [violation] = await stored(proctoring.sessionmaker, attempt_id)
    assert (violation.severity, violation.source, violation.ended_at) == ("high", "server", None)
    assert "no video frames" in violation.description
    announced = [e for e in events.drain() if isinstance(e, ViolationEvent)]
    assert [e.violation.type for e in announced] == ["video_unusable"]


async def test_no_media_at_all_is_left_to_camera_lost(proctoring: Proctoring) -> None:
    supervisor, clock = proctoring.supervisor, proctoring.clock
    attempt_id = await an_attempt(proctoring.sessionmaker)
    await supervisor.start(attempt_id, analysis_fps=2.0)
    hub = proctoring.unit.hub(str(attempt_id))
    hub.deliver(audio(clock.now))  # the stream went live once, then nothing came

    for _ in range(40):
        clock.now += 0.5
        supervisor.check_video()

    report = supervisor.report(attempt_id)
    assert report is not None and report.violations_opened == 0
    assert await stored(proctoring.sessionmaker, attempt_id) == []


async def test_a_lost_stream_is_camera_lost_from_its_last_media(proctoring: Proctoring) -> None:
    supervisor, clock = proctoring.supervisor, proctoring.clock
    attempt_id = await an_attempt(proctoring.sessionmaker)
    events = supervisor.bus.subscribe([teachers_topic(attempt_id)])
    await supervisor.start(attempt_id, analysis_fps=2.0)
    hub = proctoring.unit.hub(str(attempt_id))
    hub.deliver(audio(clock.now))
    last_media = clock.now
    clock.now += 6.0
    hub.set_state("lost", "no media for 5 s")

    async def opened() -> bool:
        return bool(await stored(proctoring.sessionmaker, attempt_id))

    await eventually(opened)
    [violation] = await stored(proctoring.sessionmaker, attempt_id)
    assert violation.type == "camera_lost"
    statuses = [e for e in events.drain() if isinstance(e, StudentStatus)]
    assert statuses and statuses[-1].connected is False
    assert supervisor.report(attempt_id) is not None
    assert last_media < clock.now


async def test_a_session_ends_when_its_attempt_ends_however_it_ended(proctoring: Proctoring) -> None:
    supervisor = proctoring.supervisor
    first, second = await an_attempt(proctoring.sessionmaker), await an_attempt(proctoring.sessionmaker)
    await supervisor.start(first, analysis_fps=2.0)
    await supervisor.start(second, analysis_fps=2.0)
    background = asyncio.create_task(supervisor.run())
    try:
        assert await supervisor.lifecycle.end(first, AttemptStatus.TERMINATED, "phone on desk")
        assert not await supervisor.lifecycle.end(first, AttemptStatus.TERMINATED, "again")  # once

        async def stopped() -> bool:
            return supervisor.attempts == [second]

        await eventually(stopped)
    finally:
        background.cancel()
        await asyncio.gather(background, return_exceptions=True)
    async with proctoring.sessionmaker() as db:
        attempt = await db.get(TestAttempt, first)
        assert attempt is not None
        assert (attempt.status, attempt.end_reason) == ("terminated", "phone on desk")
    assert not supervisor.task_failures


async def test_a_packet_now_and_then_does_not_keep_a_stream_unjudged(proctoring: Proctoring) -> None:
    """A publisher sending one audio packet every 3.5 s (short of `lost`, and sparser than the
    rules' sampling gap) still gets video_unusable: it is judged from its last usable picture."""
    supervisor, clock = proctoring.supervisor, proctoring.clock
    attempt_id = await an_attempt(proctoring.sessionmaker)
    await supervisor.start(attempt_id, analysis_fps=2.0)
    hub = proctoring.unit.hub(str(attempt_id))
    for step in range(24):  # 12 s in steps of 0.5 s
        clock.now += 0.5
        if step % 7 == 0:
            hub.deliver(audio(clock.now))
        supervisor.check_video()

    async def opened() -> bool:
        return any(v.type == "video_unusable" for v in await stored(proctoring.sessionmaker, attempt_id))

    await eventually(opened)


async def test_an_attempt_that_ended_while_its_offer_was_answered_gets_no_session(
    proctoring: Proctoring,
) -> None:
    supervisor = proctoring.supervisor
    attempt_id = await an_attempt(proctoring.sessionmaker)
    assert await supervisor.lifecycle.end(attempt_id, AttemptStatus.TERMINATED, "ended first")

    await supervisor.start(attempt_id, analysis_fps=2.0)  # its AttemptEnded found no session

    assert supervisor.attempts == []
    assert proctoring.unit.hub(str(attempt_id)).connection is None


async def test_a_stream_is_analysed_faster_while_a_rule_decides_and_at_its_rate_after(
    proctoring: Proctoring,
) -> None:
    supervisor = proctoring.supervisor
    attempt_id = await an_attempt(proctoring.sessionmaker)
    await supervisor.start(attempt_id, analysis_fps=2.0)
    tap = supervisor.pipeline.tap
    assert tap is not None
    stream = str(attempt_id)
    pixels = np.zeros((720, 640), np.uint8)

    def analysed(at: float, faces: int) -> None:
        face = Face(
            box=(200, 100, 160, 160),
            score=0.9,
            keypoints=((0.0, 0.0),) * 6,
            yaw=0.0,
            pitch=0.0,
            roll=0.0,
            gaze=Gaze(yaw=0.0, pitch=0.0),
            eyes_visible=True,
        )
        observation = Observation(
            faces=(face,) * faces,
            brightness=110.0,
            dark=False,
            room_scanned=False,
            latency_ms=4.0,
            width=640,
            height=480,
        )
        supervisor._observed(TappedFrame(stream, pixels, at, at), observation)

    start = time.monotonic()
    analysed(start, 1)
    assert tap.rate(stream) == 2.0
    # The face went: no_face decides, at the test's rate for the first 2 s of its 3 s hold...
    rates = []
    for step in range(1, 6):
        analysed(start + 0.5 * step, 0)
        rates.append(tap.rate(stream))
    assert rates == [2.0, 2.0, 2.0, 2.0, 8.0]  # ...and 8 frames a second from 1 s before it ends
    assert supervisor.pipeline.options.deciding_fps == 8.0
    at = start + 2.5
    while at < start + 3.5 - 1e-9:  # the rest of the hold, at the raised rate
        at += 0.125
        analysed(at, 0)
    assert [span.type for span in supervisor._sessions[attempt_id].rules.open_violations] == ["no_face"]
    assert tap.rate(stream) == 2.0  # decided: back to the test's rate
