"""Proctoring sessions: one per attempt whose student streams, from its first stream to its end.

A session starts with the student's first stream for an in-progress attempt and survives
reconnects (the stream hub outlives connections). Its frames come through the shared frame
pipeline (pipeline.py) at the test's analysis rate; observations, the microphone level, the
stream's state and the health of its video feed the attempt's RuleEngine, whose violations the
session's ViolationRecorder stores with clips (recording.py) and the Announcer tells people
about (announcements.py). A session ends when its attempt ends, however that happened: the
supervisor hears `AttemptEnded` on the bus (assessment/lifecycle.py); open violations end then.

Times are seconds on time.monotonic()'s clock: frames and media carry their arrival on it,
and `clock` (time.monotonic unless a test gives its own, moved along with the times of the
frames it delivers) is what the supervisor reads for stream events and the video check.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protolearn.assessment.lifecycle import AttemptLifecycle
from protolearn.events.bus import ATTEMPTS_ENDED, EventBus
from protolearn.events.messages import AttemptEnded
from protolearn.media.recorder import ClipStore, SegmentRecorder
from protolearn.media.relay import ForwardingUnit
from protolearn.media.sealed import Sealer
from protolearn.media.streams import StreamEvent
from protolearn.media.tap import TappedFrame
from protolearn.proctoring.announcements import Announcer
from protolearn.proctoring.pipeline import FramePipeline, PipelineOptions
from protolearn.proctoring.recording import SessionReport, ViolationRecorder
from protolearn.proctoring.rules import RuleEngine
from protolearn.proctoring.throughput import AnalysisMeter
from protolearn.proctoring_settings import RuleThresholds
from protolearn.store.attempts import AttemptStatus, TestAttempt
from protolearn.supervision import TaskFailures, supervise
from protolearn.vision.analyzer import FaceAnalyzer
from protolearn.vision.schemas import Observation

__all__ = ("ProctoringSupervisor", "SessionReport")

log = logging.getLogger(__name__)

STATUS_EVERY_S = 1.0  # student-status, at most this often per attempt
VIDEO_CHECK_EVERY_S = 0.5  # how often live streams are checked for usable video
# A safety net under AttemptEnded: sessions of attempts no longer in progress are stopped.
RECONCILE_EVERY_S = 30.0
STOP_TIMEOUT_S = 30.0  # longest a stopping session waits for its violations' clips
# A picture of a face that has not changed at all for this long is a still image, not a camera
# (a picture without a face is no_face already, however still).
FROZEN_AFTER_S = 10.0


@dataclass(slots=True)
class _Session:
    attempt_id: int
    analysis_fps: float
    watched_since: float  # the session's start, or the stream's return after it was lost
    segments: SegmentRecorder
    recorder: ViolationRecorder
    rules: RuleEngine = field(init=False)
    last_status: float = float("-inf")
    faces: int = 0  # in the last observation
    deciding: bool = False  # one of its rules' hold ends soon: its frames are analysed faster


class ProctoringSupervisor:
    def __init__(
        self,
        unit: ForwardingUnit,
        sessionmaker: async_sessionmaker[AsyncSession],
        data_dir: Path,
        make_analyzer: Callable[[], FaceAnalyzer],
        *,
        lifecycle: AttemptLifecycle,
        options: PipelineOptions | None = None,
        ring_buffer_seconds: float = 30.0,
        clip_store: ClipStore | None = None,
        sealer: Sealer | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.unit = unit
        self.lifecycle = lifecycle
        self.bus: EventBus = lifecycle.bus
        self.sessionmaker = sessionmaker
        self.data_dir = data_dir
        self.ring_buffer_seconds = ring_buffer_seconds
        self.clip_store = clip_store  # None: clips are not capped (tests)
        self.sealer = sealer  # None: clips are written plain (tests)
        self.clock = clock
        self.task_failures: TaskFailures = Counter()
        self.analysis = AnalysisMeter(clock)
        self.announcer = Announcer(self.bus)
        self.pipeline = FramePipeline(make_analyzer, self._observed, options or PipelineOptions())
        self._sessions: dict[int, _Session] = {}
        self._stopping: set[asyncio.Task[SessionReport | None]] = set()
        # Subscribed now, so no AttemptEnded is missed before run() starts reading it.
        self._ended = self.bus.subscribe([ATTEMPTS_ENDED], capacity=4096)

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
        hub = self.unit.hub(str(attempt_id))
        segments = SegmentRecorder(seconds=self.ring_buffer_seconds, sealer=self.sealer)
        recorder = ViolationRecorder(
            attempt_id,
            segments,
            sessionmaker=self.sessionmaker,
            data_dir=self.data_dir,
            announcer=self.announcer,
            lifecycle=self.lifecycle,
            auto_terminate_after_critical=auto_terminate_after_critical,
            clock=self.clock,
            failures=self.task_failures,
            clip_store=self.clip_store,
        )
        session = _Session(attempt_id, analysis_fps, self.clock(), segments, recorder)
        session.rules = RuleEngine(thresholds or RuleThresholds(), recorder.opened, recorder.closed)
        self._sessions[attempt_id] = session  # first: a second offer meanwhile finds it
        log.info(
            "attempt %s: proctoring started at %g frames/s",
            attempt_id,
            analysis_fps,
            extra={"event": "proctoring_started", "attempt_id": attempt_id},
        )
        hub.add_listener(segments.on_frame)
        try:
            await self.pipeline.attach(hub, analysis_fps)
        except BaseException:
            await self.stop(attempt_id)  # no half-made session that later offers would skip
            raise
        # The attempt may have ended while its offer was answered (its AttemptEnded found no
        # session to stop): look once more, now that the session exists.
        if not await self._in_progress(attempt_id):
            await self.stop(attempt_id)

    async def stop(self, attempt_id: int) -> SessionReport | None:
        """The attempt ended: close its violations (with clips), stop tapping, close the stream.
        Every step runs even if one before it fails; the clips get STOP_TIMEOUT_S at most."""
        session = self._sessions.pop(attempt_id, None)
        if session is None:
            return None
        hub = self.unit.hub(str(attempt_id))
        try:
            session.rules.close(self.clock())
            await self.pipeline.detach(hub)
            await session.recorder.close(within=STOP_TIMEOUT_S)
        finally:
            hub.remove_listener(session.segments.on_frame)
            await self.unit.close_stream(str(attempt_id))
        report = session.recorder.report
        log.info(
            "attempt %s: proctoring stopped after %d frames, %d violations",
            attempt_id,
            report.frames_analysed,
            report.violations_opened,
            extra={"event": "proctoring_stopped", "attempt_id": attempt_id},
        )
        return report

    async def _in_progress(self, attempt_id: int) -> bool:
        async with self.sessionmaker() as db:
            status = await db.scalar(select(TestAttempt.status).where(TestAttempt.id == attempt_id))
        return status == AttemptStatus.IN_PROGRESS

    async def reconcile(self) -> list[int]:
        """Stops the sessions of attempts no longer in progress, whatever became of their
        AttemptEnded (another node's, or one dropped by a full queue); returns their ids."""
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
        ended = [attempt_id for attempt_id in self._sessions if attempt_id not in running]
        for attempt_id in ended:
            self._stop_soon(attempt_id)
        return ended

    def report(self, attempt_id: int) -> SessionReport | None:
        session = self._sessions.get(attempt_id)
        return None if session is None else session.recorder.report

    @property
    def attempts(self) -> list[int]:
        """The attempts being proctored now."""
        return list(self._sessions)

    async def run(self) -> None:
        """The background tasks: sessions end with their attempts; live video is checked."""
        failures = self.task_failures
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(supervise("proctoring-ended", self._stop_ended, failures=failures))
            tasks.create_task(supervise("proctoring-video", self._check_video, failures=failures))
            tasks.create_task(supervise("proctoring-reconcile", self._reconcile, failures=failures))

    async def _stop_ended(self) -> None:
        while True:
            event = await self._ended.next()
            if isinstance(event, AttemptEnded) and event.attempt_id in self._sessions:
                self._stop_soon(event.attempt_id)

    def _stop_soon(self, attempt_id: int) -> None:
        """Concurrently: a stop waits for its clips' post-roll, and a deadline ends a class."""
        task = asyncio.create_task(self.stop(attempt_id), name=f"stop-{attempt_id}")
        self._stopping.add(task)
        task.add_done_callback(self._stopped)

    async def _reconcile(self) -> None:
        while True:
            await asyncio.sleep(RECONCILE_EVERY_S)
            await self.reconcile()

    def _stopped(self, task: asyncio.Task[SessionReport | None]) -> None:
        self._stopping.discard(task)
        if not task.cancelled() and task.exception() is not None:
            self.task_failures["proctoring-stop"] += 1
            log.error("stopping a proctoring session failed", exc_info=task.exception())

    async def _check_video(self) -> None:
        while True:
            await asyncio.sleep(VIDEO_CHECK_EVERY_S)
            self.check_video()

    # --- what the stream says ------------------------------------------------------------------

    def _session_of(self, stream_id: str) -> _Session | None:
        return self._sessions.get(int(stream_id)) if stream_id.isdigit() else None

    def on_stream_event(self, event: StreamEvent) -> None:
        """From the relay: a stream went lost or came back."""
        session = self._session_of(event.stream_id)
        if session is None:
            return
        now = self.clock()
        if event.state == "lost":
            session.rules.stream_lost(now, self.unit.hub(event.stream_id).last_media)
        elif event.state == "live":
            session.rules.stream_live(now)
            session.watched_since = now  # a returning stream gets the time a new one gets
        self._status(session, None)

    def check_video(self, now: float | None = None) -> None:
        """Whether each live stream gave a usable picture lately. Media that keeps coming after
        the last readable picture (undecodable video, a size out of bounds, a frozen picture,
        audio only, a packet now and then) is the rules' video_unusable, from when the picture
        went stale; media that stopped with the picture is left to camera_lost."""
        now = self.clock() if now is None else now
        for session in list(self._sessions.values()):
            hub = self.unit.hub(str(session.attempt_id))
            if hub.state != "live":
                continue
            stale_after = max(2.0, 3 / session.analysis_fps)
            last_usable = max(self.pipeline.last_analysable(hub.stream_id) or 0.0, session.watched_since)
            stale_since = last_usable + stale_after
            unusable = now > stale_since and hub.last_media > stale_since
            problem = health.problem if (health := self.pipeline.health(hub.stream_id)) else ""
            reason = problem.replace("_", " ") if problem else "no video frames"
            session.rules.video(
                now, not unusable, f"no usable picture from the camera ({reason})", stale_since
            )
            if unusable and now - session.last_status >= STATUS_EVERY_S:
                session.last_status = now  # the teacher hears it even without observations
                self._status(session, None)

    def _observed(self, frame: TappedFrame, observation: Observation) -> None:
        """From the pipeline, for each analysed frame."""
        session = self._session_of(frame.stream_id)
        if session is None:
            return  # the attempt ended meanwhile
        if not observation.still:  # a still picture's finding stood: no model ran for it
            session.recorder.report.frames_analysed += 1
            self.analysis.record(observation.latency_ms)
        session.faces = len(observation.faces)
        session.rules.observe(frame.arrived, observation)
        session.rules.hear(frame.arrived, self.unit.hub(frame.stream_id).audio_level)
        # The rate is raised for the end of a rule's hold, where the frames decide when it opens
        # (and the alert comes), not for all of it: at the stream's own rate until then, two of
        # its frames ahead (a face that comes back meanwhile is a changed picture, seen at once).
        decides_at, lead = session.rules.decides_at, self.pipeline.options.deciding_lead_s
        deciding = decides_at is not None and (
            lead is None or frame.arrived >= decides_at - max(lead, 2 / session.analysis_fps)
        )
        if deciding != session.deciding:
            session.deciding = deciding
            self.pipeline.deciding(frame.stream_id, deciding)
        if frame.arrived - session.last_status >= STATUS_EVERY_S:
            session.last_status = frame.arrived
            self._status(session, observation)

    def _status(self, session: _Session, observation: Observation | None) -> None:
        hub = self.unit.hub(str(session.attempt_id))
        open_violations = [span.type for span in session.rules.open_violations]
        self.announcer.status(
            session.attempt_id,
            live=hub.state == "live",
            camera_ok=hub.state == "live" and "video_unusable" not in open_violations,
            open_violations=open_violations,
            observation=observation,
        )

    async def close(self) -> None:
        # Concurrently: each stop may wait a few seconds for its clips' post-roll.
        await asyncio.gather(
            *self._stopping,
            *(self.stop(attempt_id) for attempt_id in list(self._sessions)),
            return_exceptions=True,
        )
        self._ended.close()
        await self.pipeline.close()
