"""ForwardingUnit: publisher and viewer peer connections around the stream hubs.

publish(stream_id, offer) answers a student's offer; its VP8 and Opus frames are taken out of
aiortc's receivers still encoded (aiortc_hooks.py) and handed to the stream's hub. An offer's
first video is the camera; a second one, where the page sends it, is a smaller copy of the
camera for analysis (kind "analysis": decoded for proctoring, never forwarded or recorded). watch(viewer,
streams) makes a teacher's connection with one ForwardedTrack per stream and kind and returns
the server's offer; accept_answer() completes it. A watchdog marks a stream lost when its
connection fails or no media came for lost_after_s.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Literal

from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCIceServer,
    RTCPeerConnection,
    RTCRtpCapabilities,
    RTCRtpReceiver,
    RTCRtpSender,
    RTCRtpTransceiver,
    RTCSessionDescription,
)
from aiortc.mediastreams import MediaStreamTrack
from aiortc.sdp import SessionDescription

from protolearn.media.aiortc_hooks import route_keyframe_requests, tap_receiver
from protolearn.media.audio_level import AudioLevelMeter
from protolearn.media.errors import NegotiationFailed, UnknownViewer
from protolearn.media.forwarding import EncodedFrame, ForwardedTrack, ForwardingStats, is_vp8_keyframe
from protolearn.media.streams import StreamEvent, StreamHub, Track
from protolearn.supervision import TaskFailures, supervise

__all__ = ("ForwardingUnit", "Viewer")

log = logging.getLogger(__name__)

# What can be forwarded without transcoding: VP8 video (with its retransmission codec) and Opus.
FORWARDABLE = {"video": ("video/VP8", "video/rtx"), "audio": ("audio/opus",)}
# Milliseconds of audio per packet asked of a publisher (the answer's a=ptime, which browsers'
# Opus encoders follow): 60 sends a third of the packets of the browsers' default 20, and each
# packet costs the server the same Python work whatever it holds (SRTP, RTP, jitter buffer, the
# clip buffer); the teacher hears the microphone 40 ms later, the voice rule is unchanged.
PUBLISHER_AUDIO_PTIME_MS = 60
# The camera and its copy for analysis, in the offer's order.
VIDEO_TRACKS: tuple[Track, ...] = ("video", "analysis")


@dataclass(slots=True)
class Viewer:
    connection: RTCPeerConnection
    tracks: list[tuple[StreamHub, ForwardedTrack]] = field(default_factory=list)


class ForwardingUnit:
    """Use within one event loop; close() ends every connection."""

    def __init__(
        self,
        *,
        lost_after_s: float = 5.0,
        keyframe_interval_s: float = 0.5,
        keyframe_every_s: float = 5.0,
        on_event: Callable[[StreamEvent], None] | None = None,
        ice_servers: Callable[[], list[RTCIceServer]] | None = None,
        audio_ptime_ms: int | None = PUBLISHER_AUDIO_PTIME_MS,
    ) -> None:
        self.stats = ForwardingStats()
        self.audio_ptime_ms = audio_ptime_ms  # asked of publishers; None: the browser's own
        # The TURN server this side relays through, if any (fresh credentials per connection).
        self._ice_servers = ice_servers or list
        self.lost_after_s = lost_after_s
        # Browsers send keyframes rarely; a clip can only start at one, and the ring buffer can
        # only drop whole groups of pictures: ask each publisher for one this often.
        self.keyframe_every_s = keyframe_every_s
        self._keyframe_interval = keyframe_interval_s
        self._on_event = on_event or (lambda _event: None)
        self._hubs: dict[str, StreamHub] = {}
        self._viewers: dict[str, Viewer] = {}
        self._publishers: dict[str, str] = {}  # stream -> who offered its current connection
        self._watchdog: asyncio.Task[None] | None = None
        self.task_failures: TaskFailures = Counter()

    def _connection(self, bundle_policy: RTCBundlePolicy = RTCBundlePolicy.BALANCED) -> RTCPeerConnection:
        return RTCPeerConnection(RTCConfiguration(iceServers=self._ice_servers(), bundlePolicy=bundle_policy))

    # --- streams -------------------------------------------------------------------------------

    def hub(self, stream_id: str) -> StreamHub:
        """The stream's hub, made on first use (a viewer may come before the student)."""
        hub = self._hubs.get(stream_id)
        if hub is None:
            hub = StreamHub(stream_id, self.stats, self._on_event, self._keyframe_interval)
            AudioLevelMeter(hub)  # idle while the publisher sends levels in its RTP headers
            self._hubs[stream_id] = hub
        return hub

    async def publish(
        self, stream_id: str, offer_sdp: str, *, require_video: bool = False, publisher: str = ""
    ) -> str:
        """Answers a publisher's offer; a new offer for the same stream replaces the old one once
        it is answered (a refused one leaves the stream as it was).
        require_video: refuse an offer without a video track (a proctored camera).
        publisher: who offered (a signaling channel's name for itself), for stop_publishing()."""
        _require_forwardable(offer_sdp, require_video=require_video)
        self._start_watchdog()
        hub = self.hub(stream_id)
        # Every offer is bundled (_parsed): all of its media on one transport from the start.
        # With aiortc's default ("balanced"), a second video section answered after an audio
        # one stays on a transport the bundle then closes, and its packets are taken for the
        # first video's (aiortc issue 1414): a page's camera copy would be mixed into the camera.
        connection = self._connection(RTCBundlePolicy.MAX_BUNDLE)

        @connection.on("track")
        def on_track(track: MediaStreamTrack) -> None:
            receiver = next(t.receiver for t in connection.getTransceivers() if t.receiver.track is track)
            self._tap(hub, connection, receiver, _role(connection, receiver))

        @connection.on("connectionstatechange")
        def on_state() -> None:
            if connection is hub.connection and connection.connectionState == "failed":
                hub.set_state("lost", "connection failed")

        try:
            with _sdp_refused("cannot answer the offer"):
                await connection.setRemoteDescription(RTCSessionDescription(sdp=offer_sdp, type="offer"))
                for transceiver in connection.getTransceivers():
                    _prefer(transceiver, RTCRtpReceiver.getCapabilities(transceiver.kind))
                await connection.setLocalDescription(await connection.createAnswer())
        except BaseException:
            await _close(connection)
            raise
        old = hub.connection
        hub.attach(connection)
        self._publishers[stream_id] = publisher
        for transceiver in connection.getTransceivers():
            role = _role(connection, transceiver.receiver)
            if role != "audio" and transceiver.receiver.track is not None:
                hub.video_receiver(transceiver.receiver, role)  # where keyframe requests go
        if old is not None:
            await old.close()
        answer = str(connection.localDescription.sdp)
        return answer if self.audio_ptime_ms is None else with_audio_ptime(answer, self.audio_ptime_ms)

    async def stop_publishing(self, stream_id: str, publisher: str) -> None:
        """Ends the stream's publisher connection if `publisher` made it (not one made since,
        by the same student signed in again); the hub and its viewers stay for their return."""
        hub = self._hubs.get(stream_id)
        if hub is None or hub.connection is None or self._publishers.get(stream_id) != publisher:
            return
        connection = hub.connection
        hub.detach()
        del self._publishers[stream_id]
        hub.set_state("lost", "publisher signed out")
        await _close(connection)

    def _tap(
        self, hub: StreamHub, connection: RTCPeerConnection, receiver: RTCRtpReceiver, kind: str
    ) -> None:
        def on_frame(data: bytes, timestamp: int) -> None:
            if connection is not hub.connection:
                return  # a replaced connection still draining
            keyframe = kind != "audio" and is_vp8_keyframe(data)
            hub.deliver(EncodedFrame(kind, data, timestamp, keyframe, time.monotonic()))

        def on_packet(ssrc: int, audio_level: int | None) -> None:
            if connection is hub.connection:
                hub.on_packet(kind, ssrc, audio_level)

        tap_receiver(receiver, on_frame, on_packet)

    async def close_stream(self, stream_id: str) -> None:
        hub = self._hubs.pop(stream_id, None)
        self._publishers.pop(stream_id, None)
        if hub is None:
            return
        connection = hub.connection
        hub.close()
        if connection is not None:
            await connection.close()

    # --- viewers -------------------------------------------------------------------------------

    async def watch(self, viewer_id: str, stream_ids: Sequence[str]) -> str:
        """The server's offer of the streams' video and audio to a viewer (replaces what the
        viewer watched before)."""
        await self.stop_watching(viewer_id)
        connection = self._connection()
        viewer = Viewer(connection)
        self._viewers[viewer_id] = viewer
        for stream_id in stream_ids:
            hub = self.hub(stream_id)
            for kind in ("video", "audio"):
                track = hub.subscribe(kind)
                sender = connection.addTrack(track)
                route_keyframe_requests(sender, track.request_keyframe)
                viewer.tracks.append((hub, track))
        for transceiver in connection.getTransceivers():
            _prefer(transceiver, RTCRtpSender.getCapabilities(transceiver.kind))

        @connection.on("connectionstatechange")
        async def on_state() -> None:
            if connection.connectionState in ("failed", "closed") and self._viewers.get(viewer_id) is viewer:
                await self.stop_watching(viewer_id)

        await connection.setLocalDescription(await connection.createOffer())
        return str(connection.localDescription.sdp)

    async def accept_answer(self, viewer_id: str, answer_sdp: str) -> None:
        viewer = self._viewers.get(viewer_id)
        if viewer is None:
            raise UnknownViewer(f"no viewer session {viewer_id!r}")
        try:
            _parsed(answer_sdp, "the answer is not valid SDP")
            with _sdp_refused("cannot use the answer"):
                await viewer.connection.setRemoteDescription(
                    RTCSessionDescription(sdp=answer_sdp, type="answer")
                )
        except NegotiationFailed:
            # aiortc may have applied part of it: this viewer starts over with a new watch.
            await self.stop_watching(viewer_id)
            raise

    def set_paused(self, viewer_id: str, stream_ids: Sequence[str], paused: bool) -> list[str]:
        """Pause or resume forwarding these streams' video to one viewer, without renegotiating;
        returns the streams of the viewer's that it applied to."""
        viewer = self._viewers.get(viewer_id)
        if viewer is None:
            raise UnknownViewer(f"no viewer session {viewer_id!r}")
        wanted = set(stream_ids)
        applied = []
        for hub, track in viewer.tracks:
            if track.kind == "video" and hub.stream_id in wanted:
                track.pause() if paused else track.resume()
                applied.append(hub.stream_id)
        return applied

    def viewer_tracks(self, viewer_id: str) -> list[tuple[str, ForwardedTrack]]:
        """(stream id, track) of what a viewer is sent, for counting."""
        viewer = self._viewers.get(viewer_id)
        return [] if viewer is None else [(hub.stream_id, track) for hub, track in viewer.tracks]

    async def stop_watching(self, viewer_id: str) -> None:
        viewer = self._viewers.pop(viewer_id, None)
        if viewer is None:
            return
        for hub, track in viewer.tracks:
            hub.unsubscribe(track)
        await _close(viewer.connection)  # after a refused answer, too

    @property
    def viewer_count(self) -> int:
        return len(self._viewers)

    @property
    def publisher_count(self) -> int:
        """Streams whose media is flowing now."""
        return sum(1 for hub in self._hubs.values() if hub.state == "live")

    # --- lifecycle -----------------------------------------------------------------------------

    def _start_watchdog(self) -> None:
        if self._watchdog is None:
            self._watchdog = asyncio.create_task(
                supervise("media-watchdog", self._watch_for_lost_streams, failures=self.task_failures),
                name="media-watchdog",
            )

    async def _watch_for_lost_streams(self) -> None:
        """Marks silent streams lost and keeps keyframes coming."""
        while True:
            await asyncio.sleep(min(1.0, self.lost_after_s / 4, self.keyframe_every_s / 4))
            now = time.monotonic()
            for hub in self._hubs.values():
                if hub.connection is None or hub.state in ("lost", "closed"):
                    continue
                if now - hub.last_media > self.lost_after_s:
                    hub.set_state("lost", f"no media for {self.lost_after_s:g} s")
                elif hub.state == "live" and now - hub.last_keyframe > self.keyframe_every_s:
                    hub.request_keyframe()

    async def close(self) -> None:
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
            self._watchdog = None
        for viewer_id in list(self._viewers):
            await self.stop_watching(viewer_id)
        for stream_id in list(self._hubs):
            await self.close_stream(stream_id)


