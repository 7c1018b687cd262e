"""A proctored stream: one student's camera and microphone, across publisher reconnects.

The hub outlives any one peer connection: viewers subscribe to the stream, not to a connection,
so a student who reconnects (a new offer for the same attempt) is forwarded to the same viewers
with no renegotiation on their side. Listeners (the ring buffer, the frame tap) see every frame;
one that raises is counted and logged (once per listener), and the others still get the frame.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Callable
from typing import Literal

import msgspec
from aiortc import RTCPeerConnection, RTCRtpReceiver

from protolearn.media.aiortc_hooks import request_keyframe
from protolearn.media.forwarding import EncodedFrame, ForwardedTrack, ForwardingStats

__all__ = ("FrameListener", "StreamEvent", "StreamHub", "StreamState")

log = logging.getLogger(__name__)

StreamState = Literal["waiting", "live", "lost", "closed"]
FrameListener = Callable[[EncodedFrame], None]


class StreamEvent(msgspec.Struct, frozen=True, kw_only=True):
    """A stream changed state: "lost" is the proctoring rules' camera_lost."""

    stream_id: str
    state: StreamState
    reason: str
    at: float  # time.time()


class StreamHub:
    def __init__(
        self,
        stream_id: str,
        stats: ForwardingStats,
        on_event: Callable[[StreamEvent], None],
        keyframe_interval_s: float = 0.5,
    ) -> None:
        self.stream_id = stream_id
        self.state: StreamState = "waiting"
        self.last_media = time.monotonic()
        self.last_keyframe = float("-inf")
        self.audio_level: int | None = None  # last RFC 6464 level, -dBov (127 = silence)
        self.audio_level_from_header = False  # the publisher sends the level in its packets
        self.frames = {"video": 0, "audio": 0}
        self.keyframes = 0
        self.keyframes_requested = 0
        self._stats = stats
        self._on_event = on_event
        self._subscribers: dict[str, set[ForwardedTrack]] = {"video": set(), "audio": set()}
        self._listeners: list[FrameListener] = []
        self.listener_errors: Counter[str] = Counter()  # by listener name
        self._keyframe_interval = keyframe_interval_s
        self._last_keyframe_request = float("-inf")
        self._pending_keyframe: asyncio.TimerHandle | None = None
        self.connection: RTCPeerConnection | None = None
        self._video_receiver: RTCRtpReceiver | None = None
        self._video_ssrc: int | None = None

    # --- publisher side ------------------------------------------------------------------------

    def attach(self, connection: RTCPeerConnection | None) -> None:
        """A new publisher connection for this stream (a reconnect replaces the old one)."""
        self.connection = connection
        self.audio_level_from_header = False
        self._video_receiver = None
        self._video_ssrc = None

    def detach(self) -> None:
        """The publisher left for good (signed out): frames its connection still delivers are
        dropped, and the watchdog waits for a new one instead of timing this one out."""
        self.attach(None)

    def video_receiver(self, receiver: RTCRtpReceiver) -> None:
        self._video_receiver = receiver

    def on_packet(self, kind: str, ssrc: int, audio_level: int | None) -> None:
        if kind == "video":
            self._video_ssrc = ssrc
        elif audio_level is not None:
            self.audio_level = audio_level
            self.audio_level_from_header = True

    def deliver(self, frame: EncodedFrame) -> None:
        """One whole encoded frame from the publisher, on the event loop."""
        if self.state == "closed":
            return  # a frame still in flight when the stream was closed
        self.last_media = frame.arrived
        if frame.keyframe:
            self.last_keyframe = frame.arrived
            self.keyframes += 1
        self.frames[frame.kind] += 1
        if self.state != "live":
            self.set_state("live", "media flowing")
        for track in self._subscribers[frame.kind]:
            try:
                track.push(frame)
            except Exception:  # one viewer's fault must not reach the others
                self._listener_failed("viewer", frame)
        for listener in self._listeners:
            try:
                listener(frame)
            except Exception:  # nor one listener's the relay
                self._listener_failed(getattr(listener, "__qualname__", repr(listener)), frame)

    def _listener_failed(self, name: str, frame: EncodedFrame) -> None:
        self.listener_errors[name] += 1
        if self.listener_errors[name] == 1:  # once per listener: the count tells the rest
            log.exception("stream %s: %s failed on a %s frame", self.stream_id, name, frame.kind)

    def set_state(self, state: StreamState, reason: str) -> None:
        if state == self.state:
            return
        self.state = state
        self._on_event(StreamEvent(stream_id=self.stream_id, state=state, reason=reason, at=time.time()))

    # --- keyframes -----------------------------------------------------------------------------

    def request_keyframe(self) -> None:
        """Asks the publisher for a keyframe, at most once per keyframe_interval_s: requests in
        between are coalesced into one sent when the interval ends."""
        now = time.monotonic()
        wait = self._last_keyframe_request + self._keyframe_interval - now
        if wait > 0:
            if self._pending_keyframe is None:
                self._pending_keyframe = asyncio.get_running_loop().call_later(
                    wait, self._send_pending_keyframe
                )
            return
        self._last_keyframe_request = now
        receiver, ssrc = self._video_receiver, self._video_ssrc
        if receiver is None or ssrc is None:
            return  # no video yet: its first frame is a keyframe anyway
        self.keyframes_requested += 1
        task = asyncio.ensure_future(request_keyframe(receiver, ssrc))
        task.add_done_callback(_log_failure)

    def _send_pending_keyframe(self) -> None:
        self._pending_keyframe = None
        self.request_keyframe()

    # --- viewers and listeners -----------------------------------------------------------------

    def subscribe(self, kind: str) -> ForwardedTrack:
        track = ForwardedTrack(kind, self.request_keyframe, self._stats)
        self._subscribers[kind].add(track)
        return track

    def unsubscribe(self, track: ForwardedTrack) -> None:
        self._subscribers[track.kind].discard(track)
        track.stop()

    @property
    def viewer_count(self) -> int:
        return len(self._subscribers["video"])

    def add_listener(self, listener: FrameListener) -> None:
        self._listeners.append(listener)

    def remove_listener(self, listener: FrameListener) -> None:
        if listener in self._listeners:
            self._listeners.remove(listener)

    def close(self) -> None:
        if self._pending_keyframe is not None:
            self._pending_keyframe.cancel()
        for tracks in self._subscribers.values():
            for track in tracks:
                track.stop()
            tracks.clear()
        self._listeners.clear()
        self.set_state("closed", "stream closed")


def _log_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("keyframe request failed: %s", task.exception())
