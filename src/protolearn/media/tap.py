"""FrameTap: decoded video frames for analysis, at a set rate per stream, failing closed.

VP8 frames depend on the ones before them, so a stream's decoder sees every frame; only the
frames due at the analysis rate are converted and handed out. A stream's rate may be raised for
a while (`set_rate`: proctoring does while one of its rules is deciding), and a frame whose
picture changed a lot from the last one handed out is handed out at once, ahead of the
schedule (at most every CHANGE_MIN_GAP_S): a face that leaves is seen on the next frame, not
up to a sampling period later.

Where the publisher sends a smaller copy of its camera for analysis (the hub's "analysis" track),
that copy is what is decoded, and of the camera only a keyframe now and then (the relay asks for
one every few seconds), decoded alone at full size: handed out as a `scan` frame for the room
scan (a far face needs the camera's pixels), and compared with the copy's picture of the same
moment. A copy that does not show what the camera shows (twice in a row), or that no camera
keyframe has confirmed for CHECK_WITHIN_S, is not trusted again for the stream, which is decoded
from its camera from then on, as it is when the copy goes quiet: a page that sends a recording
for analysis while the teacher sees the camera gains nothing. Decoding runs on a thread pool
(one stream's frames in order), never on the event loop. Both queues are bounded: a decoder
that falls behind skips to the next keyframe; a consumer that falls behind loses the oldest
tapped frames.

A publisher may send anything. Sizes are bounded both ways before decoding (a key frame's header
says its size: too small or too large is refused, never decoded) and after it (odd sizes made
even, large pictures scaled down for analysis); an undecodable frame, a refused size or a frozen
picture is counted by stream and kind and recorded in the stream's `VideoHealth`, which says
when the stream last gave a usable picture and since when its picture has been frozen (frozen
pictures are still handed out: an encoder may repeat a still scene exactly). Nothing a stream
sends ends its decoder or touches another stream's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter, deque
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import cast

import av
import cv2
import numpy as np
import numpy.typing as npt

from protolearn.media.forwarding import VIDEO_CLOCK, EncodedFrame
from protolearn.media.streams import StreamHub, Track
from protolearn.media.vp8 import keyframe_size
from protolearn.supervision import TaskFailures, supervise

__all__ = ("FrameBounds", "FrameTap", "TapStats", "TappedFrame", "VideoHealth")

log = logging.getLogger(__name__)

# Encoded frames waiting for the decoder: 1 s at 30 fps.
DECODE_BACKLOG = 30
# Luma sampled on this grid to tell a frozen picture (identical samples) from a live one.
FROZEN_STEP = 8
# Below this mean (limited-range) luma a picture is too dark to tell frozen from still.
FROZEN_MIN_LUMA = 40
# A picture equal to one of this many analysed before it is frozen.
FROZEN_HISTORY = 4
# More video frames than this in one second is a flood, not a camera.
MAX_VIDEO_FPS = 90
# A picture changed when this share of its 32x32-pixel blocks changed their mean luma by at
# least CHANGE_LUMA levels since the last frame handed out: someone leaving or sitting down, a
# hand over the lens, the lights; not a head turning or a camera's noise. The means are taken
# from every 8th sample of every 8th row (a strided view: 1/64 of the picture is read).
CHANGE_BLOCK = 32
CHANGE_SAMPLE = 8
CHANGE_LUMA = 32
CHANGE_SHARE = 0.3
CHANGE_MIN_GAP_S = 0.2  # a changed picture is handed out early at most this often
# The analysis copy, checked against the camera's keyframes: a keyframe matches when one of the
# copy's pictures within CHECK_NEAR_S of it (before or after: the two tracks arrive apart), both
# shrunk to this grid of mean luma, differs from it by at most CHECK_LUMA on average (a
# different scene does, the copy's coarser encoding does not).
CHECK_GRID = (16, 12)
CHECK_LUMA = 24
CHECK_NEAR_S = 0.5
COPY_HISTORY = 8  # the copy's last pictures kept to compare with (a second at its rate)
CHECK_MISMATCHES = 2  # in a row: the copy is not trusted again
CHECK_WITHIN_S = 20.0  # a copy no camera keyframe has confirmed for this long is not trusted
CHECK_MIN_GAP_S = 1.0  # camera keyframes decoded at most this often
ANALYSIS_QUIET_S = 1.0  # a copy silent this long: the camera is decoded instead


@dataclass(frozen=True, slots=True)
class FrameBounds:
    """What the tap decodes and hands out. The defaults take any webcam up to 1920x1200."""

    min_width: int = 64
    min_height: int = 48
    max_decode_pixels: int = 1920 * 1200  # a larger key frame is refused before decoding
    max_analysis_width: int = 1280  # larger pictures are scaled down for analysis
    max_analysis_height: int = 720
    max_aspect: float = 4.0  # a 4000x48 strip would shrink to nothing the detector can read

    def refuse(self, width: int, height: int) -> str | None:
        """Why a picture of this size is not decoded, or None."""
        if width < self.min_width or height < self.min_height:
            return "too_small"
        if width * height > self.max_decode_pixels:
            return "too_large"
        if max(width / height, height / width) > self.max_aspect:
            return "bad_aspect"
        return None

    def analysis_size(self, width: int, height: int) -> tuple[int, int]:
        """Even dimensions within the analysis bounds, keeping the aspect ratio."""
        scale = min(1.0, self.max_analysis_width / width, self.max_analysis_height / height)
        return max(2, int(width * scale) & ~1), max(2, int(height * scale) & ~1)


@dataclass(frozen=True, slots=True)
class TappedFrame:
    stream_id: str
    pixels: npt.NDArray[np.uint8]  # I420: (height * 3 / 2, width)
    media_time: float  # seconds since the stream's first frame
    arrived: float  # time.monotonic() the encoded frame reached the server
    frozen: bool = False  # the same picture as one analysed just before
    # A camera keyframe decoded beside the analysis copy, for the room scan: another size than
    # the stream's other frames.
    scan: bool = False


@dataclass(slots=True)
class VideoHealth:
    """One stream's video as the tap sees it."""

    last_usable: float | None = None  # arrival of the last picture handed out for analysis
    problem: str = ""  # the last reason a frame was not usable
    problem_at: float | None = None
    frozen_since: float | None = None  # the picture has not changed since (None: it changes)


