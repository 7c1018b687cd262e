"""The shared frame pipeline reads a stream's eyes about once a second, and on every frame while
one of its rules decides."""

from __future__ import annotations

import asyncio
import time

import cv2

from protolearn.media.forwarding import ForwardingStats
from protolearn.media.streams import StreamHub
from protolearn.media.tap import TappedFrame
from protolearn.proctoring.pipeline import FramePipeline, PipelineOptions
from protolearn.vision.runtimes import create_analyzer
from protolearn.vision.schemas import Observation
from tests.support.images import astronaut


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
            deadline = time.monotonic() + 60
            while len(observed) < expected:
                assert time.monotonic() < deadline, "frame not analysed"
                await asyncio.sleep(0.01)

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
