"""StreamHub: frames to viewers and listeners, a faulty listener contained, state, keyframes."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable

import av
import pytest

from protolearn.media.forwarding import EncodedFrame, ForwardedTrack, ForwardingStats
from protolearn.media.streams import StreamEvent, StreamHub

KEY = b"\x10\x02\x00\x9d\x01\x2a\x80\x02\xe0\x01" + bytes(90)  # a 640x480 key frame header
DELTA = b"\x11" + bytes(29)
SSRC = 4242


def video(n: int, keyframe: bool = False) -> EncodedFrame:
    data = (KEY if keyframe else DELTA) + bytes([n % 256])
    return EncodedFrame("video", data, n * 6_000, keyframe, time.monotonic())


def audio(n: int) -> EncodedFrame:
    return EncodedFrame("audio", b"\x78" + bytes([n % 256]), n * 960, False, time.monotonic())


def hub(keyframe_interval_s: float = 0.5) -> tuple[StreamHub, list[StreamEvent]]:
    events: list[StreamEvent] = []
    return StreamHub("7", ForwardingStats(), events.append, keyframe_interval_s), events


async def received(track: ForwardedTrack, count: int) -> list[bytes]:
    packets: list[bytes] = []
    for _ in range(count):
        packet = await asyncio.wait_for(track.recv(), 5)
        assert isinstance(packet, av.Packet)
        packets.append(bytes(packet))
    return packets


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Polls condition() until true; fails the test after `within` seconds."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {within} s")
        await asyncio.sleep(0.01)


class Receiver:
    """Stands in for the publisher's RTCRtpReceiver: records the PLIs the hub sends."""

    def __init__(self, fail: bool = False) -> None:
        self.plis: list[int] = []
        self.fail = fail

    async def _send_rtcp_pli(self, media_ssrc: int) -> None:
        if self.fail:
            raise ConnectionError("transport closed")
        self.plis.append(media_ssrc)


class Clock:
    """The hub's `time` module, with a monotonic clock the test moves."""

    def __init__(self) -> None:
        self.now = 1_000.0

    def monotonic(self) -> float:
        return self.now

    def time(self) -> float:
        return time.time()


def with_video(stream: StreamHub, receiver: Receiver) -> None:
    stream.video_receiver(receiver)  # type: ignore[arg-type]
    stream.on_packet("video", SSRC, None)


# --- frames --------------------------------------------------------------------------------------


async def test_frames_go_to_the_viewers_of_their_kind_and_to_every_listener() -> None:
    stream, _ = hub()
    video_viewer, audio_viewer = stream.subscribe("video"), stream.subscribe("audio")
    seen: list[EncodedFrame] = []
    also_seen: list[EncodedFrame] = []
    stream.add_listener(seen.append)
    stream.add_listener(also_seen.append)

    frames = [video(0, keyframe=True), audio(0), video(1), audio(1), video(2)]
    for frame in frames:
        stream.deliver(frame)

    assert await received(video_viewer, 3) == [frames[0].data, frames[2].data, frames[4].data]
    assert await received(audio_viewer, 2) == [frames[1].data, frames[3].data]
    assert seen == also_seen == frames
    assert stream.frames == {"video": 3, "audio": 2, "analysis": 0}
    assert stream.viewer_count == 1


async def test_an_unsubscribed_viewer_and_a_removed_listener_get_nothing_more() -> None:
    stream, _ = hub()
    viewer = stream.subscribe("video")
    seen: list[EncodedFrame] = []
    stream.add_listener(seen.append)
    stream.deliver(video(0, keyframe=True))

    stream.unsubscribe(viewer)
    stream.remove_listener(seen.append)
    stream.remove_listener(seen.append)  # removing twice is harmless
    stream.deliver(video(1))

    assert viewer.readyState == "ended"
    assert stream.viewer_count == 0
    assert [frame.timestamp for frame in seen] == [0]