def _require_forwardable(offer_sdp: str, *, require_video: bool) -> None:
    """The offer must be SDP, with VP8 for its video and Opus for its audio."""
    offer = _parsed(offer_sdp, "the offer is not valid SDP")
    kinds = [media for media in offer.media if media.kind in FORWARDABLE]
    if not kinds:
        raise NegotiationFailed("the offer has neither audio nor video")
    if require_video and not any(media.kind == "video" for media in kinds):
        raise NegotiationFailed("the offer has no video: this test needs the camera")
    if sum(media.kind == "video" for media in kinds) > len(VIDEO_TRACKS):
        raise NegotiationFailed("the offer has more video than a camera and its copy for analysis")
    bundled = {item for group in offer.group if group.semantic == "BUNDLE" for item in group.items}
    if len(offer.media) > 1 and bundled != {media.rtp.muxId for media in offer.media}:
        raise NegotiationFailed("the offer must bundle all its media on one transport (a=group:BUNDLE)")
    for media in kinds:
        if not any(codec.mimeType in FORWARDABLE[media.kind] for codec in media.rtp.codecs):
            raise NegotiationFailed(f"no {media.kind} codec that can be forwarded (VP8 / Opus)")


def _role(connection: RTCPeerConnection, receiver: RTCRtpReceiver) -> Track | Literal["audio"]:
    """What a receiver's track is to the stream: "audio", or by its order among the offer's
    video, "video" (the camera) or "analysis"."""
    videos = [t.receiver for t in connection.getTransceivers() if t.kind == "video"]
    if receiver not in videos:
        return "audio"
    return VIDEO_TRACKS[min(videos.index(receiver), len(VIDEO_TRACKS) - 1)]


