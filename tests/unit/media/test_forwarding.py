"""ForwardedTrack, one viewer's copy of a publisher's media, and the VP8 keyframe test."""

from __future__ import annotations

import asyncio
from fractions import Fraction

import av
import numpy as np
import pytest
from aiortc.mediastreams import MediaStreamError

from protolearn.media.forwarding import (
    AUDIO_BACKLOG,
    LATENCY_WINDOW,
    VIDEO_BACKLOG,
    EncodedFrame,
    ForwardedTrack,
    ForwardingStats,
    is_vp8_keyframe,
)

KEY = b"\x10\x02\x00\x9d\x01\x2a\x80\x02\xe0\x01" + bytes(90)
DELTA = b"\x11" + bytes(29)


class KeyframeRequests:
    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> None:
        self.count += 1


def video(n: int, keyframe: bool = False) -> EncodedFrame:
    return EncodedFrame("video", (KEY if keyframe else DELTA) + bytes([n % 256]), n * 6_000, keyframe, 0.0)


def audio(n: int) -> EncodedFrame:
    return EncodedFrame("audio", b"\x78" + bytes([n % 256]), n * 960, False, 0.0)


def track(kind: str) -> tuple[ForwardedTrack, KeyframeRequests, ForwardingStats]:
    requests, stats = KeyframeRequests(), ForwardingStats()
    return ForwardedTrack(kind, requests, stats), requests, stats


def queued(forwarded: ForwardedTrack) -> int:
    return forwarded._queue.qsize()


async def test_a_video_viewer_asks_for_a_keyframe_and_waits_for_it() -> None:
    forwarded, requests, stats = track("video")
    assert requests.count == 1  # asked as soon as the viewer exists

    for n in range(3):
        forwarded.push(video(n))
    assert (queued(forwarded), stats.dropped) == (0, 3)  # undecodable without a keyframe

    forwarded.push(video(3, keyframe=True))
    forwarded.push(video(4))
    assert queued(forwarded) == 2
    first = await forwarded.recv()
    assert bytes(first) == video(3, keyframe=True).data
    assert bytes(await forwarded.recv()) == video(4).data
    assert requests.count == 1


async def test_an_audio_viewer_needs_no_keyframe() -> None:
    forwarded, requests, stats = track("audio")
    forwarded.push(audio(0))
    assert (requests.count, queued(forwarded), stats.dropped) == (0, 1, 0)


async def test_recv_returns_packets_with_the_publishers_timestamps_and_clock() -> None:
    video_track, _, stats = track("video")
    video_track.push(video(10, keyframe=True))
    packet = await video_track.recv()
    assert isinstance(packet, av.Packet)
    assert (packet.pts, packet.time_base) == (60_000, Fraction(1, 90_000))
    assert bytes(packet) == video(10, keyframe=True).data

    audio_track = ForwardedTrack("audio", lambda: None, stats)
    audio_track.push(audio(5))
    packet = await audio_track.recv()
    assert isinstance(packet, av.Packet)
    assert (packet.pts, packet.time_base) == (4_800, Fraction(1, 48_000))
    assert stats.forwarded == 2
    assert len(stats.latencies_ms) == 2
    assert stats.reencoded == 0


async def test_a_video_viewer_that_falls_behind_loses_its_backlog_and_waits_for_a_keyframe() -> None:
    forwarded, requests, stats = track("video")
    forwarded.push(video(0, keyframe=True))
    for n in range(1, VIDEO_BACKLOG):
        forwarded.push(video(n))
    assert queued(forwarded) == VIDEO_BACKLOG

    forwarded.push(video(VIDEO_BACKLOG))  # one too many: the viewer is not keeping up

    assert queued(forwarded) == 0
    assert stats.dropped == VIDEO_BACKLOG + 1
    assert stats.keyframe_waits == 1
    assert requests.count == 2  # the first keyframe, then this one
    forwarded.push(video(VIDEO_BACKLOG + 1))
    assert (queued(forwarded), stats.dropped) == (0, VIDEO_BACKLOG + 2)
    forwarded.push(video(VIDEO_BACKLOG + 2, keyframe=True))
    packet = await forwarded.recv()
    assert packet.pts == (VIDEO_BACKLOG + 2) * 6_000


