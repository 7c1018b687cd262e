"""The shared frame pipeline reads a stream's eyes about once a second, and on every frame while
one of its rules decides."""

from __future__ import annotations

import time

import cv2
from prometheus_client import REGISTRY

from protolearn.media.forwarding import EncodedFrame, ForwardingStats
from protolearn.media.streams import StreamHub
from protolearn.media.tap import TappedFrame
from protolearn.proctoring.pipeline import FramePipeline, PipelineOptions
from protolearn.vision.runtimes import create_analyzer
from protolearn.vision.schemas import Observation
from tests.support.face_set import case
from tests.support.images import astronaut
from tests.support.peers import until
from tests.support.vp8 import encode_vp8


async def test_the_eyes_are_read_once_a_second_and_on_every_frame_while_a_rule_decides() -> None:
    observed: list[tuple[float, bool]] = []

    def sink(frame: TappedFrame, observation: Observation) -> None:
        observed.append((frame.media_time, observation.gaze_read))

    pipeline = FramePipeline(lambda: create_analyzer("onnx"), sink, PipelineOptions(gaze_interval_s=1.0))
    hub = StreamHub("7", ForwardingStats(), lambda _event: None)
    await pipeline.attach(hub, 2.0)
    tap = pipeline.tap
    assert tap is not None
    pixels = cv2.cvtColor(astronaut(), cv2.COLOR_RGB2YUV_I420)
    start = time.monotonic()

    async def analysed(times: list[float]) -> None:
        for at in times:  # one at a time, as a stream's frames come
            expected = len(observed) + 1
            tap.frames.put_nowait(TappedFrame("7", pixels, at, start + at))
            await until(lambda expected=expected: len(observed) >= expected, within=60)

    try:
        await analysed([0.0, 0.5, 1.0, 1.5, 2.0, 2.5])
        assert [read for _, read in observed] == [True, False, True, False, True, False]
        pipeline.deciding("7", True)
        await analysed([3.0, 3.5, 4.0])
        assert [read for _, read in observed[6:]] == [True, True, True]
        pipeline.deciding("7", False)
        await analysed([4.5, 5.0, 5.5])
        assert [read for _, read in observed[9:]] == [False, True, False]
    finally:
        await pipeline.detach(hub)
        await pipeline.close()


async def test_several_faces_on_the_cameras_picture_ask_for_its_next_one_as_soon_as_it_is_read() -> None:
    """Where the page's copy is analysed, the room scans are of the camera's keyframes: one that
    finds several faces asks for the camera's next keyframe, for when the tap decodes one
    again (a second after it), so the several-faces rule gets its next scan then."""
    observed: list[Observation] = []
    pipeline = FramePipeline(
        lambda: create_analyzer("onnx"), lambda _frame, seen: observed.append(seen), PipelineOptions()
    )
    hub = StreamHub("7", ForwardingStats(), lambda _event: None)
    requested: list[float] = []

    def request_keyframe(track: str = "video") -> None:
        if track == "video":
            requested.append(time.monotonic())

    hub.request_keyframe = request_keyframe  # type: ignore[assignment, method-assign]
    await pipeline.attach(hub, 2.0)
    group = case("astronaut_and_grace").build()
    copy = encode_vp8(group, 3, 320, 240)
    [camera] = encode_vp8(group, 1, 640, 480)
    try:
        hub.deliver(EncodedFrame("analysis", copy[0], 0, True, time.monotonic()))
        assert pipeline.tap is not None and pipeline.tap.source("7") == "analysis"
        requested.clear()
        arrived = time.monotonic()
        hub.deliver(EncodedFrame("video", camera, 0, True, arrived))
        for n, data in enumerate(copy[1:], start=1):
            hub.deliver(EncodedFrame("analysis", data, n * 6000, False, time.monotonic()))
        await until(lambda: bool(requested), within=60)  # a keyframe asked for
    finally:
        await pipeline.detach(hub)
        await pipeline.close()

    scans = [seen for seen in observed if seen.room_scanned and seen.width == 640]
    assert scans and len(scans[0].faces) == 2
    assert requested[0] >= arrived + 1.0  # when the tap decodes the camera's next keyframe


async def test_each_observation_counts_how_long_after_its_frame_arrived_it_reached_the_rules() -> None:
    """/metrics' protolearn_analysis_lag_seconds: an overloaded node's alerts come late, and it
    shows there (here a frame that waited 5 s before the tap handed it over)."""
    observed: list[Observation] = []
    pipeline = FramePipeline(
        lambda: create_analyzer("onnx"),
        lambda _frame, observation: observed.append(observation),
        PipelineOptions(),
    )
    hub = StreamHub("9", ForwardingStats(), lambda _event: None)
    await pipeline.attach(hub, 2.0)
    tap = pipeline.tap
    assert tap is not None
    pixels = cv2.cvtColor(astronaut(), cv2.COLOR_RGB2YUV_I420)
    count, late = (
        REGISTRY.get_sample_value(f"protolearn_analysis_lag_seconds_{name}", labels) or 0.0
        for name, labels in (("count", {}), ("bucket", {"le": "4.0"}))
    )
    try:
        tap.frames.put_nowait(TappedFrame("9", pixels, 0.0, time.monotonic() - 5.0))
        await until(lambda: bool(observed), within=60)  # the frame analysed
    finally:
        await pipeline.detach(hub)
        await pipeline.close()
    assert REGISTRY.get_sample_value("protolearn_analysis_lag_seconds_count") == count + 1
    # Not in the buckets up to 4 s: it waited at least 5.
    assert REGISTRY.get_sample_value("protolearn_analysis_lag_seconds_bucket", {"le": "4.0"}) == late