def with_audio_ptime(sdp: str, ptime_ms: int) -> str:
    """The SDP with a=ptime (RFC 4566: the packet duration the receiver would like) as the
    first attribute of each audio section, replacing one already there."""
    out: list[str] = []
    pending = False  # in an audio section, before its first attribute
    for line in sdp.splitlines():
        if line.startswith("m="):
            pending = line.startswith("m=audio ")
        elif line.startswith("a=ptime:"):
            continue
        elif pending and line.startswith("a="):
            out.append(f"a=ptime:{ptime_ms}")
            pending = False
        out.append(line)
    return "\r\n".join(out) + "\r\n"


def _parsed(sdp: str, what: str) -> SessionDescription:
    with _sdp_refused(what):
        description = SessionDescription.parse(sdp)
    mids = {media.rtp.muxId for media in description.media}
    for group in description.group:
        if group.semantic == "BUNDLE" and not set(group.items) <= mids:
            # aiortc would leave the bundled media without a transport, and fail to close it.
            raise NegotiationFailed(f"{what}: its BUNDLE group names media it does not have")
    return description


async def _close(connection: RTCPeerConnection) -> None:
    """Closes a connection, even one a refused description was partly applied to: aiortc's
    close() can trip on the state that leaves, and a refusal must not become a server error."""
    try:
        await connection.close()
    except Exception:
        log.warning("closing a refused peer connection failed", exc_info=True)


@contextlib.contextmanager
def _sdp_refused(what: str) -> Iterator[None]:
    """aiortc reads and applies SDP without validating it first, so a malformed description
    surfaces as whatever tripped (an assert, a failed unpack or int(), a missing attribute or
    key, a StopIteration turned RuntimeError in a coroutine, its own OperationError...). Coming
    from the peer's SDP, every one of them means the same: NegotiationFailed."""
    try:
        yield
    except NegotiationFailed:
        raise
    except Exception as error:
        log.info("%s: %r", what, error)
        raise NegotiationFailed(f"{what}: {str(error) or type(error).__name__}") from error


def _prefer(transceiver: RTCRtpTransceiver, capabilities: RTCRtpCapabilities | None) -> None:
    """Keep only the codecs we can forward as they are; refuse an offer without them."""
    allowed = FORWARDABLE.get(transceiver.kind, ())
    wanted = [codec for codec in (capabilities.codecs if capabilities else []) if codec.mimeType in allowed]
    if not any(codec.mimeType != "video/rtx" for codec in wanted):
        raise NegotiationFailed(f"no {transceiver.kind} codec that can be forwarded (VP8 / Opus)")
    transceiver.setCodecPreferences(wanted)
