"""FrameTap: decoded video frames for analysis, at a set rate per stream.

VP8 frames depend on the ones before them, so a stream's decoder sees every frame; only the
frames due at the analysis rate are converted and handed out. Decoding runs on a thread pool
(one stream's frames in order), never on the event loop. Both queues are bounded: a decoder
that falls behind skips to the next keyframe; a consumer that falls behind loses the oldest
tapped frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import Executor
from dataclasses import dataclass, field
from typing import cast

import av
import numpy as np
import numpy.typing as npt

from protolearn.media.forwarding import VIDEO_CLOCK, EncodedFrame
from protolearn.media.streams import StreamHub

__all__ = ("FrameTap", "TapStats", "TappedFrame")

log = logging.getLogger(__name__)

# Encoded frames waiting for the decoder: 1 s at 30 fps.
DECODE_BACKLOG = 30


@dataclass(frozen=True, slots=True)
class TappedFrame:
    stream_id: str
    pixels: npt.NDArray[np.uint8]  # I420: (height * 3 / 2, width)
    media_time: float  # seconds since the stream's first frame
    arrived: float  # time.monotonic() the encoded frame reached the server


@dataclass(slots=True)
class TapStats:
    decoded: int = 0
    tapped: int = 0
    dropped_encoded: int = 0  # decoder behind: skipped to a keyframe
    dropped_tapped: int = 0  # consumer behind: oldest tapped frames discarded
    decode_errors: int = 0
    decode_seconds: float = 0.0
    streams: dict[str, int] = field(default_factory=dict)  # tapped frames per stream


class FrameTap:
    """Decodes the video of the streams it is attached to and puts frames due at rate_fps into
    `frames` (an asyncio.Queue of at most capacity TappedFrames)."""

    def __init__(self, executor: Executor, rate_fps: float = 2.0, capacity: int = 64) -> None:
        if rate_fps <= 0 or capacity < 1:
            raise ValueError("rate_fps must be > 0 and capacity >= 1")
        self.rate_fps = rate_fps
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

    async def detach(self, hub: StreamHub) -> None:
        decoder = self._streams.pop(hub.stream_id, None)
        if decoder is not None:
            hub.remove_listener(decoder.on_frame)
            await decoder.close()

    async def close(self) -> None:
        for decoder in list(self._streams.values()):
            decoder.hub.remove_listener(decoder.on_frame)
            await decoder.close()
        self._streams.clear()

    def _hand_out(self, frame: TappedFrame) -> None:
        if self.frames.full():
            self.frames.get_nowait()
            self.stats.dropped_tapped += 1
        self.frames.put_nowait(frame)
        self.stats.tapped += 1
        self.stats.streams[frame.stream_id] = self.stats.streams.get(frame.stream_id, 0) + 1


class _StreamDecoder:
    def __init__(self, tap: FrameTap, hub: StreamHub, rate_fps: float) -> None:
        self.tap = tap
        self.hub = hub
        self.rate_fps = rate_fps
        self._pending: list[EncodedFrame] = []
        self._wake = asyncio.Event()
        self._codec = av.CodecContext.create("libvpx", "r")
        self._needs_keyframe = True
        self._next_due = 0.0  # media time of the next frame to hand out
        self._last_media_time = 0.0
        self._task = asyncio.create_task(self._run(), name=f"tap-{hub.stream_id}")

    def on_frame(self, frame: EncodedFrame) -> None:
        if frame.kind != "video":
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
                self.hub.request_keyframe()
                return
        self._pending.append(frame)
        self._wake.set()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._wake.wait()
            self._wake.clear()
            batch, self._pending = self._pending, []
            if not batch:
                continue
            due = await loop.run_in_executor(self.tap._executor, self._decode, batch)
            for tapped in due:
                self.tap._hand_out(tapped)

    def _decode(self, batch: list[EncodedFrame]) -> list[TappedFrame]:
        """On a worker thread: decode every frame, convert only those due."""
        started = time.perf_counter()
        due = []
        for encoded in batch:
            try:
                frames = self._codec.decode(av.Packet(encoded.data))
            except av.FFmpegError:
                self.tap.stats.decode_errors += 1
                continue
            for frame in frames:
                self.tap.stats.decoded += 1
                media_time = encoded.timestamp / VIDEO_CLOCK
                if media_time < self._last_media_time:
                    self._next_due = media_time  # a reconnected publisher starts its clock anew
                self._last_media_time = media_time
                if media_time + 1e-3 < self._next_due:
                    continue
                self._next_due = max(self._next_due + 1 / self.rate_fps, media_time)
                pixels = cast("npt.NDArray[np.uint8]", frame.to_ndarray(format="yuv420p"))
                due.append(TappedFrame(self.hub.stream_id, pixels, media_time, encoded.arrived))
        self.tap.stats.decode_seconds += time.perf_counter() - started
        return due

    async def close(self) -> None:
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
