"""Encoded media on its way from a publisher to its viewers.

An EncodedFrame is one VP8 frame or Opus packet as the publisher sent it. A ForwardedTrack is
what one viewer's RTCRtpSender reads: it returns the frames as ``av.Packet``s, which aiortc only
packetizes for that viewer's connection. Nothing here decodes or encodes.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import av
from aiortc import MediaStreamTrack
from aiortc.mediastreams import MediaStreamError
from av.frame import Frame
from av.packet import Packet

from protolearn.media.vp8 import is_vp8_keyframe

__all__ = (
    "AUDIO_CLOCK",
    "LATENCY_WINDOW",
    "VIDEO_CLOCK",
    "EncodedFrame",
    "ForwardedTrack",
    "ForwardingStats",
    "is_vp8_keyframe",
)

VIDEO_CLOCK = 90_000
AUDIO_CLOCK = 48_000
# A viewer that falls this far behind loses its backlog (video then waits for a keyframe):
# 15 video frames = 1 s at 15 fps; 50 Opus packets = 1 s.
VIDEO_BACKLOG = 15
AUDIO_BACKLOG = 50
# Dwell-time samples kept, the most recent ones, so a long-running relay keeps measuring without
# growing: one relay's stats see every viewer's frames (65 per second per viewer of one stream),
# so this is ~17 minutes of one watched stream, ~20 s of 50 (about 2 MB of floats).
LATENCY_WINDOW = 65_536


@dataclass(frozen=True, slots=True)
class EncodedFrame:
    kind: str  # "video" or "audio"
    data: bytes
    timestamp: int  # RTP clock of its kind (90 kHz video, 48 kHz audio), 0 at the stream's start
    keyframe: bool
    arrived: float  # time.monotonic() when the server had it whole


@dataclass(slots=True)
class ForwardingStats:
    """Counters that prove the path: forwarded frames are packetized only, never re-encoded."""

    forwarded: int = 0
    dropped: int = 0
    reencoded: int = 0  # stays 0: there is no code path that encodes
    keyframe_waits: int = 0
    held_back: int = 0  # frames not sent to viewers who paused that stream (tiles out of view)
    # Server dwell time of the latest forwarded frames, oldest dropped first.
    latencies_ms: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_WINDOW))


class ForwardedTrack(MediaStreamTrack):
    """One kind of one publisher's media for one viewer."""

    def __init__(self, kind: str, on_keyframe_needed: Callable[[], None], stats: ForwardingStats) -> None:
        super().__init__()
        self.kind = kind
        self._clock = Fraction(1, VIDEO_CLOCK if kind == "video" else AUDIO_CLOCK)
        self._backlog = VIDEO_BACKLOG if kind == "video" else AUDIO_BACKLOG
        self._queue: asyncio.Queue[EncodedFrame | None] = asyncio.Queue()
        self._needs_keyframe = kind == "video"  # a viewer cannot decode until a keyframe
        self._on_keyframe_needed = on_keyframe_needed
        self._stats = stats
        self.paused = False
        self.held_back = 0  # frames this viewer did not get while paused
        if self._needs_keyframe:
            on_keyframe_needed()

    def pause(self) -> None:
        """Stop sending to this viewer (its tile is out of view) without renegotiating."""
        self.paused = True
        while not self._queue.empty():
            self._queue.get_nowait()

    def resume(self) -> None:
        """Send again, from the next keyframe (asked for now) so the picture decodes at once."""
        if not self.paused:
            return
        self.paused = False
        if self.kind == "video":
            self._needs_keyframe = True
            self._on_keyframe_needed()

    def push(self, frame: EncodedFrame) -> None:
        """Called on the event loop for each frame of the publisher."""
        if self.readyState != "live":
            return
        if self.paused:
            self.held_back += 1
            self._stats.held_back += 1
            return
        if self._needs_keyframe:
            if not frame.keyframe:
                self._stats.dropped += 1
                return
            self._needs_keyframe = False
        if self._queue.qsize() >= self._backlog:
            # The viewer is not keeping up: drop its backlog rather than grow it.
            self._stats.dropped += self._queue.qsize()
            while not self._queue.empty():
                self._queue.get_nowait()
            if self.kind == "video" and not frame.keyframe:
                self._needs_keyframe = True
                self._stats.keyframe_waits += 1
                self._stats.dropped += 1
                self._on_keyframe_needed()
                return
        self._queue.put_nowait(frame)

    def request_keyframe(self) -> None:
        """The viewer lost pictures (PLI/FIR): it needs a keyframe from the publisher."""
        self._on_keyframe_needed()

    async def recv(self) -> Frame | Packet[Any]:
        if self.readyState != "live":
            raise MediaStreamError
        frame = await self._queue.get()
        if frame is None:
            raise MediaStreamError
        packet = av.Packet(frame.data)
        packet.pts = frame.timestamp
        packet.time_base = self._clock
        stats = self._stats
        stats.forwarded += 1
        stats.latencies_ms.append((time.monotonic() - frame.arrived) * 1000)
        return packet

    def stop(self) -> None:
        if self.readyState == "live":
            self._queue.put_nowait(None)
        super().stop()
