"""Proctoring sessions: one per attempt whose student streams, from its first stream to its end.

A session starts with the student's first stream for an in-progress attempt and survives
reconnects (the stream hub outlives connections). Its frames come through the shared frame
pipeline (pipeline.py) at the test's analysis rate; observations, the microphone level, the
stream's state and the health of its video feed the attempt's RuleEngine, whose violations the
session's ViolationRecorder stores with clips (recording.py) and the Announcer tells people
about (announcements.py). A session ends when its attempt ends, however that happened: the
supervisor hears `AttemptEnded` on the bus (assessment/lifecycle.py); open violations end then.

Times are one monotonic clock, `clock` (time.monotonic unless a test gives its own): frame
arrivals, stream events and the periodic video check all read it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protolearn.assessment.lifecycle import AttemptLifecycle
from protolearn.events.bus import ATTEMPTS_ENDED, EventBus
from protolearn.events.messages import AttemptEnded
from protolearn.media.recorder import ClipStore, SegmentRecorder
from protolearn.media.relay import ForwardingUnit
from protolearn.media.streams import StreamEvent
from protolearn.media.tap import TappedFrame
from protolearn.proctoring.announcements import Announcer
from protolearn.proctoring.pipeline import FramePipeline, PipelineOptions
from protolearn.proctoring.recording import SessionReport, ViolationRecorder
from protolearn.proctoring.rules import RuleEngine
from protolearn.proctoring_settings import RuleThresholds
from protolearn.supervision import TaskFailures, supervise
from protolearn.vision.analyzer import FaceAnalyzer
from protolearn.vision.schemas import Observation

__all__ = ("ProctoringSupervisor", "SessionReport")

log = logging.getLogger(__name__)

STATUS_EVERY_S = 1.0  # student-status from observations, at most this often per attempt
VIDEO_CHECK_EVERY_S = 0.5  # how often live streams are checked for usable video
# Media must have arrived this recently for "no usable picture" to be the video's fault (with
# no media at all the stream is lost: camera_lost).
MEDIA_FLOWING_S = 1.0


@dataclass(slots=True)
class _Session:
    attempt_id: int
    analysis_fps: float
    started: float  # the supervisor's clock
    segments: SegmentRecorder
    recorder: ViolationRecorder
    rules: RuleEngine = field(init=False)
    last_status: float = float("-inf")


class ProctoringSupervisor:
    def __init__(
        self,
        unit: ForwardingUnit,
        sessionmaker: async_sessionmaker[AsyncSession],
        data_dir: Path,
        make_analyzer: Callable[[], FaceAnalyzer],
        bus: EventBus | None = None,
        *,
        lifecycle: AttemptLifecycle | None = None,
        options: PipelineOptions | None = None,
        ring_buffer_seconds: float = 30.0,
        clip_store: ClipStore | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.unit = unit
        self.bus = bus or (lifecycle.bus if lifecycle is not None else EventBus())
        self.lifecycle = lifecycle or AttemptLifecycle(sessionmaker, self.bus, grace_seconds=0)
        self.sessionmaker = sessionmaker
        self.data_dir = data_dir
        self.ring_buffer_seconds = ring_buffer_seconds
        self.clip_store = clip_store  # None: clips are not capped (tests)
        self.clock = clock
        self.task_failures: TaskFailures = Counter()
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
        segments = SegmentRecorder(seconds=self.ring_buffer_seconds)
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
        self._sessions[attempt_id] = session
        hub.add_listener(segments.on_frame)
        await self.pipeline.attach(hub, analysis_fps)

    async def stop(self, attempt_id: int) -> SessionReport | None:
        """The attempt ended: close its violations (with clips), stop tapping, close the stream."""
        session = self._sessions.pop(attempt_id, None)
        if session is None:
            return None
        session.rules.close(self.clock())
        hub = self.unit.hub(str(attempt_id))
        await self.pipeline.detach(hub)
        await session.recorder.close()
        hub.remove_listener(session.segments.on_frame)
        await self.unit.close_stream(str(attempt_id))
        return session.recorder.report

    def report(self, attempt_id: int) -> SessionReport | None:
        session = self._sessions.get(attempt_id)
        return None if session is None else session.recorder.report

    @property
    def attempts(self) -> list[int]:
        """The attempts being proctored now."""
        return list(self._sessions)

    async def run(self) -> None:
        """The background tasks: sessions end with their attempts; live video is checked."""
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(supervise("proctoring-ended", self._stop_ended, failures=self.task_failures))
            tasks.create_task(supervise("proctoring-video", self._check_video, failures=self.task_failures))

    async def _stop_ended(self) -> None:
        while True:
            event = await self._ended.next()
            if isinstance(event, AttemptEnded) and event.attempt_id in self._sessions:
                # Concurrently: a stop waits for its clips' post-roll, and a deadline ends a class.
                task = asyncio.create_task(self.stop(event.attempt_id), name=f"stop-{event.attempt_id}")
                self._stopping.add(task)
                task.add_done_callback(self._stopped)

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

    def on_stream_event(self, event: StreamEvent) -> None:
        """From the relay: a stream went lost or came back."""
        session = self._sessions.get(int(event.stream_id)) if event.stream_id.isdigit() else None
        if session is None:
            return
        now = self.clock()
        if event.state == "lost":
            session.rules.stream_lost(now, self.unit.hub(event.stream_id).last_media)
        elif event.state == "live":
            session.rules.stream_live(now)
        self._status(session, None)

    def check_video(self, now: float | None = None) -> None:
        """Whether each live stream gave a usable picture lately: a stream whose media flows
        but whose video cannot be analysed (undecodable, a size out of bounds, frozen, absent)
        is the rules' video_unusable."""
        now = self.clock() if now is None else now
        for session in list(self._sessions.values()):
            hub = self.unit.hub(str(session.attempt_id))
            health = self.pipeline.health(hub.stream_id)
            if health is None or hub.state != "live" or now - hub.last_media > MEDIA_FLOWING_S:
                continue
            stale_after = max(1.5, 3 / session.analysis_fps)
            last_usable = session.started if health.last_usable is None else health.last_usable
            usable = now - last_usable <= stale_after
            reason = health.problem.replace("_", " ") if health.problem else "no video frames"
            session.rules.video(now, usable, f"no usable picture from the camera ({reason})")

    def _observed(self, frame: TappedFrame, observation: Observation) -> None:
        """From the pipeline, for each analysed frame."""
        session = self._sessions.get(int(frame.stream_id)) if frame.stream_id.isdigit() else None
        if session is None:
            return  # the attempt ended meanwhile
        session.recorder.report.frames_analysed += 1
        session.rules.observe(frame.arrived, observation)
        session.rules.hear(frame.arrived, self.unit.hub(frame.stream_id).audio_level)
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
