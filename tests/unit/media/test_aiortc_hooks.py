"""The private aiortc parts media/aiortc_hooks.py relies on. If aiortc moves any of them, this
fails first and names it; tests/e2e/test_relay.py then shows what broke."""

from __future__ import annotations

import inspect
import threading

import aiortc
import aiortc.rtcrtpreceiver as aiortc_receiver
import pytest
from aiortc import RTCPeerConnection, RTCRtpSender

from protolearn.media.aiortc_hooks import DECODER_QUEUE, DECODER_THREAD, tap_receiver
from protolearn.media.errors import AiortcInternalsChanged
from protolearn.media.forwarding import is_vp8_keyframe


def test_aiortc_is_the_pinned_version() -> None:
    assert aiortc.__version__ == "1.16.0"


def test_decoder_worker_is_looked_up_by_name_with_its_known_signature() -> None:
    assert "target=decoder_worker" in inspect.getsource(aiortc_receiver.RTCRtpReceiver.receive)
    parameters = list(inspect.signature(aiortc_receiver.decoder_worker).parameters)
    assert parameters[:3] == ["loop", "input_q", "output_q"]


def test_receiver_puts_codec_and_frame_on_its_decoder_queue() -> None:
    source = inspect.getsource(aiortc_receiver.RTCRtpReceiver._handle_rtp_packet)
    assert "self.__decoder_queue.put((codec, encoded_frame))" in source
    assert list(inspect.signature(aiortc_receiver.RTCRtpReceiver._handle_rtp_packet).parameters) == [
        "self",
        "packet",
        "arrival_time_ms",
    ]
    assert list(inspect.signature(aiortc_receiver.RTCRtpReceiver._send_rtcp_pli).parameters) == [
        "self",
        "media_ssrc",
    ]


def test_sender_packs_pre_encoded_packets_and_routes_keyframe_requests_through_one_method() -> None:
    source = inspect.getsource(RTCRtpSender._next_encoded_frame)
    assert "self.__encoder.pack(data)" in source
    assert "self._send_keyframe()" in inspect.getsource(RTCRtpSender._handle_rtcp_packet)


async def test_tapping_replaces_the_queue_and_refuses_a_started_receiver() -> None:
    connection = RTCPeerConnection()
    receiver = connection.addTransceiver("video").receiver
    frames: list[tuple[bytes, int]] = []
    tap_receiver(receiver, lambda data, timestamp: frames.append((data, timestamp)), lambda _s, _l: None)

    sink = getattr(receiver, DECODER_QUEUE)
    sink.put(("codec", type("JitterFrame", (), {"data": b"\x10frame", "timestamp": 3000})()))
    assert frames == [(b"\x10frame", 3000)]
    assert aiortc_receiver.decoder_worker.__module__ == "protolearn.media.aiortc_hooks"

    other = connection.addTransceiver("audio").receiver
    setattr(other, DECODER_THREAD, threading.current_thread())
    with pytest.raises(AiortcInternalsChanged, match="started"):
        tap_receiver(other, lambda *_: None, lambda *_: None)
    await connection.close()


def test_vp8_keyframe_bit() -> None:
    assert is_vp8_keyframe(b"\x10\x02\x00\x9d\x01\x2a")
    assert not is_vp8_keyframe(b"\x11\x02\x00")
    assert not is_vp8_keyframe(b"")
