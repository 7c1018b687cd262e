"""FrameBatcher: frames from many streams, analysed in batches on worker threads.

A batch closes when it holds max_batch frames or its oldest frame has waited max_wait_ms, and
runs on one of `workers` threads, so the event loop never waits on inference (each thread may
hand its batch on to a process of its own: vision/analysis_processes.py). On a CPU, batching
buys no throughput (ONNX Runtime: 561, 554, 496 frames/s at batch 1, 8, 32 for the detector) and
costs latency and memory, so the defaults take whatever is waiting when a worker frees up (no
wait, at most 8 frames); an accelerator wants max_wait_ms > 0 and bigger batches. Each stream keeps
at most `stream_backlog` frames waiting; beyond that its oldest waiting frame is dropped (its
future resolves to None), so an overloaded server degrades to a lower frame rate, never to
unbounded memory. A stream has at most one batch in flight, so its results arrive in order.
Each stream gets a room scan (full-range detector) about once per room_scan_interval_s, and
its faces are searched for (short-range detector) at least once per search_interval_s; its
other frames follow the faces it had (FaceAnalyzer.analyze's follow). A stream's next room scan
comes after doubt_scan_interval_s instead where its last observation had doubtful candidates (a
face the mesh could not read at the detector's box: the room scan's boxes read better; when that
scan leaves them doubtful too, a cat's head, the stream waits for its next regular one), and
where its last room scan found several faces (the several-faces rule decides: its evidence comes
from room scans, so they come as often as the rule needs them, and back down once one finds a
single face). A frame submitted with scan=True (the camera's own picture beside a smaller
analysis copy) is room scanned when the stream's scan is due, or nearly (the camera's keyframes
come every few seconds, not on the scan's schedule), or when the stream's last scan was of
its own, smaller, frames; it counts as the stream's scan (the stream's own frames are scanned
only if none comes for twice the interval, or to settle a doubt; where several faces decide,
the caller asks the camera for its next picture). One that comes sooner after the last camera
picture scanned is not analysed (its future resolves to None; counted in scans_not_due), so
that however often a publisher sends keyframes, its room scans cost no more. A scanned one
follows nothing, and the stream's next frames do not follow its faces (they are in its own,
larger, coordinates).
With still_empty_s, a frame of a stream whose last two analysed frames showed nobody (no face,
well lit, no doubtful candidate) is not analysed while its picture has not changed since the
last of them (same size, no 32x32 square's mean luma moved by more than STILL_LUMA), up to
still_empty_s after it and until the stream's next room scan is due: its future resolves at once
to that finding (Observation.still; counted in stills). An empty room is most of a missing
student's frames, each a detector run that finds nobody again. A face the short-range detector
can find (the better part of a square or more) changes the square it covers, and its frame is
analysed; far faces are the room scan's, which stills never put off. Two frames, not one, so
that one miss of a student sitting still does not stand for seconds. Only "nobody" stands in
this way, never a face.
A batch that fails is analysed again frame by frame, so one frame that breaks the analysis
costs only its own observation (its future raises AnalysisFailed; counted per stream), never
its batch-mates'. The dispatcher runs under supervision: it is restarted if it ever fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, OrderedDict, deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import msgspec
import numpy as np
import numpy.typing as npt

from protolearn.metrics import INFERENCE_BATCH_SIZE, INFERENCE_SECONDS
from protolearn.supervision import FaultCounter, TaskFailures, supervise
from protolearn.vision.analyzer import Analyzer, AnalyzerOptions
from protolearn.vision.errors import VisionError
from protolearn.vision.frames import Frame, FrameView, view_of
from protolearn.vision.schemas import Face, Observation

__all__ = ("BatcherStats", "FrameBatcher")

log = logging.getLogger(__name__)

# A camera picture (scan=True) is room scanned from this share of the stream's scan interval on:
# the camera's keyframes come every few seconds, on their own schedule, and one a little early
# is the scan, not the reason to wait for the next.
SCAN_FRAME_EARLY = 0.75
# A picture is still while no square of it (FrameView.block_luma) moved its mean luma by more
# than this since the reference frame: a webcam's noise moves a 32x32 square's mean by about one
# level, a face coming into it by tens.
STILL_LUMA = 6.0
# ... and only where the frame it stands on was this much brighter than the analyzer's dark
# threshold: a still picture's brightness moves by less, so it cannot have turned dark meanwhile.
STILL_MIN_BRIGHTNESS = AnalyzerOptions().dark_threshold + 3 * STILL_LUMA


@dataclass(slots=True)
class _Pending:
    stream_id: str
    frame: Frame
    future: asyncio.Future[Observation | None]
    queued_at: float
    room_scan: bool = False
    follow: tuple[Face, ...] = ()
    search: bool = True
    gaze: bool = True
    scan: bool = False  # another picture of the stream, for the room scan only
    luma: npt.NDArray[np.float32] | None = None  # FrameView.block_luma, with still_empty_s


@dataclass(frozen=True, slots=True)
class _Nobody:
    """A stream's last analysed frame, which showed nobody: its squares' luma and finding."""

    luma: npt.NDArray[np.float32]
    observation: Observation
    at: float
    i420: bool


@dataclass(slots=True)
class _Stream:
    waiting: deque[_Pending] = field(default_factory=deque)
    in_flight: bool = False
    last_scan: float = float("-inf")
    scanned_apart: bool = False  # the last scan was of a frame submitted with scan=True
    last_search: float = float("-inf")
    faces: tuple[Face, ...] = ()  # of the last observation: the next frames follow them
    doubted: bool = False  # the last observation had doubtful candidates: scan soon
    doubt_unresolved: bool = False  # the last room scan had them too: wait for the next one
    several: bool = False  # the last room scan found several faces: scan again soon
    empty: int = 0  # analysed frames in a row, up to the last, that showed nobody
    nobody: _Nobody | None = None  # the last of them, once there are two


class BatcherStats(msgspec.Struct, kw_only=True):
    submitted: int = 0
    analysed: int = 0
    dropped: int = 0
    failed: int = 0
    batches: int = 0
    followed: int = 0  # frames whose main face was followed from the last one, no detector run
    # Frames room scanned (the full-range detector, by far a frame's costliest model run), by why:
    # a camera picture sent for it, the stream's interval, a doubt to settle, several faces to
    # confirm (or not).
    room_scans: dict[str, int] = msgspec.field(
        default_factory=lambda: {"camera": 0, "interval": 0, "doubt": 0, "several": 0}
    )
    scans_not_due: int = 0  # camera pictures not analysed: the stream's last scan was too recent
    stills: int = 0  # frames not analysed: an empty room's picture that had not changed


class FrameBatcher:
    """Use inside a running event loop: `async with FrameBatcher(analyzer) as batcher:`."""

    def __init__(
        self,
        analyzer: Analyzer,
        *,
        max_batch: int = 8,
        max_wait_ms: float = 0.0,
        workers: int = 2,
        stream_backlog: int = 4,
        room_scan_interval_s: float = 10.0,
        search_interval_s: float = 1.0,
        doubt_scan_interval_s: float = 1.0,
        still_empty_s: float = 0.0,
    ) -> None:
        if max_batch < 1 or workers < 1 or stream_backlog < 1 or max_wait_ms < 0 or still_empty_s < 0:
            raise ValueError(
                "max_batch, workers and stream_backlog must be >= 1, max_wait_ms and still_empty_s >= 0"
            )
        self.analyzer = analyzer
        self.max_batch = max_batch
        self.max_wait = max_wait_ms / 1000
        self.stream_backlog = stream_backlog
        self.room_scan_interval = room_scan_interval_s
        self.search_interval = search_interval_s
        self.doubt_scan_interval = doubt_scan_interval_s
        self.still_empty = still_empty_s
        self.stats = BatcherStats()
        self.faults = FaultCounter(log)  # frames the analysis failed on, by (stream, "analysis")
        self.task_failures: TaskFailures = Counter()
        self._workers = workers
        self._streams: OrderedDict[str, _Stream] = OrderedDict()
        self._waiting = 0
        self._wake = asyncio.Event()
        self._free_workers = asyncio.Semaphore(workers)
        self._executor: ThreadPoolExecutor | None = None
        self._dispatcher: asyncio.Task[None] | None = None
        self._running: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> FrameBatcher:
        self._executor = ThreadPoolExecutor(self._workers, thread_name_prefix="vision")
        self._dispatcher = asyncio.create_task(
            supervise("vision-batcher", self._dispatch, failures=self.task_failures), name="vision-batcher"
        )
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Stops taking batches, lets running ones finish, resolves what waits with None."""
        if self._dispatcher is not None:
            self._dispatcher.cancel()
            await asyncio.gather(self._dispatcher, return_exceptions=True)
            self._dispatcher = None
        if self._running:
            await asyncio.gather(*self._running, return_exceptions=True)
        for stream in self._streams.values():
            while stream.waiting:
                self._resolve(stream.waiting.popleft(), None)
        self._streams.clear()
        self._waiting = 0
        if self._executor is not None:
            self._executor.shutdown(wait=True)
            self._executor = None

    def submit(
        self, stream_id: str, frame: Frame, gaze: bool = True, scan: bool = False
    ) -> asyncio.Future[Observation | None]:
        """Queues a frame; the future gives its Observation, None if it was dropped (the stream
        was overloaded or forgotten), or raises AnalysisFailed if the analysis failed on it.
        scan: a picture for the room scan, of another size than the stream's other frames.

        Raises FrameFormatError at once for a frame the analyzer cannot read.
        """
        if self._dispatcher is None or self._dispatcher.done():
            raise RuntimeError("FrameBatcher is not running: use `async with FrameBatcher(...)`")
        view = view_of(frame)
        future: asyncio.Future[Observation | None] = asyncio.get_running_loop().create_future()
        stream = self._streams.setdefault(stream_id, _Stream())
        luma = view.block_luma() if self.still_empty and not scan else None
        nobody = None if luma is None else self._still_nobody(stream, view, luma)
        if nobody is not None:
            self.stats.submitted += 1
            self.stats.stills += 1
            future.set_result(
                msgspec.structs.replace(
                    nobody.observation,
                    latency_ms=0.0,
                    room_scanned=False,
                    followed=False,
                    gaze_read=False,
                    still=True,
                )
            )
            return future
        pending = _Pending(stream_id, frame, future, time.perf_counter(), gaze=gaze, scan=scan, luma=luma)
        stream.waiting.append(pending)
        self._waiting += 1
        self.stats.submitted += 1
        if len(stream.waiting) > self.stream_backlog:
            self._resolve(stream.waiting.popleft(), None)
            self._waiting -= 1
            self.stats.dropped += 1
        self._wake.set()
        return future

    def _still_nobody(
        self, stream: _Stream, view: FrameView, luma: npt.NDArray[np.float32]
    ) -> _Nobody | None:
        """The stream's last analysed frame, if it stands (it and the one before showed nobody,
        not long ago) and this picture is the same; nothing of the stream waits (its results
        come in order) and its next room scan is not due."""
        nobody = stream.nobody
        if nobody is None or stream.waiting or stream.in_flight:
            return None
        now = time.perf_counter()
        if now - nobody.at >= self.still_empty or now - stream.last_scan >= self._scan_due(stream, False):
            return None
        seen = nobody.observation
        if (view.width, view.height, view.is_i420) != (seen.width, seen.height, nobody.i420) or not luma.size:
            return None
        return nobody if float(np.abs(luma - nobody.luma).max()) <= STILL_LUMA else None

    def _scan_due(self, stream: _Stream, camera_picture: bool) -> float:
        """How long after its last room scan the stream's next is due: soon while a doubt or
        several faces decide; on its own frames, where its camera's pictures are scanned, only
        after twice the interval (the camera's next picture is the scan, asked for at once
        where several faces decide: the copy's smaller picture may not show a far one)."""
        if stream.scanned_apart and not stream.doubted and not camera_picture:
            return 2 * self.room_scan_interval
        soon = stream.doubted or stream.several
        return self.doubt_scan_interval if soon else self.room_scan_interval

    async def analyze(self, stream_id: str, frame: Frame) -> Observation | None:
        return await self.submit(stream_id, frame)

    def forget(self, stream_id: str) -> None:
        """A stream ended: its waiting frames resolve to None, its counts go."""
        self.faults.forget(stream_id)
        stream = self._streams.pop(stream_id, None)
        if stream is not None:
            while stream.waiting:
                self._resolve(stream.waiting.popleft(), None)
                self._waiting -= 1

    async def _dispatch(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            ready = self._ready_count()
            if ready == 0:
                continue
            if ready < self.max_batch:
                oldest = min(
                    s.waiting[0].queued_at for s in self._streams.values() if s.waiting and not s.in_flight
                )
                delay = oldest + self.max_wait - time.perf_counter()
                if delay > 0:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._full_batch(), timeout=delay)
            await self._free_workers.acquire()
            batch, streams = self._take_batch()
            if not batch:
                self._free_workers.release()
                continue
            task = asyncio.create_task(self._run(batch, streams))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
            if self._ready_count():
                self._wake.set()

    async def _full_batch(self) -> None:
        while self._ready_count() < self.max_batch:
            await self._wake.wait()
            self._wake.clear()

    def _ready_count(self) -> int:
        return sum(len(s.waiting) for s in self._streams.values() if not s.in_flight)

    def _take_batch(self) -> tuple[list[_Pending], list[_Stream]]:
        """Whole backlogs of streams with nothing in flight, longest-waiting streams first."""
        batch: list[_Pending] = []
        taken: list[_Stream] = []
        now = time.perf_counter()
        order = sorted(
            (s for s in self._streams.values() if s.waiting and not s.in_flight),
            key=lambda s: s.waiting[0].queued_at,
        )
        for stream in order:
            if len(batch) >= self.max_batch:
                break
            stream.in_flight = True
            taken.append(stream)
            before = len(batch)
            while stream.waiting and len(batch) < self.max_batch:
                pending = stream.waiting.popleft()
                self._waiting -= 1
                due = self._scan_due(stream, pending.scan)
                since = now - stream.last_scan
                if pending.scan and stream.scanned_apart and since < due * SCAN_FRAME_EARLY:
                    self.stats.scans_not_due += 1
                    self._resolve(pending, None)
                    continue
                if pending.scan or since >= due:
                    pending.room_scan = True
                    self.stats.room_scans[_scan_reason(pending, stream)] += 1
                    stream.last_scan = stream.last_search = now
                    stream.scanned_apart = pending.scan
                elif now - stream.last_search >= self.search_interval:
                    stream.last_search = now
                else:
                    pending.search = False
                if not pending.scan:
                    pending.follow = stream.faces
                batch.append(pending)
            if len(batch) == before:  # all its frames were camera pictures not due: none in flight
                stream.in_flight = False
                taken.pop()
        return batch, taken

    async def _run(self, batch: list[_Pending], streams: list[_Stream]) -> None:
        loop = asyncio.get_running_loop()
        try:
            results = await loop.run_in_executor(self._executor, self._analyze, batch)
            done = time.perf_counter()
            for pending, result in zip(batch, results, strict=True):
                if isinstance(result, VisionError):
                    self.stats.failed += 1
                    self.faults.record(
                        (pending.stream_id, "analysis"),
                        "stream %s: a frame could not be analysed: %s",
                        pending.stream_id,
                        result,
                    )
                    if not pending.future.done():
                        pending.future.set_exception(result)
                    continue
                self.stats.analysed += 1
                self.stats.followed += result.followed
                stream = self._streams.get(pending.stream_id)
                if stream is not None:
                    if not pending.scan:
                        stream.faces = result.faces
                        self._note_nobody(stream, pending, result, done)
                    if result.room_scanned:
                        stream.doubt_unresolved = result.doubtful > 0
                        stream.several = len(result.faces) >= 2
                    stream.doubted = result.doubtful > 0 and not stream.doubt_unresolved
                latency = round((done - pending.queued_at) * 1000, 3)
                self._resolve(pending, msgspec.structs.replace(result, latency_ms=latency))
            self.stats.batches += 1
        except Exception:  # a bug here must not leave futures waiting or the worker taken
            log.exception("vision batch of %d frames could not be finished", len(batch))
            for pending in batch:
                self._resolve(pending, None)
        finally:
            for stream in streams:
                stream.in_flight = False
            self._free_workers.release()
            self._wake.set()

    @staticmethod
    def _note_nobody(stream: _Stream, pending: _Pending, result: Observation, at: float) -> None:
        """What the stream's next still pictures may stand on: this frame, where it and the
        stream's analysed frame before it showed nobody."""
        nobody = not (result.faces or result.doubtful) and result.brightness >= STILL_MIN_BRIGHTNESS
        stream.empty = stream.empty + 1 if nobody else 0
        stream.nobody = None
        if stream.empty >= 2 and pending.luma is not None:
            stream.nobody = _Nobody(pending.luma, result, at, i420=pending.frame.ndim == 2)

    def _analyze(self, batch: list[_Pending]) -> list[Observation | VisionError]:
        """On a worker thread: the batch at once, or frame by frame when the batch fails."""
        INFERENCE_BATCH_SIZE.observe(len(batch))
        with INFERENCE_SECONDS.time():
            return self._analyze_batch(batch)

    def _analyze_batch(self, batch: list[_Pending]) -> list[Observation | VisionError]:
        try:
            return list(
                self.analyzer.analyze(
                    [p.frame for p in batch],
                    [p.room_scan for p in batch],
                    [p.follow for p in batch],
                    [p.search for p in batch],
                    [p.gaze for p in batch],
                )
            )
        except VisionError as error:
            if len(batch) == 1:
                return [error]
        results: list[Observation | VisionError] = []
        for pending in batch:
            try:
                results += self.analyzer.analyze(
                    [pending.frame], [pending.room_scan], [pending.follow], [pending.search], [pending.gaze]
                )
            except VisionError as error:
                results.append(error)
        return results

    @staticmethod
    def _resolve(pending: _Pending, observation: Observation | None) -> None:
        if not pending.future.done():
            pending.future.set_result(observation)


def _scan_reason(pending: _Pending, stream: _Stream) -> str:
    """Why a frame is room scanned (BatcherStats.room_scans' key)."""
    if pending.scan:
        return "camera"
    if stream.doubted:
        return "doubt"
    return "several" if stream.several else "interval"