async def test_a_listener_that_raises_is_counted_logged_once_and_contained(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stream, _ = hub()
    viewer = stream.subscribe("video")
    before: list[EncodedFrame] = []
    after: list[EncodedFrame] = []

    def broken(frame: EncodedFrame) -> None:
        raise ValueError(f"cannot handle frame {frame.timestamp}")

    stream.add_listener(before.append)
    stream.add_listener(broken)
    stream.add_listener(after.append)
    frames = [video(0, keyframe=True), video(1), audio(2), video(3)]
    with caplog.at_level(logging.ERROR, logger="protolearn.media.streams"):
        for frame in frames:
            stream.deliver(frame)

    assert stream.listener_errors == {broken.__qualname__: 4}
    [record] = [r for r in caplog.records if r.name == "protolearn.media.streams"]
    assert broken.__qualname__ in record.getMessage()
    assert "stream 7" in record.getMessage()
    assert record.exc_info is not None
    assert isinstance(record.exc_info[1], ValueError)
    # The listeners on either side and the viewer still had that frame and every later one.
    assert before == after == frames
    assert await received(viewer, 3) == [frames[0].data, frames[1].data, frames[3].data]
    assert stream.state == "live"


async def test_a_viewer_whose_track_fails_is_counted_and_the_others_still_get_the_frame(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stream, _ = hub()
    failing, healthy = stream.subscribe("video"), stream.subscribe("video")

    def push(_frame: EncodedFrame) -> None:
        raise RuntimeError("viewer gone")

    failing.push = push  # type: ignore[method-assign,assignment]
    seen: list[EncodedFrame] = []
    stream.add_listener(seen.append)
    with caplog.at_level(logging.ERROR, logger="protolearn.media.streams"):
        stream.deliver(video(0, keyframe=True))
        stream.deliver(video(1))

    assert stream.listener_errors == {"viewer": 2}
    assert len([r for r in caplog.records if r.name == "protolearn.media.streams"]) == 1
    assert len(await received(healthy, 2)) == 2
    assert len(seen) == 2


# --- state ---------------------------------------------------------------------------------------


async def test_the_first_frame_makes_a_waiting_stream_live_once() -> None:
    stream, events = hub()
    assert (stream.state, events) == ("waiting", [])

    stream.deliver(audio(0))
    stream.deliver(video(1, keyframe=True))
    stream.deliver(video(2))

    assert stream.state == "live"
    [event] = events
    assert (event.stream_id, event.state, event.reason) == ("7", "live", "media flowing")


async def test_a_lost_stream_comes_back_live_on_its_next_frame() -> None:
    stream, events = hub()
    stream.deliver(video(0, keyframe=True))
    stream.set_state("lost", "no media for 3 s")
    stream.set_state("lost", "no media for 3 s")  # no change: no event

    stream.deliver(video(1))

    assert [(event.state, event.reason) for event in events] == [
        ("live", "media flowing"),
        ("lost", "no media for 3 s"),
        ("live", "media flowing"),
    ]


async def test_keyframes_and_frames_are_counted_and_timed() -> None:
    stream, _ = hub()
    assert stream.last_keyframe == float("-inf")
    frames = [video(0, keyframe=True), video(1), audio(1), video(2), video(3, keyframe=True)]
    for frame in frames:
        stream.deliver(frame)

    assert stream.keyframes == 2
    assert stream.last_keyframe == frames[4].arrived
    assert stream.last_media == frames[4].arrived
    assert stream.frames == {"video": 4, "audio": 1, "analysis": 0}


async def test_close_stops_the_viewers_clears_the_listeners_and_says_closed() -> None:
    stream, events = hub()
    viewers = [stream.subscribe("video"), stream.subscribe("audio")]
    seen: list[EncodedFrame] = []
    stream.add_listener(seen.append)
    stream.deliver(video(0, keyframe=True))

    stream.close()

    assert [viewer.readyState for viewer in viewers] == ["ended", "ended"]
    assert stream.viewer_count == 0
    assert [event.state for event in events] == ["live", "closed"]
    assert events[-1].reason == "stream closed"
    assert stream.state == "closed"


async def test_a_closed_stream_stays_closed_when_a_late_frame_arrives() -> None:
    stream, events = hub()
    stream.deliver(video(0, keyframe=True))
    stream.close()

    stream.deliver(video(1))

    assert stream.state == "closed"
    assert [event.state for event in events] == ["live", "closed"]


# --- keyframe requests ---------------------------------------------------------------------------


async def test_no_keyframe_is_requested_before_the_stream_has_video() -> None:
    stream, _ = hub()
    stream.request_keyframe()
    stream.subscribe("video")  # a viewer asks for one at once
    await asyncio.sleep(0)
    assert stream.keyframes_requested == 0
    stream.close()


async def test_keyframe_requests_within_the_interval_are_coalesced_into_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    clock = Clock()
    monkeypatch.setattr("protolearn.media.streams.time", clock)
    stream, _ = hub(keyframe_interval_s=0.05)
    receiver = Receiver()
    with_video(stream, receiver)

    stream.request_keyframe()
    await until(lambda: receiver.plis == [SSRC])
    for _ in range(5):  # a burst of viewers and decoders asking, all within the interval
        stream.subscribe("video")
        stream.request_keyframe()
    assert stream.keyframes_requested == 1

    clock.now += 0.05  # the interval is over: the burst is sent as one request
    await until(lambda: stream.keyframes_requested == 2)
    await until(lambda: receiver.plis == [SSRC, SSRC])

    clock.now += 0.05  # a request after the interval goes out at once
    stream.request_keyframe()
    assert stream.keyframes_requested == 3
    stream.close()


async def test_close_cancels_a_pending_keyframe_request(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr("protolearn.media.streams.time", clock)
    stream, _ = hub(keyframe_interval_s=0.01)
    receiver = Receiver()
    with_video(stream, receiver)
    stream.request_keyframe()
    stream.request_keyframe()  # pending until the interval ends

    stream.close()
    clock.now += 1.0
    await asyncio.sleep(0.05)  # the pending request would have fired by now

    assert stream.keyframes_requested == 1


async def test_a_failed_keyframe_request_is_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    stream, _ = hub()
    with_video(stream, Receiver(fail=True))
    with caplog.at_level(logging.WARNING, logger="protolearn.media.streams"):
        stream.request_keyframe()
        await until(lambda: any("keyframe request failed" in r.getMessage() for r in caplog.records))
    assert stream.keyframes_requested == 1


# --- the analysis track --------------------------------------------------------------------------


def analysis(n: int, keyframe: bool = False) -> EncodedFrame:
    frame = video(n, keyframe)
    return EncodedFrame("analysis", frame.data, frame.timestamp, keyframe, frame.arrived)


async def test_analysis_frames_reach_only_the_analysis_listeners() -> None:
    stream, events = hub()
    viewer = stream.subscribe("video")
    recorded: list[EncodedFrame] = []
    analysed: list[EncodedFrame] = []
    stream.add_listener(recorded.append)
    stream.add_listener(analysed.append, analysis=True)

    stream.deliver(analysis(0, keyframe=True))
    assert stream.state == "waiting"  # the copy alone does not make the camera live
    camera = video(0, keyframe=True)
    stream.deliver(camera)
    stream.deliver(analysis(1))

    assert recorded == [camera]
    assert [frame.kind for frame in analysed] == ["analysis", "analysis"]
    assert await received(viewer, 1) == [camera.data]
    assert stream.frames == {"video": 1, "audio": 0, "analysis": 2}
    assert [event.state for event in events] == ["live"]

    stream.remove_listener(analysed.append)
    stream.deliver(analysis(2))
    assert len(analysed) == 2
    stream.close()


async def test_keyframes_are_asked_of_each_video_track_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    clock = Clock()
    monkeypatch.setattr("protolearn.media.streams.time", clock)
    stream, _ = hub(keyframe_interval_s=0.05)
    camera, copy = Receiver(), Receiver()
    with_video(stream, camera)
    stream.video_receiver(copy, "analysis")  # type: ignore[arg-type]
    stream.on_packet("analysis", SSRC + 1, None)

    stream.request_keyframe("analysis")
    stream.request_keyframe()  # the camera's interval is its own
    await until(lambda: copy.plis == [SSRC + 1] and camera.plis == [SSRC])
    stream.request_keyframe("analysis")  # within the copy's interval: waits for its end
    assert stream.keyframes_requested == 1  # the camera's own count

    clock.now += 0.05
    await until(lambda: copy.plis == [SSRC + 1, SSRC + 1])
    assert camera.plis == [SSRC]
    stream.close()