@dataclass(slots=True)
class TapStats:
    decoded: int = 0
    tapped: int = 0
    dropped_encoded: int = 0  # decoder behind, or waiting for a keyframe
    dropped_tapped: int = 0  # consumer behind: oldest tapped frames discarded
    decode_errors: int = 0
    decode_seconds: float = 0.0
    changed: int = 0  # frames handed out ahead of the schedule, their picture having changed
    analysis_decoded: int = 0  # of `decoded`, frames of analysis copies
    checked: int = 0  # camera keyframes decoded to check a copy (and room scan at full size)
    # Frames of the track not decoded: the camera's while its copy is (but for the keyframes
    # checked), a copy's before its keyframe or once it is not trusted.
    passed_over: int = 0
    streams: dict[str, int] = field(default_factory=dict)  # tapped frames per stream
    # Frames skipped as unusable, by (stream, kind): undecodable, too_small, too_large, frozen,
    # conversion; and analysis copies refused, analysis_mismatch and analysis_unchecked.
    problems: Counter[tuple[str, str]] = field(default_factory=Counter)
    task_failures: TaskFailures = field(default_factory=Counter)


class FrameTap:
    """Decodes the video of the streams it is attached to and puts frames due at rate_fps into
    `frames` (an asyncio.Queue of at most capacity TappedFrames)."""

    def __init__(
        self,
        executor: Executor,
        rate_fps: float = 2.0,
        capacity: int = 64,
        bounds: FrameBounds | None = None,
        early_on_change: bool = True,
    ) -> None:
        if rate_fps <= 0 or capacity < 1:
            raise ValueError("rate_fps must be > 0 and capacity >= 1")
        self.rate_fps = rate_fps
        self.bounds = bounds or FrameBounds()
        self.early_on_change = early_on_change  # a changed picture goes out ahead of the schedule
        self.frames: asyncio.Queue[TappedFrame] = asyncio.Queue(capacity)
        self.stats = TapStats()
        self._executor = executor
        self._streams: dict[str, _StreamDecoder] = {}

    def attach(self, hub: StreamHub, rate_fps: float | None = None) -> None:
        """Taps the hub's video at rate_fps (default: the tap's own rate)."""
        if hub.stream_id in self._streams:
            return
        decoder = _StreamDecoder(self, hub, rate_fps or self.rate_fps)
        self._streams[hub.stream_id] = decoder
        hub.add_listener(decoder.on_frame)
        hub.add_listener(decoder.on_analysis_frame, analysis=True)

    def set_rate(self, stream_id: str, rate_fps: float | None) -> None:
        """The stream's frames handed out at rate_fps from now on, never slower than the rate
        it was attached with; None: that rate."""
        decoder = self._streams.get(stream_id)
        if decoder is not None:
            decoder.rate_fps = decoder.base_fps if rate_fps is None else max(rate_fps, decoder.base_fps)

    def rate(self, stream_id: str) -> float | None:
        decoder = self._streams.get(stream_id)
        return None if decoder is None else decoder.rate_fps

    def health(self, stream_id: str) -> VideoHealth | None:
        decoder = self._streams.get(stream_id)
        return None if decoder is None else decoder.health

    def source(self, stream_id: str) -> Track | None:
        """Which track of the stream is decoded for analysis now."""
        decoder = self._streams.get(stream_id)
        return None if decoder is None else decoder.source

    async def detach(self, hub: StreamHub) -> None:
        """Stops tapping the stream and forgets its counts."""
        decoder = self._streams.pop(hub.stream_id, None)
        if decoder is not None:
            hub.remove_listener(decoder.on_frame)
            hub.remove_listener(decoder.on_analysis_frame)
            await decoder.close()
        self.stats.streams.pop(hub.stream_id, None)
        for key in [key for key in self.stats.problems if key[0] == hub.stream_id]:
            del self.stats.problems[key]

    def request_scan(self, stream_id: str) -> None:
        """Asks for the camera's next picture (a keyframe) for a room scan, where the stream's
        analysis copy is what is decoded (otherwise its own frames serve): as soon as the tap
        will decode it, CHECK_MIN_GAP_S after the last one."""
        decoder = self._streams.get(stream_id)
        if decoder is not None and decoder.source == "analysis":
            decoder.request_check()

    def attached(self, stream_id: str) -> bool:
        return stream_id in self._streams

    async def close(self) -> None:
        for decoder in list(self._streams.values()):
            await self.detach(decoder.hub)

    def _hand_out(self, frame: TappedFrame) -> None:
        if self.frames.full():
            self.frames.get_nowait()
            self.stats.dropped_tapped += 1
        self.frames.put_nowait(frame)
        self.stats.tapped += 1
        self.stats.streams[frame.stream_id] = self.stats.streams.get(frame.stream_id, 0) + 1


