"""FrameBatcher with the real ONNX analyzer: batching, order, drops, room scans, threads."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import cv2
import numpy as np
import pytest

from protolearn.vision.analyzer import FaceAnalyzer
from protolearn.vision.batcher import FrameBatcher
from protolearn.vision.errors import FrameFormatError
from protolearn.vision.frames import Frame
from protolearn.vision.schemas import Face, Observation
from tests.support.face_set import case
from tests.support.images import astronaut, empty_room, i420


def _grey(level: int) -> Frame:
    """A faceless frame whose brightness identifies it."""
    return np.full((120, 160, 3), level, dtype=np.uint8)


class RecordingAnalyzer:
    """The real analyzer, noting each batch's size, room scans and thread."""

    def __init__(self, analyzer: FaceAnalyzer, hold: threading.Event | None = None) -> None:
        self.analyzer = analyzer
        self.hold = hold
        self.batches: list[tuple[int, list[bool], str]] = []
        self.follows: list[list[tuple[Face, ...]]] = []
        self.searches: list[list[bool]] = []

    def analyze(
        self,
        frames: Sequence[Frame],
        room_scan: bool | Sequence[bool] = True,
        follow: Sequence[Sequence[Face]] | None = None,
        search: bool | Sequence[bool] = True,
        gaze: bool | Sequence[bool] = True,
    ) -> list[Observation]:
        if self.hold is not None:
            self.hold.wait(timeout=10)
        scans = [room_scan] * len(frames) if isinstance(room_scan, bool) else list(room_scan)
        self.batches.append((len(frames), scans, threading.current_thread().name))
        self.follows.append([tuple(faces) for faces in follow] if follow is not None else [()] * len(frames))
        self.searches.append([search] * len(frames) if isinstance(search, bool) else list(search))
        return self.analyzer.analyze(frames, room_scan, follow, search, gaze)


async def test_frames_of_many_streams_share_batches_and_come_back_in_order(
    onnx_analyzer: FaceAnalyzer,
) -> None:
    recorder = RecordingAnalyzer(onnx_analyzer)
    async with FrameBatcher(recorder, max_batch=8, max_wait_ms=50, workers=2) as batcher:  # type: ignore[arg-type]
        futures = {
            stream: [batcher.submit(f"stream-{stream}", _grey(40 + 10 * stream + i)) for i in range(3)]
            for stream in range(6)
        }
        results = {stream: await asyncio.gather(*pending) for stream, pending in futures.items()}

    for stream, observations in results.items():
        assert [round(o.brightness) for o in observations if o] == [40 + 10 * stream + i for i in range(3)]
    assert batcher.stats.analysed == 18
    assert batcher.stats.dropped == 0
    assert max(size for size, _, _ in recorder.batches) > 1  # frames were batched together
    assert all(size <= 8 for size, _, _ in recorder.batches)
    assert all(thread.startswith("vision") for _, _, thread in recorder.batches)  # never on the loop


async def test_an_overloaded_stream_drops_its_oldest_frames(onnx_analyzer: FaceAnalyzer) -> None:
    hold = threading.Event()
    recorder = RecordingAnalyzer(onnx_analyzer, hold)
    async with FrameBatcher(recorder, max_batch=4, max_wait_ms=0, workers=1, stream_backlog=2) as batcher:  # type: ignore[arg-type]
        first = batcher.submit("cam", _grey(10))
        await asyncio.sleep(0.05)  # the first frame is now in flight, held
        later = [batcher.submit("cam", _grey(20 + i)) for i in range(6)]
        hold.set()
        results = await asyncio.gather(first, *later)

    assert results[0] is not None
    kept = [round(o.brightness) for o in results[1:] if o is not None]
    assert kept == [24, 25]  # the backlog of 2 keeps the newest
    assert batcher.stats.dropped == 4
    assert sum(r is None for r in results) == 4


async def test_room_scans_are_rationed_per_stream(onnx_analyzer: FaceAnalyzer) -> None:
    recorder = RecordingAnalyzer(onnx_analyzer)
    async with FrameBatcher(
        recorder, max_batch=1, max_wait_ms=0, workers=1, room_scan_interval_s=60
    ) as batcher:  # type: ignore[arg-type]
        observations = [await batcher.analyze("cam", astronaut()) for _ in range(3)]
        other = await batcher.analyze("other-cam", astronaut())

    assert [o.room_scanned for o in observations if o] == [True, False, False]
    assert other is not None
    assert other.room_scanned
    assert all(o is not None and len(o.faces) == 1 for o in [*observations, other])
    assert all(o is not None and o.latency_ms > 0 for o in observations)


