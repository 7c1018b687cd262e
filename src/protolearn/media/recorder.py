"""Evidence clips: a ring buffer of a stream's encoded packets, written to WebM on request.

The buffer holds at least the last `seconds` of video and audio, always starting at a video
keyframe, and never more than max_bytes. clip(start, end) waits for the post-roll to arrive,
then muxes the packets from the keyframe at or before start through end into a WebM (VP8 +
Opus as they were sent: nothing is transcoded) on a worker thread. ClipStore caps the bytes
of clips on disk, deleting the oldest first; the proctoring room calls it after each clip it
stores (``proctoring/evidence.py``), whose database rows outlive the files.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import threading
import time
from collections import deque
from concurrent.futures import Executor
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av

from protolearn.media.errors import MediaError
from protolearn.media.forwarding import AUDIO_CLOCK, VIDEO_CLOCK, EncodedFrame
from protolearn.media.sealed import Sealer
from protolearn.media.vp8 import keyframe_size

__all__ = ("Clip", "ClipStore", "ClipUnavailable", "SegmentRecorder")


class ClipUnavailable(MediaError):
    """No clip of the asked-for time: the buffer does not hold it (too old, or no video keyframe
    yet), or it could not be written (what the publisher sent, the disk)."""


@dataclass(frozen=True, slots=True)
class Clip:
    path: Path
    size_bytes: int
    duration_seconds: float
    sha256: str
    started_at: float  # wall-clock (time.time()) of its first and last packets
    ended_at: float


class SegmentRecorder:
    """Attach with hub.add_listener(recorder.on_frame). Times are time.monotonic() seconds.

    Beside the packets it keeps the video keyframes among them, in order, each with its
    sequence number, so trimming and clip selection find them without walking the packets:
    on_frame does O(1) work per packet (amortized over the packets it trims).
    """

    def __init__(
        self, seconds: float = 30.0, max_bytes: int = 16 * 1024 * 1024, sealer: Sealer | None = None
    ) -> None:
        self.seconds = seconds
        self.max_bytes = max_bytes
        self.sealer = sealer  # clips are written sealed (encrypted at rest) when set
        self._frames: deque[EncodedFrame] = deque()
        # (sequence number, frame) of every video keyframe in _frames; the first is _frames[0].
        self._keyframes: deque[tuple[int, EncodedFrame]] = deque()
        self._first_seq = 0  # sequence number of _frames[0]
        self._next_seq = 0  # sequence number the next appended packet gets
        self._bytes = 0
        self._arrived = asyncio.Event()

    @property
    def buffered_bytes(self) -> int:
        return self._bytes

    @property
    def buffered_seconds(self) -> float:
        return self._frames[-1].arrived - self._frames[0].arrived if self._frames else 0.0

    def on_frame(self, frame: EncodedFrame) -> None:
        is_keyframe = frame.keyframe and frame.kind == "video"
        if not self._frames:
            if not is_keyframe:
                return  # a clip must start at a keyframe
            self._first_seq = self._next_seq
        if is_keyframe:
            self._keyframes.append((self._next_seq, frame))
        self._frames.append(frame)
        self._next_seq += 1
        self._bytes += len(frame.data)
        self._trim(frame.arrived)
        self._arrived.set()

    def _trim(self, now: float) -> None:
        """Drop whole groups of pictures from the front while the rest still covers `seconds`
        (or the buffer is over max_bytes), so it always starts at a keyframe."""
        keyframes = self._keyframes
        while len(keyframes) >= 2:
            second_seq, second = keyframes[1]
            if now - second.arrived < self.seconds and self._bytes <= self.max_bytes:
                return
            for _ in range(second_seq - self._first_seq):
                self._bytes -= len(self._frames.popleft().data)
            self._first_seq = second_seq
            keyframes.popleft()
        if self._bytes > self.max_bytes:
            # One group of pictures outgrew the cap: start again at the next keyframe
            # (the relay asks publishers for one every few seconds).
            self._frames.clear()
            keyframes.clear()
            self._bytes = 0

    async def clip(
        self,
        start: float,
        end: float,
        path: Path,
        executor: Executor | None = None,
        post_roll_timeout: float = 10.0,
    ) -> Clip:
        """Writes start..end (monotonic seconds) to path as WebM, waiting for packets up to end."""
        if end <= start:
            raise ValueError("a clip must end after it starts")
        deadline = time.monotonic() + post_roll_timeout
        while (not self._frames or self._frames[-1].arrived < end) and time.monotonic() < deadline:
            self._arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._arrived.wait(), timeout=max(0.01, min(end, deadline) - time.monotonic())
                )
        frames = self._select(start, end)
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(
                executor, _write_webm, frames, path, time.time() - time.monotonic(), self.sealer
            )
        except ClipUnavailable:
            raise
        except Exception as error:  # PyAV refuses what a hostile publisher sent, the disk is full, ...
            with contextlib.suppress(OSError):
                path.with_suffix(path.suffix + ".part").unlink(missing_ok=True)
            raise ClipUnavailable(f"the clip could not be written: {error!r}") from error

    def _select(self, start: float, end: float) -> list[EncodedFrame]:
        """The packets from the last keyframe at or before start (or the buffer's first, which
        is a keyframe, when it starts after start) through end."""
        if not self._frames or self._frames[0].arrived > end:
            raise ClipUnavailable("the buffer holds nothing of that time")
        first_seq = self._first_seq
        for seq, keyframe in reversed(self._keyframes):
            if keyframe.arrived <= start:
                first_seq = seq
                break
        chosen = [
            f for f in itertools.islice(self._frames, first_seq - self._first_seq, None) if f.arrived <= end
        ]
        if not any(f.kind == "video" for f in chosen):
            raise ClipUnavailable("no video in that time")
        return chosen


def _write_webm(frames: list[EncodedFrame], path: Path, wall_offset: float, sealer: Sealer | None) -> Clip:
    """On a worker thread: mux the packets, timestamps rebased to the clip's first packet; the
    clip's size and hash are the plain file's, whether it is sealed on disk or not."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(path.suffix + ".part")
    video_start = next(f.timestamp for f in frames if f.kind == "video")
    audio_start = next((f.timestamp for f in frames if f.kind == "audio"), 0)
    last = {"video": -1, "audio": -1}
    with av.open(str(partial), "w", format="webm") as container:
        width, height = vp8_size(next(f.data for f in frames if f.kind == "video" and f.keyframe))
        streams = {"video": container.add_mux_stream("vp8", width=width, height=height)}
        streams["video"].time_base = Fraction(1, VIDEO_CLOCK)
        if any(f.kind == "audio" for f in frames):
            streams["audio"] = container.add_mux_stream("opus", rate=AUDIO_CLOCK, layout="stereo")
            streams["audio"].time_base = Fraction(1, AUDIO_CLOCK)
        for frame in frames:
            stream = streams[frame.kind]
            start = video_start if frame.kind == "video" else audio_start
            pts = frame.timestamp - start
            if pts <= last[frame.kind]:
                continue  # audio from before the first keyframe, or a repeated timestamp
            last[frame.kind] = pts
            packet = av.Packet(frame.data)
            packet.stream = stream
            packet.pts = packet.dts = pts
            packet.time_base = Fraction(1, VIDEO_CLOCK if frame.kind == "video" else AUDIO_CLOCK)
            packet.is_keyframe = frame.keyframe or frame.kind == "audio"
            container.mux(packet)
    data = partial.read_bytes()
    if sealer is None:
        partial.replace(path)
    else:
        sealer.seal(data, path)
        partial.unlink()
    videos = [f for f in frames if f.kind == "video"]
    return Clip(
        path=path,
        size_bytes=len(data),
        duration_seconds=round((videos[-1].timestamp - videos[0].timestamp) / VIDEO_CLOCK, 3),
        sha256=hashlib.sha256(data).hexdigest(),
        started_at=frames[0].arrived + wall_offset,
        ended_at=frames[-1].arrived + wall_offset,
    )