@dataclass(slots=True)
class _Decoded:
    """What one decode pass on a worker thread found, applied on the event loop (the worker
    touches no shared state)."""

    due: list[TappedFrame] = field(default_factory=list)
    problems: list[tuple[str, float]] = field(default_factory=list)  # (kind, arrived)
    # Camera keyframes against the copy: (arrived, same picture), None where not compared.
    checks: list[tuple[float, bool | None]] = field(default_factory=list)
    needs_keyframe: bool = False
    decoded: int = 0
    analysis_decoded: int = 0
    checked: int = 0  # camera keyframes decoded alone
    changed: int = 0
    decode_errors: int = 0
    skipped: int = 0
    seconds: float = 0.0


class _StreamDecoder:
    def __init__(self, tap: FrameTap, hub: StreamHub, rate_fps: float) -> None:
        self.tap = tap
        self.hub = hub
        self.base_fps = rate_fps
        self.rate_fps = rate_fps  # set on the event loop, read by the worker thread
        self.health = VideoHealth()
        self.source: Track = "video"  # the track decoded for analysis
        self._pending: list[tuple[EncodedFrame, bool]] = []  # (frame, a camera keyframe to check)
        self._wake = asyncio.Event()
        self._codec = av.CodecContext.create("libvpx", "r")
        self._needs_keyframe = True
        # The analysis copy, on the event loop:
        self._distrusted = False  # a copy failed its checks: the camera is decoded for good
        self._copy_seen = float("-inf")  # arrival of its last frame
        self._confirmed = float("-inf")  # arrival of the last camera keyframe that matched it
        self._mismatches = 0  # in a row
        self._last_check = float("-inf")  # arrival of the last camera keyframe queued to check
        self._check_request: asyncio.TimerHandle | None = None  # a keyframe to be asked for
        self._window_start = float("-inf")  # arrival-time window counting frames against flooding
        self._window_frames = 0
        # Worker thread only:
        self._next_due = float("-inf")  # arrival time of the next frame to hand out
        self._period = 1 / rate_fps  # of the schedule _next_due follows
        self._last_out = float("-inf")  # arrival of the last frame handed out
        self._last_luma: npt.NDArray[np.int16] | None = None  # its block means
        self._recent_samples: deque[npt.NDArray[np.uint8]] = deque(maxlen=FROZEN_HISTORY)
        self._broken = False  # a frame failed: skip to the next keyframe
        self._check_codec = av.CodecContext.create("libvpx", "r")  # camera keyframes only
        self._copies: deque[tuple[av.VideoFrame, float]] = deque(maxlen=COPY_HISTORY)  # (picture, arrived)
        # Camera keyframes no copy picture has matched yet: (grid, arrived, compared with one).
        self._unmatched: deque[tuple[npt.NDArray[np.int16], float, bool]] = deque(maxlen=4)
        self._task = asyncio.create_task(
            supervise(
                "tap-decoder",
                self._run,
                failures=tap.stats.task_failures,
                context=f"stream {hub.stream_id}",
            ),
            name=f"tap-{hub.stream_id}",
        )

    def on_frame(self, frame: EncodedFrame) -> None:
        """On the event loop, for every frame of the stream's camera and microphone: queue
        video for decoding (while a copy is analysed, a camera keyframe now and then)."""
        if frame.kind != "video":
            return
        if self.source == "analysis":
            if frame.arrived - self._copy_seen <= ANALYSIS_QUIET_S:
                if frame.keyframe and frame.arrived - self._last_check >= CHECK_MIN_GAP_S:
                    self._queue_check(frame)
                else:
                    self.tap.stats.passed_over += 1
                return
            self._decode_from("video")  # the copy went quiet
        self._accept(frame)

    def on_analysis_frame(self, frame: EncodedFrame) -> None:
        """On the event loop, for every frame of the stream's analysis copy."""
        if self._distrusted:
            self.tap.stats.passed_over += 1
            return
        self._copy_seen = frame.arrived
        if self.source == "video":
            if not frame.keyframe:
                self.tap.stats.passed_over += 1
                self.hub.request_keyframe("analysis")  # to start decoding it (rate limited)
                return
            self._decode_from("analysis")
            self._confirmed = frame.arrived  # its first check is due within CHECK_WITHIN_S
        elif frame.arrived - self._confirmed > CHECK_WITHIN_S:
            self._distrust("analysis_unchecked", frame.arrived)
            self.tap.stats.passed_over += 1
            return
        self._accept(frame)

    def _decode_from(self, source: Track) -> None:
        self.source = source
        self._mismatches = 0
        self._needs_keyframe = True
        # To the camera: its next keyframe starts the decoding. To the copy: the camera's next
        # keyframe is its first check, now rather than at the relay's next periodic one.
        self.hub.request_keyframe()

    def _distrust(self, kind: str, arrived: float) -> None:
        log.warning(
            "stream %s: its analysis copy is not trusted (%s); decoding its camera", self.hub.stream_id, kind
        )
        self._problem(kind, arrived)
        self._distrusted = True
        self._decode_from("video")

    def request_check(self) -> None:
        """The camera's next keyframe, asked for so that it comes when one will be decoded."""
        if self._check_request is not None:
            return  # asked already
        wait = self._last_check + CHECK_MIN_GAP_S - time.monotonic()

        def ask() -> None:
            self._check_request = None
            self.hub.request_keyframe()

        self._check_request = asyncio.get_running_loop().call_later(max(0.0, wait), ask)

    def _queue_check(self, frame: EncodedFrame) -> None:
        size = keyframe_size(frame.data)
        refused = "undecodable" if size is None else self.tap.bounds.refuse(*size)
        if refused is not None:
            self._problem(refused, frame.arrived)
            self.tap.stats.dropped_encoded += 1
            return
        self._last_check = frame.arrived
        self._pending.append((frame, True))
        self._wake.set()

    def _accept(self, frame: EncodedFrame) -> None:
        """Queues a frame of the decoded track, in order."""
        if self._flooding(frame.arrived):
            self._refuse("flooding", frame)
            return
        if frame.keyframe:
            size = keyframe_size(frame.data)
            refused = "undecodable" if size is None else self.tap.bounds.refuse(*size)
            if refused is not None:
                self._refuse(refused, frame)  # never decoded
                return
        if self._needs_keyframe:
            if not frame.keyframe:
                self.tap.stats.dropped_encoded += 1
                return
            self._needs_keyframe = False
        if len(self._pending) >= DECODE_BACKLOG:
            self.tap.stats.dropped_encoded += len(self._pending)
            self._pending.clear()
            if not frame.keyframe:
                self._needs_keyframe = True
                self.tap.stats.dropped_encoded += 1
                self.hub.request_keyframe(_track(frame))
                return
        self._pending.append((frame, False))
        self._wake.set()

    def _flooding(self, arrived: float) -> bool:
        """More video frames in one second than any camera sends: decoding them all would let
        one publisher take the decoders from everyone else."""
        if arrived - self._window_start >= 1.0:
            self._window_start, self._window_frames = arrived, 0
        self._window_frames += 1
        return self._window_frames > MAX_VIDEO_FPS

    def _refuse(self, kind: str, frame: EncodedFrame) -> None:
        """A frame not decoded: what follows depends on it, so wait for an acceptable keyframe."""
        self._problem(kind, frame.arrived)
        self._needs_keyframe = True
        self.tap.stats.dropped_encoded += 1
        self.hub.request_keyframe(_track(frame))  # rate limited by the hub

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        stats = self.tap.stats
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if not batch:
                continue
            decoded = await loop.run_in_executor(self.tap._executor, self._decode, batch)
            stats.decoded += decoded.decoded
            stats.analysis_decoded += decoded.analysis_decoded
            stats.checked += decoded.checked
            stats.changed += decoded.changed
            stats.decode_errors += decoded.decode_errors
            stats.dropped_encoded += decoded.skipped
            stats.decode_seconds += decoded.seconds
            for kind, arrived in decoded.problems:
                self._problem(kind, arrived)
            if decoded.needs_keyframe:
                self.hub.request_keyframe(self.source)
            for arrived, same in decoded.checks:
                self._checked(arrived, same)
            for tapped in decoded.due:
                self.health.last_usable = tapped.arrived
                if tapped.scan:
                    pass  # another size: not part of the frozen-picture history
                elif tapped.frozen:
                    if self.health.frozen_since is None:
                        self.health.frozen_since = tapped.arrived
                else:
                    self.health.frozen_since = None
                    self.health.problem = ""
                self.tap._hand_out(tapped)

    def _checked(self, arrived: float, same: bool | None) -> None:
        """A camera keyframe compared with the copy's picture of the same moment."""
        if same is None or self.source != "analysis":
            return
        if same:
            self._confirmed, self._mismatches = max(self._confirmed, arrived), 0
            return
        self._mismatches += 1
        if self._mismatches >= CHECK_MISMATCHES:
            self._distrust("analysis_mismatch", arrived)

    def _problem(self, kind: str, arrived: float) -> None:
        self.tap.stats.problems[(self.hub.stream_id, kind)] += 1
        self.health.problem, self.health.problem_at = kind, arrived

    def _decode(self, batch: list[tuple[EncodedFrame, bool]]) -> _Decoded:
        """On a worker thread: decode every frame, convert only those due. Never raises for
        what a frame holds: each failure is a problem of that frame."""
        started = time.perf_counter()
        result = _Decoded()
        for encoded, check in batch:
            if check:
                self._check(encoded, result)
                continue
            if self._broken and not encoded.keyframe:
                result.skipped += 1
                continue
            self._broken = False
            try:
                frames = self._codec.decode(av.Packet(encoded.data))
            except Exception:  # PyAV raises FFmpegError, but also ValueError and others
                result.decode_errors += 1
                result.problems.append(("undecodable", encoded.arrived))
                self._broken = True  # what follows depends on the broken frame
                continue
            for frame in frames:
                result.decoded += 1
                if encoded.kind == "analysis":
                    result.analysis_decoded += 1
                    self._copies.append((frame, encoded.arrived))
                    self._match_later(frame, encoded.arrived, result)
                try:
                    tapped = self._due(frame, encoded, result)
                except Exception:  # a picture the conversion cannot read: its own problem only
                    result.problems.append(("conversion", encoded.arrived))
                    continue
                if tapped is not None:
                    result.due.append(tapped)
        result.needs_keyframe = self._broken
        result.seconds = time.perf_counter() - started
        return result

    def _due(self, frame: av.VideoFrame, encoded: EncodedFrame, result: _Decoded) -> TappedFrame | None:
        # Paced by the server's clock, not the publisher's RTP timestamps, which a publisher
        # could make jump to have every frame analysed. On schedule while frames come; after a
        # gap the schedule starts again from the frame that ends it. A raised rate takes effect
        # at once; a changed picture goes out early and the schedule starts again from it.
        arrived = encoded.arrived
        period = 1 / self.rate_fps
        if period != self._period:  # a new rate counts from the last frame handed out
            self._period = period
            self._next_due = self._last_out + period
        on_schedule = arrived + 1e-3 >= self._next_due
        may_change = self.tap.early_on_change and arrived - self._last_out >= CHANGE_MIN_GAP_S
        if not on_schedule and not may_change:
            return None  # not due, and too soon after the last for a change to count
        luma = self._luma_samples(frame) if self.tap.early_on_change else None
        if not on_schedule:
            if not self._changed(luma):
                return None
            result.changed += 1
        self._next_due = (
            self._next_due if on_schedule and arrived - self._next_due <= period else arrived
        ) + period
        self._last_out, self._last_luma = arrived, luma
        bounds = self.tap.bounds
        refused = bounds.refuse(frame.width, frame.height)
        if refused is not None:  # libvpx follows the key frame's size, so this is a safety net
            result.problems.append((refused, arrived))
            return None
        pixels = self._pixels(frame, arrived, result)
        if pixels is None:
            return None
        height = pixels.shape[0] * 2 // 3  # I420: the luma plane's rows, then chroma
        # A frozen picture is still analysed (an empty room is no_face whatever the encoder
        # made of it); how long it stays frozen is for proctoring to judge.
        frozen = self._frozen(pixels[:height:FROZEN_STEP, ::FROZEN_STEP])
        if frozen:
            result.problems.append(("frozen", arrived))
        return TappedFrame(self.hub.stream_id, pixels, encoded.timestamp / VIDEO_CLOCK, arrived, frozen)

    def _pixels(self, frame: av.VideoFrame, arrived: float, result: _Decoded) -> npt.NDArray[np.uint8] | None:
        """The picture as I420 at analysis size; None (a problem) where it cannot be read."""
        width, height = self.tap.bounds.analysis_size(frame.width, frame.height)
        try:
            if (width, height) != (frame.width, frame.height) or frame.format.name != "yuv420p":
                frame = frame.reformat(width=width, height=height, format="yuv420p")
            return cast("npt.NDArray[np.uint8]", frame.to_ndarray(format="yuv420p"))
        except Exception:  # PyAV asserts and raises its own errors on odd frames
            result.problems.append(("conversion", arrived))
            return None

    def _check(self, encoded: EncodedFrame, result: _Decoded) -> None:
        """A camera keyframe, decoded alone: compared with the copy's pictures around it (those
        to come, as they come), and handed out for the room scan."""
        result.checked += 1
        try:
            frames = self._check_codec.decode(av.Packet(encoded.data))
        except Exception:  # as in _decode: the keyframe's own problem
            result.problems.append(("undecodable", encoded.arrived))
            return
        for frame in frames:
            arrived = encoded.arrived
            try:
                grid = _grid(frame)
            except Exception:  # a picture the conversion cannot read: no verdict
                result.checks.append((arrived, None))
                continue
            near = [copy for copy, at in self._copies if abs(at - arrived) <= CHECK_NEAR_S]
            if any(_same(grid, copy) for copy in near):
                result.checks.append((arrived, True))
            else:
                self._unmatched.append((grid, arrived, bool(near)))
            pixels = self._pixels(frame, arrived, result)
            if pixels is not None:
                media_time = encoded.timestamp / VIDEO_CLOCK
                result.due.append(
                    TappedFrame(self.hub.stream_id, pixels, media_time, encoded.arrived, scan=True)
                )

    def _match_later(self, copy: av.VideoFrame, arrived: float, result: _Decoded) -> None:
        """A copy picture against the camera keyframes before it that none has matched yet; a
        keyframe whose window has passed is a mismatch (no verdict if no copy came in it)."""
        if not self._unmatched:
            return
        try:
            copy_grid: npt.NDArray[np.int16] | None = _grid(copy)
        except Exception:  # a copy picture the conversion cannot read matches nothing
            copy_grid = None
        kept: deque[tuple[npt.NDArray[np.int16], float, bool]] = deque(maxlen=self._unmatched.maxlen)
        for grid, at, compared in self._unmatched:
            if arrived - at > CHECK_NEAR_S:
                result.checks.append((at, False if compared else None))
            elif copy_grid is not None and _alike(grid, copy_grid):
                result.checks.append((at, True))
            else:
                kept.append((grid, at, True))
        self._unmatched = kept

    @staticmethod
    def _luma_samples(frame: av.VideoFrame) -> npt.NDArray[np.int16] | None:
        """Mean luma of each whole CHANGE_BLOCK block, from samples read in place."""
        blocks_down, blocks_across = frame.height // CHANGE_BLOCK, frame.width // CHANGE_BLOCK
        if frame.format.name not in ("yuv420p", "yuvj420p") or not blocks_down or not blocks_across:
            return None
        plane = frame.planes[0]
        if plane.line_size < frame.width:
            return None
        try:
            rows = np.frombuffer(memoryview(plane), np.uint8, count=plane.line_size * frame.height)
        except ValueError:  # a plane shorter than its frame says: no samples, no early frame
            return None
        per = CHANGE_BLOCK // CHANGE_SAMPLE
        grid = rows.reshape(frame.height, plane.line_size)[
            : blocks_down * CHANGE_BLOCK : CHANGE_SAMPLE, : blocks_across * CHANGE_BLOCK : CHANGE_SAMPLE
        ]
        means = grid.reshape(blocks_down, per, blocks_across, per).mean(axis=(1, 3))
        return cast("npt.NDArray[np.int16]", means.astype(np.int16))

    def _changed(self, luma: npt.NDArray[np.int16] | None) -> bool:
        """The picture changed a lot since the last frame handed out (not just before it)."""
        last = self._last_luma
        if luma is None or last is None or last.shape != luma.shape:
            return False
        moved = np.count_nonzero(np.abs(luma - last) >= CHANGE_LUMA)
        return bool(moved >= CHANGE_SHARE * luma.size)

    def _frozen(self, sample: npt.NDArray[np.uint8]) -> bool:
        """The same picture as one of the last few analysed (a still image, or a few of them
        in turn); a camera's noise never repeats a picture exactly. Too dark to tell: not."""
        frozen = float(sample.mean()) >= FROZEN_MIN_LUMA and any(
            np.array_equal(sample, seen) for seen in self._recent_samples
        )
        self._recent_samples.append(sample.copy())
        return frozen

    async def close(self) -> None:
        if self._check_request is not None:
            self._check_request.cancel()
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task