async def test_a_scan_frame_is_room_scanned_apart_from_the_streams_own_frames(
    onnx_analyzer: FaceAnalyzer,
) -> None:
    """The camera's picture beside a smaller analysis copy: scanned when the stream's scan is
    due, following nothing, and its faces (in its own coordinates) not followed by the copy's
    next frame; one that comes before the next scan is due is not analysed at all."""
    recorder = RecordingAnalyzer(onnx_analyzer)
    small = astronaut()[::2, ::2].copy()  # the copy: half the camera's size
    async with FrameBatcher(
        recorder, max_batch=1, max_wait_ms=0, workers=1, room_scan_interval_s=60, search_interval_s=60
    ) as batcher:  # type: ignore[arg-type]
        scan = await batcher.submit("cam", astronaut(), gaze=False, scan=True)
        first = await batcher.analyze("cam", small)
        followed = await batcher.analyze("cam", small)
        early = await batcher.submit("cam", astronaut(), gaze=False, scan=True)
        after = await batcher.analyze("cam", small)
        # A stream whose copy came first: its scan was of the copy, the camera's picture is better.
        late = [
            await batcher.analyze("late", small),
            await batcher.submit("late", astronaut(), gaze=False, scan=True),
            await batcher.submit("late", astronaut(), gaze=False, scan=True),
        ]

    assert all(o is not None and len(o.faces) == 1 for o in (scan, first, followed, after))
    assert scan is not None and scan.room_scanned and scan.width == 640
    # The copy's frames are not scanned while the camera's pictures are coming.
    assert [scans for _size, scans, _thread in recorder.batches[:4]] == [[True], [False], [False], [False]]
    assert early is None
    assert [o is not None and o.room_scanned for o in late] == [True, True, False]
    assert batcher.stats.scans_not_due == 2
    assert batcher.stats.room_scans == {"camera": 2, "interval": 1, "doubt": 0, "several": 0}
    # The copy's first frame follows nothing (the scan's faces are in the camera's coordinates),
    # the next ones the copy's own last faces.
    assert recorder.follows[0] == [()] and recorder.follows[1] == [()]
    assert first is not None and recorder.follows[2] == [first.faces]
    assert followed is not None and followed.followed and after is not None and after.followed


async def test_several_faces_on_a_room_scan_bring_the_next_one_forward(onnx_analyzer: FaceAnalyzer) -> None:
    """The several-faces rule's evidence comes from room scans: while a scan finds several
    faces, the next is due after doubt_scan_interval_s (camera pictures, where the stream sends
    them, not the copy's smaller frames), and once one finds a single face, after the interval."""
    recorder = RecordingAnalyzer(onnx_analyzer)
    group = case("astronaut_and_grace").build
    async with FrameBatcher(
        recorder,
        max_batch=1,
        max_wait_ms=0,
        workers=1,
        room_scan_interval_s=60,
        search_interval_s=60,
        doubt_scan_interval_s=0,
    ) as batcher:  # type: ignore[arg-type]
        # A stream without a copy: its own frames are scanned.
        own = [await batcher.analyze("solo", frame()) for frame in (group, group, astronaut, astronaut)]
        # A stream with a copy: its camera's pictures are.
        camera = [
            await batcher.submit("cam", group(), gaze=False, scan=True),
            await batcher.analyze("cam", group()[::2, ::2].copy()),
            await batcher.submit("cam", group(), gaze=False, scan=True),
            await batcher.submit("cam", astronaut(), gaze=False, scan=True),
            await batcher.submit("cam", astronaut(), gaze=False, scan=True),
        ]

    assert [len(o.faces) for o in own if o] == [2, 2, 1, 1]
    assert [o.room_scanned for o in own if o] == [True, True, True, False]
    first, copy, again, single, early = camera
    assert first is not None and again is not None and single is not None and copy is not None
    assert first.room_scanned and len(first.faces) == 2 and not copy.room_scanned
    assert again.room_scanned and len(again.faces) == 2
    assert single.room_scanned and len(single.faces) == 1 and early is None
    assert batcher.stats.room_scans == {"camera": 3, "interval": 1, "doubt": 0, "several": 2}


