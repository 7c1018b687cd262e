"""Proctoring sessions: one per attempt whose student streams, tying media to rules to evidence.

A session starts with the student's first stream for an in-progress attempt and survives
reconnects (the stream hub outlives connections). Its frames come from the frame tap at the
test's analysis rate, go through the vision batcher (worker threads), and their observations,
with the microphone level and the stream's state, feed the attempt's RuleEngine. A violation is
written when its rule fires and completed, with a clip from the stream's ring buffer (a few
seconds before its start to a few after its end), when it ends. A session ends with the attempt
(submit, auto-submit, terminate); open violations end then.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protolearn.assessment.attempts import AttemptService
from protolearn.events.bus import EventBus, student_topic, teachers_topic
from protolearn.media.recorder import Clip, ClipUnavailable, SegmentRecorder
from protolearn.media.relay import ForwardingUnit
from protolearn.media.streams import StreamEvent
from protolearn.media.tap import FrameTap, TappedFrame
from protolearn.proctoring.evidence import close_violation, open_violation
from protolearn.proctoring.rules import RuleEngine, ViolationSpan
from protolearn.proctoring_settings import RuleThresholds
from protolearn.store.attempts import AttemptStatus, TestAttempt
from protolearn.store.violations import Severity
from protolearn.vision.analyzer import FaceAnalyzer
from protolearn.vision.batcher import FrameBatcher
from protolearn.vision.schemas import Observation

__all__ = ("ProctoringSupervisor", "SessionReport")

log = logging.getLogger(__name__)

PRE_ROLL_S = 3.0
POST_ROLL_S = 2.0


STATUS_EVERY_S = 1.0  # student-status from observations, at most this often per attempt


def wall_time(monotonic: float) -> float:
    return time.time() - time.monotonic() + monotonic


def _iso(wall_seconds: float) -> str:
    return datetime.fromtimestamp(wall_seconds, UTC).isoformat().replace("+00:00", "Z")


@dataclass(slots=True)
class SessionReport:
    """What a session did, for tests and the admin's stats."""

    frames_analysed: int = 0
    violations_opened: int = 0
    violations_closed: int = 0
    clips: int = 0


Job = Callable[[], Awaitable[None]]


@dataclass(slots=True)
class _Session:
    attempt_id: int
    recorder: SegmentRecorder
    auto_terminate_after_critical: int | None = None
    critical: int = 0
    rules: RuleEngine = field(init=False)
    jobs: asyncio.Queue[Job] = field(default_factory=asyncio.Queue)
    worker: asyncio.Task[None] | None = None
    open_rows: dict[str, int] = field(default_factory=dict)  # rule -> violation id
    last_status: float = float("-inf")
    report: SessionReport = field(default_factory=SessionReport)


@dataclass(slots=True)
class _Pipeline:
    """Shared by all sessions, made on the first stream: models, batcher, tap, consumer."""

    analyzer: FaceAnalyzer
    batcher: FrameBatcher
    tap: FrameTap
    consumer: asyncio.Task[None] | None = None