def _track(frame: EncodedFrame) -> Track:
    return "analysis" if frame.kind == "analysis" else "video"


def _grid(frame: av.VideoFrame) -> npt.NDArray[np.int16]:
    """The picture's luma shrunk to CHECK_GRID: from the decoder's own luma plane where it is
    4:2:0 (every few samples of it, as many for the camera as for its smaller copy, then an
    area average), else through a conversion (a new scaler each time: four times the cost)."""
    width, height = CHECK_GRID
    plane = frame.planes[0]
    if frame.format.name in ("yuv420p", "yuvj420p") and plane.line_size >= frame.width:
        rows = np.frombuffer(memoryview(plane), np.uint8, count=plane.line_size * frame.height)
        step = max(1, min(frame.width // (width * 10), frame.height // (height * 10)))
        luma = rows.reshape(frame.height, plane.line_size)[::step, : frame.width : step]
        small = cv2.resize(np.ascontiguousarray(luma), (width, height), interpolation=cv2.INTER_AREA)
    else:
        small = frame.reformat(width=width, height=height, format="gray", interpolation="AREA").to_ndarray()
    return cast("npt.NDArray[np.int16]", small.astype(np.int16))


def _same(grid: npt.NDArray[np.int16], copy: av.VideoFrame) -> bool:
    """A camera keyframe's grid and a copy picture show the same scene; a copy picture the
    conversion cannot read does not."""
    try:
        return _alike(grid, _grid(copy))
    except Exception:
        return False


def _alike(grid: npt.NDArray[np.int16], other: npt.NDArray[np.int16]) -> bool:
    return bool(np.abs(grid - other).mean() <= CHECK_LUMA)