async def test_frames_between_searches_follow_the_streams_last_faces(onnx_analyzer: FaceAnalyzer) -> None:
    recorder = RecordingAnalyzer(onnx_analyzer)
    async with FrameBatcher(
        recorder, max_batch=1, max_wait_ms=0, workers=1, room_scan_interval_s=60, search_interval_s=60
    ) as batcher:  # type: ignore[arg-type]
        seen = [await batcher.analyze("cam", astronaut()) for _ in range(3)]
        gone = await batcher.analyze("cam", _grey(90))
        after = await batcher.analyze("cam", astronaut())
    observations = [o for o in [*seen, gone, after] if o is not None]
    assert len(observations) == 5
    first, *followed = observations[:3]
    # The scanned first frame searched; the next two only followed the face it found.
    assert recorder.searches == [[True], [False], [False], [False], [False]]
    assert (first.followed, [o.followed for o in followed]) == (False, [True, True])
    assert recorder.follows[1] == [first.faces]
    assert all(len(o.faces) == 1 for o in observations[:3])
    # The face left: following it failed, so the detector searched and found nobody; the next
    # frame had nothing to follow and was searched too.
    assert not observations[3].followed and observations[3].faces == ()
    assert recorder.follows[4] == [()]
    assert not observations[4].followed and len(observations[4].faces) == 1
    assert batcher.stats.followed == 2


async def test_a_stream_is_searched_at_least_once_per_search_interval(onnx_analyzer: FaceAnalyzer) -> None:
    recorder = RecordingAnalyzer(onnx_analyzer)
    async with FrameBatcher(
        recorder, max_batch=1, max_wait_ms=0, workers=1, room_scan_interval_s=60, search_interval_s=0
    ) as batcher:  # type: ignore[arg-type]
        observations = [await batcher.analyze("cam", astronaut()) for _ in range(3)]
    assert recorder.searches == [[True], [True], [True]]
    assert [o.followed for o in observations if o] == [False, False, False]
    # Searched frames follow the last faces too: a face the detector boxes badly stays found.
    first, second, _ = (o.faces if o else () for o in observations)
    assert recorder.follows == [[()], [first], [second]]


async def test_a_doubtful_candidate_brings_the_next_room_scan_forward(onnx_analyzer: FaceAnalyzer) -> None:
    # The cat's head scores over the short-range detector's native threshold and is not
    # confirmed by the mesh: a doubtful candidate, so the next frame is a room scan.
    recorder = RecordingAnalyzer(onnx_analyzer)
    async with FrameBatcher(
        recorder,
        max_batch=1,
        max_wait_ms=0,
        workers=1,
        room_scan_interval_s=60,
        search_interval_s=0,
        doubt_scan_interval_s=0,
    ) as batcher:  # type: ignore[arg-type]
        observations = [
            await batcher.analyze("cam", frame()) for frame in (astronaut, *[case("chelsea").build] * 4)
        ]
    first, doubted, scanned, *later = (o for o in observations if o is not None)
    assert first.room_scanned and not doubted.room_scanned
    assert doubted.doubtful >= 1 and doubted.faces == ()
    assert scanned.room_scanned and scanned.faces == ()
    # The scan left the cat's head doubtful too: no more scans until the regular one.
    assert scanned.doubtful >= 1
    assert [o.room_scanned for o in later] == [False, False]
    assert batcher.stats.room_scans == {"camera": 0, "interval": 1, "doubt": 1, "several": 0}


async def test_bad_frames_are_refused_at_once_and_closing_resolves_waiters(
    onnx_analyzer: FaceAnalyzer,
) -> None:
    hold = threading.Event()
    recorder = RecordingAnalyzer(onnx_analyzer, hold)
    batcher = FrameBatcher(recorder, max_batch=1, max_wait_ms=0, workers=1)  # type: ignore[arg-type]
    with pytest.raises(RuntimeError, match="not running"):
        batcher.submit("cam", _grey(1))
    async with batcher:
        with pytest.raises(FrameFormatError):
            batcher.submit("cam", np.zeros((10, 10), np.float32))  # type: ignore[arg-type]
        running = batcher.submit("cam", _grey(50))
        await asyncio.sleep(0.05)
        waiting = batcher.submit("cam", _grey(60))
        batcher.forget("cam")
        assert await waiting is None
        hold.set()
        assert await running is not None