class ProctoringSupervisor:
    def __init__(
        self,
        unit: ForwardingUnit,
        sessionmaker: async_sessionmaker[AsyncSession],
        data_dir: Path,
        make_analyzer: Callable[[], FaceAnalyzer],
        bus: EventBus | None = None,
    ) -> None:
        self.unit = unit
        self.bus = bus or EventBus()
        self.sessionmaker = sessionmaker
        self.data_dir = data_dir
        self._make_analyzer = make_analyzer
        self._sessions: dict[int, _Session] = {}
        self._decode_pool = ThreadPoolExecutor(1, thread_name_prefix="tap")
        self._pipeline: _Pipeline | None = None
        self._stopping: set[asyncio.Task[SessionReport | None]] = set()

    # --- sessions ------------------------------------------------------------------------------

    async def start(
        self,
        attempt_id: int,
        analysis_fps: float,
        thresholds: RuleThresholds | None = None,
        auto_terminate_after_critical: int | None = None,
    ) -> None:
        """Begins proctoring the attempt's stream (again after a reconnect: nothing to do)."""
        if attempt_id in self._sessions:
            return
        pipeline = await self._start_pipeline()
        hub = self.unit.hub(str(attempt_id))
        session = _Session(attempt_id, SegmentRecorder(seconds=30.0), auto_terminate_after_critical)
        session.rules = RuleEngine(
            thresholds or RuleThresholds(),
            on_start=lambda span: session.jobs.put_nowait(lambda: self._opened(session, span)),
            on_end=lambda span: session.jobs.put_nowait(lambda: self._closed(session, span)),
        )
        hub.add_listener(session.recorder.on_frame)
        session.worker = asyncio.create_task(self._run_jobs(session), name=f"proctoring-{attempt_id}")
        self._sessions[attempt_id] = session
        pipeline.tap.attach(hub, analysis_fps)

    async def stop_finished(self) -> list[int]:
        """Stops the sessions of attempts no longer in progress (submitted, auto-submitted,
        terminated: whoever ended them); returns their ids. Called periodically."""
        if not self._sessions:
            return []
        async with self.sessionmaker() as db:
            running = set(
                await db.scalars(
                    select(TestAttempt.id).where(
                        TestAttempt.id.in_(list(self._sessions)),
                        TestAttempt.status == AttemptStatus.IN_PROGRESS,
                    )
                )
            )
        finished = [attempt_id for attempt_id in self._sessions if attempt_id not in running]
        for attempt_id in finished:
            await self.stop(attempt_id)
        return finished

    async def run(self, interval_s: float = 2.0) -> None:
        """The background task: ends sessions whose attempt has ended."""
        while True:
            await asyncio.sleep(interval_s)
            try:
                await self.stop_finished()
            except Exception:
                log.exception("could not check which proctored attempts ended")

    async def stop(self, attempt_id: int) -> SessionReport | None:
        """The attempt ended: close its violations (with clips), stop tapping, close the stream."""
        session = self._sessions.pop(attempt_id, None)
        if session is None:
            return None
        session.rules.close(time.monotonic())
        hub = self.unit.hub(str(attempt_id))
        if self._pipeline is not None:
            await self._pipeline.tap.detach(hub)
        await session.jobs.join()
        if session.worker is not None:
            session.worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await session.worker
        hub.remove_listener(session.recorder.on_frame)
        await self.unit.close_stream(str(attempt_id))
        return session.report

    def report(self, attempt_id: int) -> SessionReport | None:
        session = self._sessions.get(attempt_id)
        return None if session is None else session.report

    def on_stream_event(self, event: StreamEvent) -> None:
        """From the relay: a stream went lost or came back."""
        session = self._sessions.get(int(event.stream_id)) if event.stream_id.isdigit() else None
        if session is None:
            return
        now = time.monotonic()
        if event.state == "lost":
            session.rules.stream_lost(now, self.unit.hub(event.stream_id).last_media)
        elif event.state == "live":
            session.rules.stream_live(now)
        self._status(session, None)

    # --- frames to observations ----------------------------------------------------------------

    async def _start_pipeline(self) -> _Pipeline:
        if self._pipeline is None:
            # Loading the models takes a moment: off the event loop, once, on the first stream.
            analyzer = await asyncio.get_running_loop().run_in_executor(None, self._make_analyzer)
            batcher = FrameBatcher(analyzer)
            await batcher.__aenter__()
            self._pipeline = _Pipeline(analyzer, batcher, FrameTap(self._decode_pool, capacity=256))
            self._pipeline.consumer = asyncio.create_task(
                self._consume(self._pipeline), name="proctoring-frames"
            )
        return self._pipeline

    async def _consume(self, pipeline: _Pipeline) -> None:
        while True:
            frame = await pipeline.tap.frames.get()
            session = self._sessions.get(int(frame.stream_id))
            if session is None:
                continue
            future = pipeline.batcher.submit(frame.stream_id, frame.pixels)
            future.add_done_callback(partial(self._observed, session, frame))

    def _observed(
        self, session: _Session, frame: TappedFrame, done: asyncio.Future[Observation | None]
    ) -> None:
        observation = None if done.cancelled() or done.exception() is not None else done.result()
        if observation is None or self._sessions.get(session.attempt_id) is not session:
            return  # dropped under load, or the attempt ended meanwhile
        session.report.frames_analysed += 1
        session.rules.observe(frame.arrived, observation)
        session.rules.hear(frame.arrived, self.unit.hub(frame.stream_id).audio_level)
        if frame.arrived - session.last_status >= STATUS_EVERY_S:
            session.last_status = frame.arrived
            self._status(session, observation)

    def _status(self, session: _Session, observation: Observation | None) -> None:
        """student-status for the watching teachers: connection, camera, what the camera sees."""
        hub = self.unit.hub(str(session.attempt_id))
        message: dict[str, object] = {
            "type": "student-status",
            "attempt_id": session.attempt_id,
            "connected": hub.state == "live",
            "camera_ok": hub.state == "live",
            "open_violations": [span.type for span in session.rules.open_violations],
        }
        if observation is not None:
            message["last_observation"] = {"faces": len(observation.faces), "dark": observation.dark}
        self.bus.publish(teachers_topic(session.attempt_id), message)

    # --- violations to the database, in order per attempt -------------------------------------

    async def _run_jobs(self, session: _Session) -> None:
        while True:
            job = await session.jobs.get()
            try:
                await job()
            except Exception:
                log.exception("proctoring job failed for attempt %s", session.attempt_id)
            finally:
                session.jobs.task_done()

    async def _opened(self, session: _Session, span: ViolationSpan) -> None:
        row = await open_violation(self.sessionmaker, session.attempt_id, span, wall_time(span.started))
        session.open_rows[span.type] = row
        session.report.violations_opened += 1
        self._announce(session, row, span, None, None)

    async def _closed(self, session: _Session, span: ViolationSpan) -> None:
        opened = session.open_rows.pop(span.type, None)
        if opened is None:
            return
        ended = span.ended if span.ended is not None else time.monotonic()
        clip = await self._clip(session, span, ended)
        evidence_id = await close_violation(
            self.sessionmaker, opened, span, wall_time(ended), clip, self.data_dir
        )
        session.report.violations_closed += 1
        self._announce(session, opened, span, ended, evidence_id)
        if span.severity is Severity.CRITICAL:
            session.critical += 1
            limit = session.auto_terminate_after_critical
            if limit is not None and session.critical >= limit:
                await self._terminate(session, f"{session.critical} critical violations")

    async def _terminate(self, session: _Session, reason: str) -> None:
        """The test's auto-termination: the attempt ends as terminated, the student is told."""
        async with self.sessionmaker() as db:
            service = AttemptService(db, grace_seconds=0)
            closed = await service.close(session.attempt_id, AttemptStatus.TERMINATED, reason=reason)
        if closed:
            ended = {
                "type": "test-ended",
                "attempt_id": session.attempt_id,
                "status": "terminated",
                "reason": reason,
            }
            self.bus.publish(student_topic(session.attempt_id), ended)
            # Not awaited: stopping waits for this very job to finish.
            self._stopping.add(asyncio.create_task(self.stop(session.attempt_id)))

    def _announce(
        self, session: _Session, row: int, span: ViolationSpan, ended: float | None, evidence_id: int | None
    ) -> None:
        """Stored first, then published: teachers get `violation` (when it starts and again when
        it ends, with its clip), the student `violation-received` when it starts."""
        violation = {
            "id": row,
            "attempt_id": session.attempt_id,
            "type": span.type,
            "severity": span.severity.value,
            "source": "server",
            "description": span.detail,
            "timestamp": _iso(wall_time(span.started)),
            "ended_at": None if ended is None else _iso(wall_time(ended)),
            "evidence_id": evidence_id,
        }
        self.bus.publish(teachers_topic(session.attempt_id), {"type": "violation", "violation": violation})
        if ended is None:
            notice = {key: violation[key] for key in ("id", "type", "severity", "timestamp")}
            self.bus.publish(
                student_topic(session.attempt_id), {"type": "violation-received", "violation": notice}
            )

    async def _clip(self, session: _Session, span: ViolationSpan, ended: float) -> Clip | None:
        path = (
            self.data_dir
            / "clips"
            / f"attempt-{session.attempt_id}"
            / f"{span.type}-{int(wall_time(span.started))}.webm"
        )
        try:
            clip = await session.recorder.clip(
                span.started - PRE_ROLL_S, ended + POST_ROLL_S, path, post_roll_timeout=POST_ROLL_S + 3
            )
        except ClipUnavailable as error:
            log.warning("no clip for %s of attempt %s: %s", span.type, session.attempt_id, error)
            return None
        session.report.clips += 1
        return clip

    async def close(self) -> None:
        for attempt_id in list(self._sessions):
            await self.stop(attempt_id)
        pipeline, self._pipeline = self._pipeline, None
        if pipeline is not None:
            if pipeline.consumer is not None:
                pipeline.consumer.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await pipeline.consumer
            await pipeline.tap.close()
            await pipeline.batcher.close()
            pipeline.analyzer.close()
        self._decode_pool.shutdown(wait=False)
