"""A proctored stream: one student's camera and microphone, across publisher reconnects.

The hub outlives any one peer connection: viewers subscribe to the stream, not to a connection,
so a student who reconnects (a new offer for the same attempt) is forwarded to the same viewers
with no renegotiation on their side. Listeners (the ring buffer, the frame tap) see every frame;
one that raises is counted and logged (once per listener), and the others still get the frame.

A publisher may send a second, smaller copy of its camera for analysis (kind "analysis"): its
frames go only to the listeners added with ``analysis=True`` (the frame tap), never to viewers or
the ring buffer, and keyframes are asked for on each track separately.
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
Track = Literal["video", "analysis"]  # the camera, and its copy for analysis


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
        self.frames = {"video": 0, "audio": 0, "analysis": 0}
        self.keyframes = 0
        self._stats = stats
        self._on_event = on_event
        self._subscribers: dict[str, set[ForwardedTrack]] = {"video": set(), "audio": set()}
        self._listeners: list[FrameListener] = []
        self._analysis_listeners: list[FrameListener] = []
        self.listener_errors: Counter[str] = Counter()  # by listener name
        self._keyframe_requests = {
            "video": _KeyframeRequests(keyframe_interval_s),
            "analysis": _KeyframeRequests(keyframe_interval_s),
        }
        self.connection: RTCPeerConnection | None = None

    # --- publisher side ------------------------------------------------------------------------

    def attach(self, connection: RTCPeerConnection | None) -> None:
        """A new publisher connection for this stream (a reconnect replaces the old one)."""
        self.connection = connection
        self.audio_level_from_header = False
        for requests in self._keyframe_requests.values():
            requests.receiver = requests.ssrc = None

    def detach(self) -> None:
        """The publisher left for good (signed out): frames its connection still delivers are
        dropped, and the watchdog waits for a new one instead of timing this one out."""
        self.attach(None)

    def video_receiver(self, receiver: RTCRtpReceiver, track: Track = "video") -> None:
        self._keyframe_requests[track].receiver = receiver

    @property
    def keyframes_requested(self) -> int:
        """Keyframes asked of the camera track."""
        return self._keyframe_requests["video"].sent

    def on_packet(self, kind: str, ssrc: int, audio_level: int | None) -> None:
        if kind in ("video", "analysis"):
            self._keyframe_requests[kind].ssrc = ssrc
        elif audio_level is not None:
            self.audio_level = audio_level
            self.audio_level_from_header = True

    def deliver(self, frame: EncodedFrame) -> None:
        """One whole encoded frame from the publisher, on the event loop."""
        if self.state == "closed":
            return  # a frame still in flight when the stream was closed
        if frame.kind == "analysis":
            self.frames["analysis"] += 1
            self._notify(self._analysis_listeners, frame)
            return
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
        self._notify(self._listeners, frame)

    def _notify(self, listeners: list[FrameListener], frame: EncodedFrame) -> None:
        for listener in listeners:
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

    def request_keyframe(self, track: Track = "video") -> None:
        """Asks the publisher for a keyframe of the track, at most once per keyframe_interval_s:
        requests in between are coalesced into one sent when the interval ends."""
        self._keyframe_requests[track].request()

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

    def add_listener(self, listener: FrameListener, *, analysis: bool = False) -> None:
        """The listener gets the camera and microphone's frames, or with analysis=True the
        analysis track's."""
        (self._analysis_listeners if analysis else self._listeners).append(listener)

    def remove_listener(self, listener: FrameListener) -> None:
        for listeners in (self._listeners, self._analysis_listeners):
            if listener in listeners:
                listeners.remove(listener)

    def close(self) -> None:
        for requests in self._keyframe_requests.values():
            requests.cancel()
        for tracks in self._subscribers.values():
            for track in tracks:
                track.stop()
            tracks.clear()
        self._listeners.clear()
        self._analysis_listeners.clear()
        self.set_state("closed", "stream closed")


class _KeyframeRequests:
    """One video track's Picture Loss Indications, at most one per interval."""

    def __init__(self, interval_s: float) -> None:
        self.interval = interval_s
        self.receiver: RTCRtpReceiver | None = None
        self.ssrc: int | None = None
        self.sent = 0
        self._last = float("-inf")
        self._pending: asyncio.TimerHandle | None = None

    def request(self) -> None:
        now = time.monotonic()
        wait = self._last + self.interval - now
        if wait > 0:
            if self._pending is None:
                self._pending = asyncio.get_running_loop().call_later(wait, self._send_pending)
            return
        self._last = now
        if self.receiver is None or self.ssrc is None:
            return  # no video on the track yet: its first frame is a keyframe anyway
        self.sent += 1
        task = asyncio.ensure_future(request_keyframe(self.receiver, self.ssrc))
        task.add_done_callback(_log_failure)

    def _send_pending(self) -> None:
        self._pending = None
        self.request()

    def cancel(self) -> None:
        if self._pending is not None:
            self._pending.cancel()
            self._pending = None


def _log_failure(task: asyncio.Future[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("keyframe request failed: %s", task.exception())
