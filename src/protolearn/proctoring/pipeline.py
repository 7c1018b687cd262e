"""The frame pipeline shared by every proctored stream of a node: tap -> vision batcher.

Made on the first stream (loading the models takes a moment, off the event loop): one frame
tap decoding on its own threads, one FaceAnalyzer behind a FrameBatcher on inference threads,
and one consumer task handing tapped frames to the batcher and observations to the sink. With
analysis_processes, the analyzer runs in processes of its own, one per inference thread. A
frame the vision core refuses is counted by stream and skipped; the consumer is supervised,
so nothing a stream sends can stop analysis for the others. `last_analysable(stream)` is when
the stream last gave a frame the vision core took (a valid picture, whether the server then had
time to analyse it or not): what proctoring calls usable video.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import partial

from protolearn.media.streams import StreamHub
from protolearn.media.tap import FrameTap, TappedFrame, VideoHealth
from protolearn.metrics import ANALYSIS_LAG_SECONDS
from protolearn.supervision import FaultCounter, TaskFailures, supervise
from protolearn.vision.analysis_processes import AnalysisProcesses
from protolearn.vision.analyzer import Analyzer, FaceAnalyzer
from protolearn.vision.batcher import FrameBatcher
from protolearn.vision.errors import VisionError
from protolearn.vision.schemas import Observation

__all__ = ("FramePipeline", "ObservationSink", "PipelineOptions")

log = logging.getLogger(__name__)

ObservationSink = Callable[[TappedFrame, Observation], None]


@dataclass(frozen=True, slots=True)
class PipelineOptions:
    """Sizes of the shared pipeline (settings: README's table)."""

    decode_workers: int = 1
    inference_workers: int = 2
    max_batch: int = 8
    max_wait_ms: float = 0.0
    tap_capacity: int = 256
    room_scan_interval_s: float = 10.0
    deciding_fps: float = 8.0  # a stream's analysis rate while one of its rules is deciding
    # ... from this long before the rule's hold ends (at least two frames at the stream's own
    # rate); None: for all of the hold
    deciding_lead_s: float | None = 1.0
    early_on_change: bool = True  # a frame whose picture changed a lot is analysed at once
    gaze_interval_s: float = 1.0  # a stream's gaze is read this often, on every frame while deciding
    # An empty room's unchanged picture is not analysed again for up to this long (FrameBatcher)
    still_empty_s: float = 2.0
    # The analyzer runs in inference_workers processes of its own (make_analyzer must pickle),
    # not on threads of the server: its Python work then never holds the event loop's GIL.
    analysis_processes: bool = False
    analysis_niceness: int = 0  # of those processes: the event loop's work goes first


@dataclass(slots=True)
class PipelineStats:
    # Frames the vision core refused or failed on, by (stream, kind).
    problems: FaultCounter = field(default_factory=lambda: FaultCounter(log))
    task_failures: TaskFailures = field(default_factory=Counter)


class FramePipeline:
    def __init__(
        self, make_analyzer: Callable[[], FaceAnalyzer], sink: ObservationSink, options: PipelineOptions
    ) -> None:
        self.options = options
        self.stats = PipelineStats()
        self._make_analyzer = make_analyzer
        self._sink = sink
        self._decode_pool = ThreadPoolExecutor(options.decode_workers, thread_name_prefix="tap")
        self._analyzer: Analyzer | None = None
        self._batcher: FrameBatcher | None = None
        self._tap: FrameTap | None = None
        self._consumer: asyncio.Task[None] | None = None
        self._starting = asyncio.Lock()
        self._analysable: dict[str, float] = {}  # stream -> arrival of its last readable frame
        self._gaze_due: dict[str, float] = {}  # stream -> arrival from which its gaze is read again
        self._deciding: set[str] = set()  # streams one of whose rules is deciding

    @property
    def tap(self) -> FrameTap | None:
        return self._tap

    @property
    def analyzer(self) -> Analyzer | None:
        return self._analyzer

    @property
    def batcher(self) -> FrameBatcher | None:
        return self._batcher

    async def attach(self, hub: StreamHub, analysis_fps: float) -> None:
        tap = await self._start()
        tap.attach(hub, analysis_fps)

    async def detach(self, hub: StreamHub) -> None:
        if self._tap is not None:
            await self._tap.detach(hub)
        if self._batcher is not None:
            self._batcher.forget(hub.stream_id)
        self._analysable.pop(hub.stream_id, None)
        self._gaze_due.pop(hub.stream_id, None)
        self._deciding.discard(hub.stream_id)
        self.stats.problems.forget(hub.stream_id)

    def deciding(self, stream_id: str, deciding: bool) -> None:
        """Whether one of the stream's rules is deciding: its frames are analysed at
        deciding_fps meanwhile (never slower than its own rate), at its own rate after."""
        if deciding:
            self._deciding.add(stream_id)
        else:
            self._deciding.discard(stream_id)
        if self._tap is not None:
            self._tap.set_rate(stream_id, self.options.deciding_fps if deciding else None)

    def health(self, stream_id: str) -> VideoHealth | None:
        return None if self._tap is None else self._tap.health(stream_id)

    def last_analysable(self, stream_id: str) -> float | None:
        return self._analysable.get(stream_id)

    async def _start(self) -> FrameTap:
        async with self._starting:
            if self._tap is None:
                make: Callable[[], Analyzer] = self._make_analyzer
                if self.options.analysis_processes:
                    make = partial(
                        AnalysisProcesses,
                        self._make_analyzer,
                        self.options.inference_workers,
                        niceness=self.options.analysis_niceness,
                        task_failures=self.stats.task_failures,
                    )
                analyzer = await asyncio.get_running_loop().run_in_executor(None, make)
                batcher = FrameBatcher(
                    analyzer,
                    max_batch=self.options.max_batch,
                    max_wait_ms=self.options.max_wait_ms,
                    workers=self.options.inference_workers,
                    room_scan_interval_s=self.options.room_scan_interval_s,
                    still_empty_s=self.options.still_empty_s,
                )
                await batcher.__aenter__()
                self._analyzer, self._batcher = analyzer, batcher
                tap = FrameTap(
                    self._decode_pool,
                    capacity=self.options.tap_capacity,
                    early_on_change=self.options.early_on_change,
                )
                self._tap = tap
                self._consumer = asyncio.create_task(
                    supervise(
                        "proctoring-frames",
                        partial(self._consume, tap, batcher),
                        failures=self.stats.task_failures,
                    ),
                    name="proctoring-frames",
                )
            return self._tap

    async def _consume(self, tap: FrameTap, batcher: FrameBatcher) -> None:
        while True:
            frame = await tap.frames.get()
            if not tap.attached(frame.stream_id):
                continue  # the stream ended while its frame waited: nothing to analyse it for
            stream = frame.stream_id
            gaze = not frame.scan and (
                stream in self._deciding or frame.arrived >= self._gaze_due.get(stream, float("-inf"))
            )
            try:
                future = batcher.submit(stream, frame.pixels, gaze=gaze, scan=frame.scan)
            except VisionError as error:
                self._problem(frame, type(error).__name__, error)
                continue
            if gaze:
                self._gaze_due[stream] = frame.arrived + self.options.gaze_interval_s - 1e-3
            # Taken: a readable picture, however long the analysis then waits for a thread.
            self._analysable[frame.stream_id] = frame.arrived
            future.add_done_callback(partial(self._observed, frame))

    def _observed(self, frame: TappedFrame, done: asyncio.Future[Observation | None]) -> None:
        if done.cancelled():
            return
        error = done.exception()
        if error is not None:
            if not isinstance(error, VisionError):  # the batcher counts its own analysis failures
                self._problem(frame, "analysis", error)
            return
        observation = done.result()
        if observation is None or self._tap is None or not self._tap.attached(frame.stream_id):
            return  # dropped under load, not needed, or the stream ended meanwhile
        if not observation.still:  # analysed: how long it waited for the models
            ANALYSIS_LAG_SECONDS.observe(time.monotonic() - frame.arrived)
        if frame.scan and observation.room_scanned and len(observation.faces) >= 2:
            self._tap.request_scan(frame.stream_id)  # several faces decide: the next scan soon
        try:
            self._sink(frame, observation)
        except Exception as error:  # the sink's fault must not stop the next observation
            self._problem(frame, "sink", error)

    def _problem(self, frame: TappedFrame, kind: str, error: BaseException | None) -> None:
        self.stats.problems.record(
            (frame.stream_id, kind), "stream %s: a frame was skipped (%s): %r", frame.stream_id, kind, error
        )

    async def close(self) -> None:
        if self._consumer is not None:
            self._consumer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._consumer
            self._consumer = None
        if self._tap is not None:
            await self._tap.close()
            self._tap = None
        if self._batcher is not None:
            await self._batcher.close()
            self._batcher = None
        if self._analyzer is not None:
            # Off the loop: analysis processes finish the batch in hand before they end.
            await asyncio.get_running_loop().run_in_executor(None, self._analyzer.close)
            self._analyzer = None
        self._decode_pool.shutdown(wait=False)