async def test_a_keyframe_arriving_on_a_full_backlog_replaces_it() -> None:
    forwarded, requests, stats = track("video")
    for n in range(VIDEO_BACKLOG):
        forwarded.push(video(n, keyframe=n == 0))

    forwarded.push(video(VIDEO_BACKLOG, keyframe=True))

    assert queued(forwarded) == 1  # decodable at once: no wait, no new request
    assert (stats.dropped, stats.keyframe_waits, requests.count) == (VIDEO_BACKLOG, 0, 1)
    assert (await forwarded.recv()).pts == VIDEO_BACKLOG * 6_000


async def test_an_audio_backlog_is_dropped_and_forwarding_goes_on() -> None:
    forwarded, requests, stats = track("audio")
    for n in range(AUDIO_BACKLOG + 1):
        forwarded.push(audio(n))
    assert queued(forwarded) == 1
    assert (stats.dropped, stats.keyframe_waits, requests.count) == (AUDIO_BACKLOG, 0, 0)
    assert (await forwarded.recv()).pts == AUDIO_BACKLOG * 960


async def test_a_viewers_picture_loss_asks_the_publisher_for_a_keyframe() -> None:
    forwarded, requests, _ = track("video")
    forwarded.request_keyframe()
    assert requests.count == 2


async def test_stop_ends_a_waiting_recv_and_every_later_one() -> None:
    forwarded, _, _ = track("audio")
    waiting = asyncio.create_task(forwarded.recv())
    await asyncio.sleep(0)
    assert not waiting.done()

    forwarded.stop()

    with pytest.raises(MediaStreamError):
        await asyncio.wait_for(waiting, timeout=5)
    assert forwarded.readyState == "ended"
    with pytest.raises(MediaStreamError):
        await forwarded.recv()
    forwarded.push(audio(1))  # frames for a stopped viewer are ignored
    assert queued(forwarded) == 0


async def test_latency_samples_keep_the_latest_window() -> None:
    forwarded, _, stats = track("audio")
    stats.latencies_ms.extend([-1.0] * LATENCY_WINDOW)  # as after a long run

    forwarded.push(audio(0))
    await forwarded.recv()

    assert len(stats.latencies_ms) == LATENCY_WINDOW  # bounded ...
    assert stats.latencies_ms[-1] >= 0  # ... and still recording
    assert stats.latencies_ms[0] == -1.0


def encoded_vp8(count: int) -> list[bytes]:
    """Frames from libvpx itself: the first is a keyframe, the rest are not (no keyframe interval)."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = 64, 48, "yuv420p"
    codec.time_base = Fraction(1, 15)
    codec.options = {"deadline": "realtime", "cpu-used": "8"}
    frames = []
    for n in range(count):
        picture = np.full((48, 64, 3), n * 20, dtype=np.uint8)
        frame = av.VideoFrame.from_ndarray(picture, format="rgb24").reformat(format="yuv420p")
        frame.pts = n
        frames.extend(bytes(packet) for packet in codec.encode(frame))
    frames.extend(bytes(packet) for packet in codec.encode(None))
    return frames


def test_is_vp8_keyframe_reads_the_frame_tag() -> None:
    frames = encoded_vp8(4)
    assert [is_vp8_keyframe(frame) for frame in frames] == [True, False, False, False]
    assert is_vp8_keyframe(KEY)
    assert not is_vp8_keyframe(DELTA)
    assert not is_vp8_keyframe(b"")  # nothing is not a keyframe


async def test_a_paused_viewer_is_sent_nothing_and_resumes_from_a_keyframe() -> None:
    forwarded, requests, stats = track("video")
    forwarded.push(video(0, keyframe=True))
    forwarded.push(video(1))
    forwarded.pause()
    assert queued(forwarded) == 0  # what was waiting is not sent either
    for n in range(2, 7):
        forwarded.push(video(n, keyframe=n == 4))
    assert (queued(forwarded), forwarded.held_back, stats.held_back) == (0, 5, 5)

    asked = requests.count
    forwarded.resume()
    assert requests.count == asked + 1  # the publisher is asked for a keyframe at once
    forwarded.push(video(7))
    assert queued(forwarded) == 0  # a delta frame alone would not decode
    forwarded.push(video(8, keyframe=True))
    forwarded.push(video(9))
    assert queued(forwarded) == 2
    forwarded.resume()  # resuming what is not paused changes nothing
    assert requests.count == asked + 1
