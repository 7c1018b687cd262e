"""The only code that reaches below aiortc's public API. aiortc is pinned (pyproject.toml) and
tests/unit/media/test_aiortc_hooks.py fails if any of these parts moves.

Relied on (aiortc 1.16):
- RTCRtpReceiver keeps the queue its decoder thread reads in ``_RTCRtpReceiver__decoder_queue``
  and, on the event loop, puts ``(codec, JitterFrame(data, timestamp))`` there for every
  reassembled encoded frame, and None when it stops. We put our own object there before
  ``receive()`` starts: encoded frames come to us on the loop, with no thread hop and no decode.
- ``receive()`` starts a thread on the module-level name ``decoder_worker``, looked up at call
  time; our replacement returns at once for a receiver we tapped, so no idle thread is left.
- The DTLS transport calls ``receiver._handle_rtp_packet(packet, arrival_time_ms=...)``: an
  instance attribute wraps it to read the RFC 6464 audio level and the media SSRC.
- ``receiver._send_rtcp_pli(media_ssrc)`` asks the publisher for a keyframe.
- RTCRtpSender calls ``self._send_keyframe()`` when a viewer sends PLI or FIR; on the pre-encoded
  path (a track whose recv() returns ``av.Packet``; it is only packetized) that flag is ignored,
  so an instance attribute routes it to the publisher instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Awaitable, Callable
from typing import Any

import aiortc.rtcrtpreceiver as aiortc_receiver
from aiortc import RTCRtpReceiver, RTCRtpSender

from protolearn.media.errors import AiortcInternalsChanged

__all__ = (
    "EncodedFrameHandler",
    "PacketHandler",
    "request_keyframe",
    "route_keyframe_requests",
    "tap_receiver",
)

log = logging.getLogger(__name__)

DECODER_QUEUE = "_RTCRtpReceiver__decoder_queue"
DECODER_THREAD = "_RTCRtpReceiver__decoder_thread"

# (encoded frame bytes, RTP timestamp rebased to 0) -> None; called on the event loop.
EncodedFrameHandler = Callable[[bytes, int], None]
# (media ssrc, audio level in -dBov or None) -> None; called for every RTP packet.
PacketHandler = Callable[[int, int | None], None]


class _EncodedFrameSink:
    """Stands in for a receiver's decoder queue (see the module docstring)."""

    def __init__(self, on_frame: EncodedFrameHandler) -> None:
        self.on_frame = on_frame
        self.stopped = threading.Event()
        self.errors = 0

    def put(self, item: Any) -> None:
        if item is None:
            self.stopped.set()
            return
        _codec, frame = item
        try:
            self.on_frame(frame.data, frame.timestamp)
        except Exception:  # never into aiortc's receive path: drop the frame
            self.errors += 1
            if self.errors == 1:
                log.exception("a relayed frame could not be handled; dropping it")

    def get(self) -> None:
        self.stopped.wait()


_original_decoder_worker = aiortc_receiver.decoder_worker


def _decoder_worker(loop: Any, input_q: Any, output_q: Any, *args: Any) -> None:
    if isinstance(input_q, _EncodedFrameSink):
        return  # a tapped receiver: nothing to decode, no thread to keep
    _original_decoder_worker(loop, input_q, output_q, *args)


def tap_receiver(receiver: RTCRtpReceiver, on_frame: EncodedFrameHandler, on_packet: PacketHandler) -> None:
    """Delivers the receiver's encoded frames to on_frame instead of decoding them.

    Call it before the receiver starts, i.e. from the peer connection's "track" event.
    """
    if not hasattr(receiver, DECODER_QUEUE) or not hasattr(receiver, DECODER_THREAD):
        raise AiortcInternalsChanged("RTCRtpReceiver has no decoder queue to tap")
    if getattr(receiver, DECODER_THREAD) is not None:
        raise AiortcInternalsChanged("the receiver started before it could be tapped")
    if aiortc_receiver.decoder_worker is not _decoder_worker:
        aiortc_receiver.decoder_worker = _decoder_worker  # type: ignore[assignment]
    setattr(receiver, DECODER_QUEUE, _EncodedFrameSink(on_frame))

    handle_rtp_packet: Callable[..., Awaitable[None]] = receiver._handle_rtp_packet

    async def read_packet(packet: Any, arrival_time_ms: int) -> None:
        try:
            on_packet(packet.ssrc, _audio_level(packet))
        except Exception:  # a bad header extension must not stop the packet
            log.debug("RTP packet of SSRC %s: header not understood", packet.ssrc, exc_info=True)
        await handle_rtp_packet(packet, arrival_time_ms=arrival_time_ms)

    receiver._handle_rtp_packet = read_packet  # type: ignore[method-assign]


def _audio_level(packet: Any) -> int | None:
    level = packet.extensions.audio_level
    return None if level is None else int(level[1])


async def request_keyframe(receiver: RTCRtpReceiver, media_ssrc: int) -> None:
    """Sends the publisher a Picture Loss Indication for media_ssrc."""
    await receiver._send_rtcp_pli(media_ssrc)


def route_keyframe_requests(sender: RTCRtpSender, on_request: Callable[[], None]) -> None:
    """A viewer's PLI/FIR on this sender calls on_request (the sender itself cannot make one)."""
    if not callable(getattr(sender, "_send_keyframe", None)):
        raise AiortcInternalsChanged("RTCRtpSender has no _send_keyframe to route")
    sender._send_keyframe = on_request  # type: ignore[method-assign]