def vp8_size(keyframe: bytes) -> tuple[int, int]:
    """Width and height of the clip's first key frame."""
    size = keyframe_size(keyframe)
    if size is None:
        raise ClipUnavailable("the first video frame is not a VP8 key frame")
    return size


class ClipStore:
    """The clips under a directory (its per-attempt subdirectories included) with a cap on their
    total size: the oldest go first. enforce_cap does blocking file work: call it on a worker
    thread. Safe to call from several threads at once (one pass at a time)."""

    def __init__(self, directory: Path, max_bytes: int) -> None:
        self.directory = directory
        self.max_bytes = max_bytes
        self._lock = threading.Lock()

    def path_for(self, name: str) -> Path:
        return self.directory / f"{name}.webm"

    def enforce_cap(self, keep: Path | None = None) -> list[Path]:
        """Deletes the oldest clips until the total fits; returns what was deleted.

        `keep` (the clip just written) is never deleted, even when it alone is over the cap.
        """
        kept = keep.resolve() if keep is not None else None
        with self._lock:
            clips: list[tuple[float, str, int, Path]] = []
            for path in self.directory.rglob("*.webm"):
                try:
                    stat = path.stat()
                except FileNotFoundError:
                    continue  # removed while we looked
                clips.append((stat.st_mtime, str(path), stat.st_size, path))
            total = sum(size for _, _, size, _ in clips)
            deleted: list[Path] = []
            for _, _, size, path in sorted(clips):
                if total <= self.max_bytes:
                    break
                if kept is not None and path.resolve() == kept:
                    continue
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
                    deleted.append(path)
                total -= size
                if path.parent != self.directory:
                    # An attempt's folder whose last clip went: not an error when others remain.
                    with contextlib.suppress(OSError):
                        path.parent.rmdir()
            return deleted
