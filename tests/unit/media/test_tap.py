"""FrameTap on real VP8: frames at the analysis rate, sizes bounded both ways, every bad frame
counted under its own stream and skipped, decoding resumed at the next good key frame."""

from __future__ import annotations

import asyncio
import functools
import itertools
import random
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import numpy.typing as npt
import pytest

from protolearn.media.forwarding import VIDEO_CLOCK, EncodedFrame, ForwardingStats, is_vp8_keyframe
from protolearn.media.streams import StreamHub
from protolearn.media.tap import MAX_VIDEO_FPS, FrameTap, TappedFrame
from tests.support.vp8 import encode_vp8, forged_keyframe

FPS = 15
TICKS = VIDEO_CLOCK // FPS  # RTP ticks between two frames at 15 fps
SSRC = 99


def scene(width: int, height: int, brightness: int = 255) -> npt.NDArray[np.uint8]:
    """A bright, textured RGB picture: ramps and a checkerboard, easy on the encoder."""
    y, x = np.mgrid[0:height, 0:width]
    red = x * 255 // max(1, width - 1)
    green = y * 255 // max(1, height - 1)
    blue = ((x // 32 + y // 32) % 2) * 200 + 40
    picture = np.dstack([red, green, blue]) * brightness // 255
    return np.ascontiguousarray(picture.astype(np.uint8))


@functools.cache
def vp8(width: int, height: int, frames: int, shift: int = 0, brightness: int = 255) -> tuple[bytes, ...]:
    """Real VP8 of a swaying picture at width x height, starting `shift` pixels to the right (a
    new scene for the frozen check): a key frame, then deltas."""
    packets = encode_vp8(scene(width, height, brightness), frames, width, height, shift)
    assert is_vp8_keyframe(packets[0])
    assert not any(is_vp8_keyframe(packet) for packet in packets[1:])
    return tuple(packets)


def garbage(rng: random.Random, keyframe_bit: bool) -> bytes:
    """Random bytes whose first bit says key frame (without a key frame's start code) or not."""
    first = rng.randrange(256) & 0xFE if keyframe_bit else rng.randrange(256) | 1
    return bytes([first]) + rng.randbytes(600)


async def until(condition: Callable[[], bool], within: float = 30.0) -> None:
    """Polls condition() until true; fails the test after `within` seconds (a generous bound:
    decoding runs on a worker thread of a machine that may be busy)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {within} s")
        await asyncio.sleep(0.005)


def accounted(tap: FrameTap) -> int:
    """Encoded video frames the tap has finished with: each one is decoded, fails to decode or
    is dropped (refused, or waiting for a key frame)."""
    return tap.stats.decoded + tap.stats.decode_errors + tap.stats.dropped_encoded


def outcomes(tap: FrameTap, stream_id: str) -> int:
    """Results applied for a stream: each frame due is tapped or a problem, and each refused
    or undecodable frame is a problem."""
    problems = sum(count for (stream, _kind), count in tap.stats.problems.items() if stream == stream_id)
    return tap.stats.streams.get(stream_id, 0) + problems


def problems_of(tap: FrameTap, stream_id: str) -> dict[str, int]:
    return {kind: count for (stream, kind), count in tap.stats.problems.items() if stream == stream_id}


def tapped(tap: FrameTap) -> list[TappedFrame]:
    frames: list[TappedFrame] = []
    while not tap.frames.empty():
        frames.append(tap.frames.get_nowait())
    return frames


class Publisher:
    """Sends payloads into a stream's hub at 15 fps of media time, one at a time: each is
    waited for (decoded or dropped) before the next, so the decoder never falls behind."""

    def __init__(self, tap: FrameTap, stream_id: str) -> None:
        self.tap = tap
        self.hub = StreamHub(stream_id, ForwardingStats(), lambda _event: None)
        tap.attach(self.hub)
        self.index = 0
        self.base = time.monotonic()

    @property
    def stream_id(self) -> str:
        return self.hub.stream_id

    async def send(self, payloads: tuple[bytes, ...] | list[bytes], every: int = 1) -> list[EncodedFrame]:
        """every: frames of media time between two payloads (a larger step makes each one due)."""
        sent: list[EncodedFrame] = []
        for data in payloads:
            # Arrival times follow the media clock: the tap paces itself by arrival, not by RTP time.
            arrived = self.base + self.index / FPS
            frame = EncodedFrame("video", data, self.index * TICKS, is_vp8_keyframe(data), arrived)
            self.index += every
            await self._deliver(frame)
            sent.append(frame)
        return sent

    async def _deliver(self, frame: EncodedFrame) -> None:
        target = accounted(self.tap) + 1
        self.hub.deliver(frame)
        await until(lambda: accounted(self.tap) >= target)

    async def settled(self, expected_outcomes: int) -> None:
        await until(lambda: outcomes(self.tap, self.stream_id) >= expected_outcomes)
        assert outcomes(self.tap, self.stream_id) == expected_outcomes


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(1)
    yield pool
    pool.shutdown(wait=True)


@pytest.fixture
async def tap(executor: ThreadPoolExecutor) -> AsyncIterator[FrameTap]:
    frame_tap = FrameTap(executor, rate_fps=2.0, capacity=64)
    yield frame_tap
    await frame_tap.close()


def due_frames(frames: int, rate_fps: float = 2.0) -> int:
    """How many of `frames` consecutive 15 fps frames from media time 0 are due at rate_fps."""
    due, next_due = 0, 0.0
    for index in range(frames):
        media_time = index / FPS
        if media_time + 1e-3 >= next_due:
            due += 1
            next_due = max(next_due + 1 / rate_fps, media_time)
    return due


# --- sizes ---------------------------------------------------------------------------------------


async def test_a_640x480_stream_is_tapped_at_the_rate(tap: FrameTap) -> None:
    publisher = Publisher(tap, "7")
    sent = await publisher.send(vp8(640, 480, 3 * FPS))
    await publisher.settled(due_frames(3 * FPS))

    frames = tapped(tap)
    assert len(frames) == 6  # 3 s at 2 fps
    for frame in frames:
        assert frame.stream_id == "7"
        assert frame.pixels.shape == (720, 640)  # I420 of 640x480
        assert frame.pixels.dtype == np.uint8
    # The first frame at or after each half second: 2 fps on average, whatever the camera's rate.
    times = [frame.media_time for frame in frames]
    assert times == pytest.approx([index / FPS for index in (0, 8, 15, 23, 30, 38)])
    assert tap.stats.decoded == len(sent)
    assert tap.stats.tapped == tap.stats.streams["7"] == 6
    assert tap.stats.problems == {}
    health = tap.health("7")
    assert health is not None
    assert health.last_usable == frames[-1].arrived
    assert health.problem == ""


async def test_a_641x481_stream_is_tapped_at_an_even_640x480(tap: FrameTap) -> None:
    publisher = Publisher(tap, "7")
    await publisher.send(vp8(641, 481, 2 * FPS))
    await publisher.settled(due_frames(2 * FPS))

    frames = tapped(tap)
    assert len(frames) == due_frames(2 * FPS)
    assert {frame.pixels.shape for frame in frames} == {(720, 640)}
    assert tap.stats.problems == {}  # no "conversion" problem, nor any other
    health = tap.health("7")
    assert health is not None
    assert health.last_usable == frames[-1].arrived


async def test_a_1920x1200_stream_is_scaled_down_for_analysis(tap: FrameTap) -> None:
    publisher = Publisher(tap, "7")
    await publisher.send(vp8(1920, 1200, 3))
    await publisher.settled(1)

    [frame] = tapped(tap)
    rows, width = frame.pixels.shape
    height = rows * 2 // 3
    assert (width, height) == (1152, 720)  # within 1280x720, the aspect ratio kept
    assert width % 2 == 0
    assert height % 2 == 0
    assert tap.stats.problems == {}


async def test_a_tiny_key_frame_is_refused_and_the_decoder_waits_for_a_good_one(tap: FrameTap) -> None:
    publisher = Publisher(tap, "7")
    await publisher.send(vp8(640, 480, 8))  # due: the first frame only
    await publisher.settled(1)
    decoded = tap.stats.decoded

    await publisher.send(vp8(8, 8, 1))  # a key frame at a new, tiny size
    assert tap.stats.problems == {("7", "too_small"): 1}  # refused before decoding
    assert tap.stats.decoded == decoded
    dropped = tap.stats.dropped_encoded
    assert dropped == 1

    later = vp8(640, 480, 16, shift=100)
    await publisher.send(later[1:8])  # deltas of a key frame the tap never decoded
    assert tap.stats.dropped_encoded == dropped + 7
    assert tap.stats.decoded == decoded

    resumed = await publisher.send(later)  # the next acceptable key frame
    await until(lambda: tap.stats.streams.get("7", 0) >= 2)
    assert tap.stats.decoded == decoded + len(later)
    frames = tapped(tap)
    assert frames[-1].arrived >= resumed[0].arrived
    assert {frame.pixels.shape for frame in frames} == {(720, 640)}
    assert problems_of(tap, "7") == {"too_small": 1}
    health = tap.health("7")
    assert health is not None
    assert health.problem == ""  # usable again: the old cause is no longer the stream's state
    assert health.last_usable is not None
    assert health.last_usable >= resumed[0].arrived


async def test_a_key_frame_claiming_16000x16000_is_refused_as_too_large(tap: FrameTap) -> None:
    publisher = Publisher(tap, "7")
    await publisher.send(vp8(640, 480, 2))
    await publisher.settled(1)
    decoded = tap.stats.decoded

    [forged] = await publisher.send([forged_keyframe(16000, 16000, 400, random.Random(1))])

    assert tap.stats.problems == {("7", "too_large"): 1}
    assert tap.stats.decoded == decoded  # never decoded
    health = tap.health("7")
    assert health is not None
    assert (health.problem, health.problem_at) == ("too_large", forged.arrived)


async def test_after_a_gap_the_tap_still_hands_out_at_most_its_rate(tap: FrameTap) -> None:
    publisher = Publisher(tap, "7")
    await publisher.send(vp8(640, 480, 2))
    await publisher.settled(1)
    await publisher.send(vp8(8, 8, 1))  # refused: the frames after it wait for a key frame
    publisher.index += 2 * FPS  # and the camera's next key frame comes 2 s later
    await publisher.send(vp8(640, 480, FPS, shift=100))
    # The first picture, too_small, then 1 s at 2 fps (one more with the fault).
    await until(lambda: outcomes(tap, "7") >= 1 + 1 + 2)

    times = [frame.media_time for frame in tapped(tap)]
    assert len(times) >= 3
    assert all(later - earlier >= 1 / 2.0 - 1 / FPS for earlier, later in itertools.pairwise(times))


# --- garbage -------------------------------------------------------------------------------------


@pytest.mark.parametrize("keyframe_bit", [False, True], ids=["delta", "keyframe-bit"])
async def test_random_bytes_are_undecodable_and_a_new_key_frame_recovers(
    tap: FrameTap, keyframe_bit: bool
) -> None:
    publisher = Publisher(tap, "7")
    receiver = PliRecorder()
    publisher.hub.video_receiver(receiver)  # type: ignore[arg-type]
    publisher.hub.on_packet("video", SSRC, None)

    first = vp8(640, 480, 16)
    await publisher.send(first[:8])
    await publisher.settled(1)
    decoded = tap.stats.decoded

    await publisher.send([garbage(random.Random(2), keyframe_bit)])
    await until(lambda: problems_of(tap, "7") == {"undecodable": 1})
    await publisher.send(first[8:12])  # deltas that depend on what came before: skipped
    assert tap.stats.decoded == decoded
    if not keyframe_bit:  # decoded and failed: the tap asks the publisher for a key frame
        assert tap.stats.decode_errors == 1
        await until(lambda: receiver.plis == [SSRC])

    resumed = await publisher.send(vp8(640, 480, 16, shift=100))
    await until(lambda: tap.stats.streams.get("7", 0) >= 2)
    assert tap.stats.decoded == decoded + 16
    frames = tapped(tap)
    assert frames[-1].arrived >= resumed[0].arrived
    assert problems_of(tap, "7") == {"undecodable": 1}
    health = tap.health("7")
    assert health is not None
    assert health.last_usable is not None
    assert health.last_usable >= resumed[0].arrived


class PliRecorder:
    """Stands in for the publisher's RTCRtpReceiver: records the key frames asked for."""

    def __init__(self) -> None:
        self.plis: list[int] = []

    async def _send_rtcp_pli(self, media_ssrc: int) -> None:
        self.plis.append(media_ssrc)


# --- frozen pictures -----------------------------------------------------------------------------


async def test_identical_bright_frames_are_frozen_and_still_analysed(tap: FrameTap) -> None:
    publisher = Publisher(tap, "7")
    [key] = vp8(640, 480, 1)
    # The same picture again and again, each due (8 frames of media time apart, over 0.5 s).
    sent = await publisher.send([key] * 5, every=8)
    await publisher.settled(5 + 4)  # five tapped, four of them frozen

    frames = tapped(tap)
    assert [frame.frozen for frame in frames] == [False, True, True, True, True]
    assert problems_of(tap, "7") == {"frozen": 4}
    health = tap.health("7")
    assert health is not None
    assert health.frozen_since == sent[1].arrived  # proctoring judges how long it lasts
    assert (health.problem, health.problem_at) == ("frozen", sent[-1].arrived)

    moving = await publisher.send(vp8(640, 480, 16, shift=100))  # the picture moves again
    await until(lambda: tap.stats.streams.get("7", 0) >= 6)
    assert health.frozen_since is None
    assert health.last_usable is not None
    assert health.last_usable >= moving[0].arrived


async def test_a_dark_still_picture_is_not_reported_frozen(tap: FrameTap) -> None:
    publisher = Publisher(tap, "7")
    [key] = vp8(640, 480, 1, brightness=20)
    sent = await publisher.send([key] * 5, every=8)
    await publisher.settled(5)

    frames = tapped(tap)
    assert len(frames) == 5
    assert float(frames[0].pixels[:480].mean()) < 40  # too dark to tell frozen from still
    assert problems_of(tap, "7") == {}
    health = tap.health("7")
    assert health is not None
    assert health.last_usable == sent[-1].arrived


# --- streams apart -------------------------------------------------------------------------------


async def test_one_streams_problems_never_appear_under_another(tap: FrameTap) -> None:
    hostile, honest = Publisher(tap, "13"), Publisher(tap, "7")
    rng = random.Random(3)
    good = vp8(640, 480, 16)
    [key] = vp8(640, 480, 1)

    await honest.send(good[:8])
    await hostile.send(vp8(8, 8, 1))
    await honest.send(good[8:])
    await hostile.send([forged_keyframe(16000, 16000, 400, rng)])
    await hostile.send(vp8(641, 481, 4))
    await hostile.send([garbage(rng, keyframe_bit=False)])
    await honest.send(vp8(640, 480, 8))
    await hostile.send([key] * 4, every=8)
    await honest.send(vp8(640, 480, 16, shift=50))

    await until(lambda: set(problems_of(tap, "13")) == {"too_small", "too_large", "undecodable", "frozen"})
    await honest.settled(due_frames(16 + 8 + 16))  # one continuous 15 fps stream
    assert {stream for stream, _kind in tap.stats.problems} == {"13"}
    honest_health, hostile_health = tap.health("7"), tap.health("13")
    assert honest_health is not None
    assert hostile_health is not None
    assert honest_health.problem == ""
    assert honest_health.problem_at is None
    assert hostile_health.problem == "frozen"
    streams = {frame.stream_id for frame in tapped(tap)}
    assert streams == {"7", "13"}


# --- what a publisher cannot make the tap do -------------------------------------------------------


async def test_rtp_timestamps_that_jump_do_not_make_every_frame_due(tap: FrameTap) -> None:
    publisher = Publisher(tap, "7")
    payloads = vp8(640, 480, 30)
    base = time.monotonic()
    for index, data in enumerate(payloads):  # 2 s of arrivals, each frame claiming 10 s later
        frame = EncodedFrame(
            "video", data, index * 10 * VIDEO_CLOCK, is_vp8_keyframe(data), base + index / FPS
        )
        await publisher._deliver(frame)
    await publisher.settled(due_frames(30))
    assert len(tapped(tap)) == due_frames(30)  # paced by arrival: 4 in 2 s at 2 fps


async def test_a_flood_of_frames_is_refused_beyond_a_cameras_rate(tap: FrameTap) -> None:
    publisher = Publisher(tap, "7")
    payloads = vp8(320, 240, 120)
    base = time.monotonic()
    for index, data in enumerate(payloads):  # 120 frames arriving within 0.6 s
        frame = EncodedFrame("video", data, index * TICKS, is_vp8_keyframe(data), base + index * 0.005)
        await publisher._deliver(frame)
    assert problems_of(tap, "7")["flooding"] == 120 - MAX_VIDEO_FPS


async def test_a_picture_of_a_strange_shape_is_refused(tap: FrameTap) -> None:
    publisher = Publisher(tap, "7")
    await publisher.send(vp8(1600, 64, 1))  # 25:1 would shrink to a strip nothing can be read in
    assert problems_of(tap, "7") == {"bad_aspect": 1}
    assert tap.stats.decoded == 0


# --- rate changes and changed pictures -----------------------------------------------------------


async def test_a_raised_rate_takes_effect_at_once_and_the_attached_rate_comes_back(
    executor: ThreadPoolExecutor,
) -> None:
    tap = FrameTap(executor, rate_fps=2.0, early_on_change=False)
    try:
        publisher = Publisher(tap, "7")
        packets = vp8(320, 240, 4 * FPS)
        await publisher.send(packets[:31])  # 0 .. 2 s: due at frames 0, 8, 15, 23, 30
        await publisher.settled(5)
        tap.set_rate("7", 1.0)
        assert tap.rate("7") == 2.0  # never slower than the rate it was attached with
        tap.set_rate("7", 8.0)
        assert tap.rate("7") == 8.0
        await publisher.send(packets[31:46])  # the next second, at 8 frames/s
        await publisher.settled(5 + 8)
        tap.set_rate("7", None)
        assert tap.rate("7") == 2.0
        await publisher.send(packets[46:])  # back to 2 frames/s, from the last frame handed out
        await publisher.settled(5 + 8 + 1)
        times = [round(frame.media_time * FPS) for frame in tapped(tap)]
        # 8 frames/s on average from half a period after the last one: the 2nd frame or the 1st.
        assert times == [0, 8, 15, 23, 30, 32, 34, 36, 38, 40, 42, 44, 45, 53]
        assert tap.stats.changed == 0
    finally:
        await tap.close()


async def test_a_changed_picture_is_handed_out_at_once_ahead_of_the_schedule(
    executor: ThreadPoolExecutor,
) -> None:
    for early in (True, False):
        tap = FrameTap(executor, rate_fps=2.0, early_on_change=early)
        try:
            publisher = Publisher(tap, "7")
            # A bright scene, then from frame 34 (0.27 s after the frame due at 30) a dark one.
            await publisher.send(vp8(320, 240, 34))
            await publisher.send(vp8(320, 240, 12, brightness=60))
            expected = [0, 8, 15, 23, 30, 34, 42] if early else [0, 8, 15, 23, 30, 38, 45]
            await publisher.settled(len(expected))
            assert [round(frame.media_time * FPS) for frame in tapped(tap)] == expected
            assert tap.stats.changed == (1 if early else 0)
        finally:
            await tap.close()


async def test_a_swaying_or_noisy_picture_is_not_a_change(tap: FrameTap) -> None:
    publisher = Publisher(tap, "7")
    await publisher.send(vp8(640, 480, 3 * FPS))
    await publisher.settled(due_frames(3 * FPS))
    assert tap.stats.changed == 0
    assert len(tapped(tap)) == due_frames(3 * FPS)


# --- a copy of the camera for analysis -----------------------------------------------------------


def handled(tap: FrameTap) -> int:
    """Frames of either track the tap has finished with: decoded, dropped, failed, checked (a
    camera keyframe decoded alone) or passed over (the track not being decoded)."""
    return accounted(tap) + tap.stats.checked + tap.stats.passed_over


def camera(frames: int, keyframe_every: int, brightness: int = 255) -> list[bytes]:
    """The camera at 640x480: a key frame every `keyframe_every` frames, the picture swaying on."""
    packets: list[bytes] = []
    while len(packets) < frames:
        packets += vp8(640, 480, keyframe_every, shift=3 * len(packets), brightness=brightness)
    return packets[:frames]


class TwoTracks:
    """A camera at 15 fps and its copy at 320x240 and half the rate (a frame with every other
    camera frame, of the same picture), delivered into one hub in arrival order, each waited
    for before the next."""

    def __init__(self, tap: FrameTap, stream_id: str = "7") -> None:
        self.tap = tap
        self.hub = StreamHub(stream_id, ForwardingStats(), lambda _event: None)
        tap.attach(self.hub)
        self.base = time.monotonic()

    async def send(self, cameras: list[bytes], copies: list[bytes], copy_from: int = 0) -> None:
        """Camera frame i at i/15 s; copy frame j beside camera frame copy_from + 2j."""
        for index, data in enumerate(cameras):
            step = index - copy_from
            if step >= 0 and step % 2 == 0 and step // 2 < len(copies):
                await self._deliver("analysis", copies[step // 2], index)
            await self._deliver("video", data, index)

    async def _deliver(self, kind: str, data: bytes, index: int) -> None:
        arrived = self.base + index / FPS + (1e-3 if kind == "video" else 0.0)
        target = handled(self.tap) + 1
        self.hub.deliver(EncodedFrame(kind, data, index * TICKS, is_vp8_keyframe(data), arrived))
        await until(lambda: handled(self.tap) >= target)

    def handed_out(self) -> list[TappedFrame]:
        """What the tap handed out (a frame's outcome is applied with its counts)."""
        return tapped(self.tap)


def copy_of(frames: int, brightness: int = 255) -> list[bytes]:
    """The camera's picture at 320x240, swaying as much per camera frame (two per copy frame)."""
    return list(vp8(320, 240, frames, brightness=brightness))


async def test_the_copy_is_decoded_and_the_camera_only_at_its_keyframes(tap: FrameTap) -> None:
    tracks = TwoTracks(tap)
    await tracks.send(camera(6 * FPS, keyframe_every=2 * FPS), copy_of(3 * FPS))
    frames = tracks.handed_out()

    assert tap.source("7") == "analysis"
    assert tap.stats.decoded == tap.stats.analysis_decoded == 3 * FPS  # every copy frame, no camera one
    assert tap.stats.checked == 3  # the camera's keyframes, at 0, 2 and 4 s
    assert tap.stats.passed_over == 6 * FPS - 3
    assert tap.stats.problems == {}
    scans = [frame for frame in frames if frame.scan]
    assert [frame.pixels.shape for frame in scans] == [(720, 640)] * 3  # the camera's own size
    assert [round((frame.arrived - tracks.base) * FPS) for frame in scans] == [0, 30, 60]
    copies = [frame for frame in frames if not frame.scan]
    assert {frame.pixels.shape for frame in copies} == {(360, 320)}
    assert len(copies) == 12  # 6 s at 2 fps


async def test_a_room_scan_asks_the_camera_for_its_next_picture_only_where_a_copy_is_decoded(
    tap: FrameTap,
) -> None:
    """Where several faces decide, the next room scan is the camera's next keyframe: asked for
    where the copy is what is decoded, not where the camera's own frames are, and once the tap
    will decode one again (a second after the last), however often asked meanwhile."""
    tracks = TwoTracks(tap)
    alone = StreamHub("8", ForwardingStats(), lambda _event: None)
    tap.attach(alone)
    requested: list[tuple[str, str, float]] = []
    for hub in (tracks.hub, alone):
        hub.request_keyframe = functools.partial(  # type: ignore[method-assign]
            lambda stream, track="video": requested.append((stream, track, time.monotonic())), hub.stream_id
        )
    await tracks.send(camera(FPS, keyframe_every=FPS), copy_of(FPS // 2))
    assert tap.source("7") == "analysis" and tap.source("8") == "video"
    requested.clear()

    for _ in range(3):
        tap.request_scan("7")
        tap.request_scan("8")
        tap.request_scan("gone")
    await until(lambda: bool(requested))
    await asyncio.sleep(0.1)
    [(stream, track, at)] = requested
    assert (stream, track) == ("7", "video")
    # The camera's last keyframe came at the start of the second sent: asked once it ended.
    assert at >= tracks.base + 1.0


async def test_a_copy_that_does_not_show_the_camera_is_not_trusted_again(tap: FrameTap) -> None:
    tracks = TwoTracks(tap)
    # The copy shows a dark room while the camera shows the bright one.
    await tracks.send(camera(6 * FPS, keyframe_every=2 * FPS), copy_of(3 * FPS, brightness=60))
    frames = tracks.handed_out()

    assert tap.source("7") == "video"
    # The keyframes at 0 and 2 s disagreed with it: from the next, at 4 s, the camera is decoded
    # and the copy passed over.
    assert problems_of(tap, "7") == {"analysis_mismatch": 1}
    assert tap.stats.checked == 2
    # The copy's frames until the first more than CHECK_NEAR_S after the 2 s keyframe (one of
    # them could still have matched it).
    assert tap.stats.analysis_decoded == 20
    camera_frames = [f for f in frames if not f.scan and f.pixels.shape == (720, 640)]
    assert camera_frames and all(f.arrived - tracks.base >= 4.0 for f in camera_frames)
    health = tap.health("7")
    assert health is not None and health.problem == ""  # the camera's pictures are fine since


async def test_a_copy_that_goes_quiet_leaves_the_camera_decoded(tap: FrameTap) -> None:
    tracks = TwoTracks(tap)
    # The copy's 2 s, then the camera alone for 4 s (keyframes every 2 s).
    await tracks.send(camera(6 * FPS, keyframe_every=2 * FPS), copy_of(FPS))
    frames = tracks.handed_out()

    assert tap.source("7") == "video"
    assert problems_of(tap, "7") == {}
    camera_frames = [f for f in frames if not f.scan and f.pixels.shape == (720, 640)]
    # The copy's last frame came at 1.87 s; the camera is decoded from its first keyframe more
    # than ANALYSIS_QUIET_S later (the one at 2 s was only checked).
    assert camera_frames[0].arrived - tracks.base == pytest.approx(4 + 1e-3)
    assert tap.stats.checked == 2


async def test_a_copy_no_camera_keyframe_confirms_is_not_trusted(
    tap: FrameTap, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("protolearn.media.tap.CHECK_WITHIN_S", 2.0)
    tracks = TwoTracks(tap)
    # A camera that sends one keyframe and never another (it ignores the requests for them).
    await tracks.send(camera(4 * FPS, keyframe_every=4 * FPS), copy_of(2 * FPS))

    assert tap.source("7") == "video"
    assert problems_of(tap, "7") == {"analysis_unchecked": 1}
    assert tap.stats.checked == 1
    # Confirmed at 0 s; the copy's first frame more than 2 s later ended its trust.
    assert tap.stats.analysis_decoded == FPS + 1


async def test_a_copy_joining_late_is_decoded_from_its_keyframe(tap: FrameTap) -> None:
    tracks = TwoTracks(tap)
    # The camera alone for 2 s; then the copy, whose first frames (before its keyframe) are
    # passed over.
    copies = copy_of(4)[1:] + copy_of(2 * FPS)
    await tracks.send(camera(6 * FPS, keyframe_every=2 * FPS), copies, copy_from=2 * FPS)
    frames = tracks.handed_out()

    assert tap.source("7") == "analysis"
    assert problems_of(tap, "7") == {}
    assert tap.stats.analysis_decoded == 2 * FPS - 3  # from its keyframe, beside camera frame 36
    assert {f.pixels.shape for f in frames if f.arrived - tracks.base < 2.4} == {(720, 640)}
    assert {f.pixels.shape for f in frames if f.arrived - tracks.base >= 2.4 and not f.scan} == {(360, 320)}


async def test_a_copy_arriving_after_the_camera_still_matches_it_across_a_change(tap: FrameTap) -> None:
    tracks = TwoTracks(tap)
    # The lights go down at 2 s and up at 4 s, each time on a camera keyframe; each copy picture
    # comes two camera frames after the camera's of the same moment, so at each of these
    # keyframes the copy's last picture still shows the scene before.
    cameras, copies = [], []
    for segment, brightness in enumerate((255, 60, 255)):
        cameras += vp8(640, 480, 2 * FPS, shift=3 * 2 * FPS * segment, brightness=brightness)
        copies += vp8(320, 240, FPS, shift=3 * FPS * segment, brightness=brightness)
    await tracks.send(cameras, copies, copy_from=2)

    # The camera's first keyframe came before the copy (decoded as the camera's); the two at the
    # changes were checked, and both matched a copy picture that came after them.
    assert tap.stats.checked == 2
    assert problems_of(tap, "7") == {}
    assert tap.source("7") == "analysis"