def test_batcher_settings_are_checked(onnx_analyzer: FaceAnalyzer) -> None:
    with pytest.raises(ValueError, match="max_batch"):
        FrameBatcher(onnx_analyzer, max_batch=0)


def _noisy(frame: Frame, seed: int, amplitude: int = 3) -> Frame:
    """The same picture with a webcam's sensor noise."""
    noise = np.random.default_rng(seed).integers(-amplitude, amplitude + 1, frame.shape)
    return np.clip(frame.astype(np.int16) + noise, 0, 255).astype(np.uint8)


def _one_at_a_time(recorder: RecordingAnalyzer, still_empty_s: float) -> FrameBatcher:
    """Frames analysed one by one; no room scan or search due after a stream's first frame."""
    return FrameBatcher(
        recorder,  # type: ignore[arg-type]
        max_batch=1,
        workers=1,
        room_scan_interval_s=60,
        search_interval_s=60,
        still_empty_s=still_empty_s,
    )


@pytest.mark.parametrize("layout", ["rgb", "i420"])
async def test_an_empty_rooms_unchanged_picture_stands_until_it_changes(
    onnx_analyzer: FaceAnalyzer, layout: str
) -> None:
    as_given = i420 if layout == "i420" else np.ascontiguousarray
    room = empty_room()
    # Something coming into view: a 48x48 patch of the picture, inverted, in one corner.
    visitor = room.copy()
    visitor[400:448, 560:608] = 255 - visitor[400:448, 560:608]
    recorder = RecordingAnalyzer(onnx_analyzer)
    async with _one_at_a_time(recorder, still_empty_s=60) as batcher:
        frames = [room, _noisy(room, 1), _noisy(room, 2), visitor, room, _noisy(room, 3), astronaut()]
        frames += [room, _noisy(room, 4), _noisy(room, 5)]
        observations = [await batcher.analyze("cam", as_given(frame)) for frame in frames]

    assert all(o is not None for o in observations)
    stills = [o.still for o in observations if o is not None]
    # Two frames of the room, then again with noise: not analysed; the visitor's corner changed
    # a square; the room after it stands on the visitor's frame no more; after a face, the
    # empty room needs two frames again before it stands.
    assert stills == [False, False, True, False, False, True, False, False, False, True]
    assert len(recorder.batches) == 7 and batcher.stats.analysed == 7
    assert batcher.stats.stills == 3 and batcher.stats.submitted == 10
    for observation in (o for o in observations if o is not None and o.still):
        assert observation.faces == () and not observation.dark
        assert not observation.room_scanned and not observation.gaze_read and observation.latency_ms == 0
    face = observations[6]
    assert face is not None and len(face.faces) == 1


async def test_nothing_stands_for_a_dark_picture_another_size_a_due_scan_or_after_its_time(
    onnx_analyzer: FaceAnalyzer,
) -> None:
    room = empty_room()
    smaller = cv2.resize(room, (320, 240), interpolation=cv2.INTER_AREA)
    recorder = RecordingAnalyzer(onnx_analyzer)
    async with _one_at_a_time(recorder, still_empty_s=0.3) as batcher:
        dark = [await batcher.analyze("dark", _grey(12)) for _ in range(3)]  # too dark to tell
        seen = [await batcher.analyze("room", room) for _ in range(3)]  # the third stands
        await asyncio.sleep(0.35)  # longer than still_empty_s since the second was analysed
        expired = await batcher.analyze("room", room)
        resized = await batcher.analyze("room", smaller)
        batcher.room_scan_interval = 0.0  # from now on every frame is due a room scan
        scanned = await batcher.analyze("room", smaller)

    assert all(o is not None and o.dark and not o.still for o in dark)
    assert [o.still for o in seen if o is not None] == [False, False, True]
    for observation in (expired, resized, scanned):
        assert observation is not None and not observation.still
    assert resized is not None and (resized.width, resized.height) == (320, 240)
    assert scanned is not None and scanned.room_scanned
    assert batcher.stats.stills == 1 and batcher.stats.analysed == 8


async def test_without_still_empty_s_every_frame_is_analysed(onnx_analyzer: FaceAnalyzer) -> None:
    async with FrameBatcher(onnx_analyzer, max_batch=1, workers=1) as batcher:
        observations = [await batcher.analyze("room", empty_room()) for _ in range(3)]
    assert [o.still for o in observations if o is not None] == [False, False, False]
    assert batcher.stats.analysed == 3 and batcher.stats.stills == 0
