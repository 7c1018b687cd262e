"""Headless Chromium with a fake camera publishes through web/live.js; a teacher's aiortc
viewer sees the student's face through the server."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from protolearn.media.recorder import SegmentRecorder
from protolearn.media.relay import ForwardingUnit
from protolearn.vision.runtimes import create_analyzer
from tests.support.api import Api, published_test, started_attempt
from tests.support.images import astronaut
from tests.support.live import live, until, watch_over
from tests.support.peers import publish

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
REQUIRED = os.environ.get("PROTOLEARN_TEST_REQUIRE_CHROMIUM") == "1"

if CHROMIUM is None and not REQUIRED:
    pytest.skip("Chromium is not installed (CI installs it and requires this test)", allow_module_level=True)


START_PUBLISHING = """async ([token, attemptId]) => {
    const seen = [];
    const onStatus = (message) => seen.push(message.type);
    window.session = await ProtoLearnLive.publish({token, attemptId, onStatus});
    return seen;
}"""
# What the browser says it sent (its own getStats), then stop publishing.
SENT_VIDEO_AND_STOP = """async () => {
    const stats = await window.session.connection.getStats();
    const codecs = {};
    let frames = 0, codec = "";
    stats.forEach((s) => { if (s.type === "codec") codecs[s.id] = s.mimeType; });
    stats.forEach((s) => {
        if (s.type === "outbound-rtp" && s.kind === "video") {
            frames = s.framesEncoded;
            codec = codecs[s.codecId];
        }
    });
    window.session.stop();
    return {frames, codec};
}"""


# Plays a clip in a <video> element; reports what the browser decoded.
PLAY_CLIP = """async (url) => {
    const video = document.createElement("video");
    video.muted = true;
    video.src = url;
    document.body.appendChild(video);
    await video.play();
    await new Promise((resolve) => video.addEventListener("ended", resolve, { once: true }));
    const quality = video.getVideoPlaybackQuality();
    return {
        width: video.videoWidth,
        height: video.videoHeight,
        duration: video.duration,
        frames: quality.totalVideoFrames,
        error: video.error && video.error.message,
    };
}"""


def chromium_args(*extra: str) -> list[str]:
    return [
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--autoplay-policy=no-user-gesture-required",
        *extra,
    ]


def write_y4m(path: Path, seconds: float = 2.0, fps: int = 15) -> Path:
    """A 640x480 clip of a swaying face in the YUV4MPEG2 format Chromium's fake camera reads."""
    picture = astronaut()
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W640 H480 F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for n in range(int(seconds * fps)):
            frame = np.roll(picture, int(12 * np.sin(n / 4)), axis=1)
            out.write(b"FRAME\n" + cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420).tobytes())
    return path


async def test_chromium_publishes_and_a_teacher_sees_the_face(
    api: Api, base_url: str, tmp_path: Path
) -> None:
    from playwright.async_api import async_playwright

    assert CHROMIUM is not None, "Chromium is required here (PROTOLEARN_TEST_REQUIRE_CHROMIUM=1)"
    teacher = await api.user("teacher")
    test = await published_test(teacher)
    student = await api.user("student")
    attempt_id = (await started_attempt(student, test["id"]))["attempt_id"]
    camera = write_y4m(tmp_path / "face.y4m")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=chromium_args(
                "--use-fake-ui-for-media-stream",
                "--use-fake-device-for-media-stream",
                f"--use-file-for-fake-video-capture={camera}",
            ),
        )
        try:
            page = await browser.new_page()
            await page.goto(f"{base_url}/app/live.html")
            statuses: list[Any] = await page.evaluate(
                START_PUBLISHING,
                [student.access_token, attempt_id],
            )
            assert statuses[:2] == ["webrtc-answer", "monitoring-started"]

            async with live(base_url, teacher) as socket:
                viewer, frames = await watch_over(socket, {"type": "watch", "attempt_id": attempt_id})
                await until(lambda: len(frames) >= 15, within=20)
                picture = frames[-1][1].to_ndarray(format="rgb24")
                await viewer.close()

            sent = await page.evaluate(SENT_VIDEO_AND_STOP)
        finally:
            await browser.close()

    assert sent["codec"] == "video/VP8"
    assert sent["frames"] >= 15
    assert picture.shape == (480, 640, 3)
    assert len(create_analyzer("onnx").analyze([picture])[0].faces) == 1  # the face, through the relay


async def test_chromium_plays_an_evidence_clip(base_url: str, tmp_path: Path) -> None:
    from playwright.async_api import Route, async_playwright

    assert CHROMIUM is not None, "Chromium is required here (PROTOLEARN_TEST_REQUIRE_CHROMIUM=1)"
    forwarding = ForwardingUnit(keyframe_every_s=1.0)
    recorder = SegmentRecorder(seconds=10)
    forwarding.hub("attempt-1").add_listener(recorder.on_frame)
    student = await publish(forwarding, "attempt-1")
    await until(lambda: recorder.buffered_seconds >= 3.0)
    now = time.monotonic()
    clip = await recorder.clip(now - 2.0, now + 0.5, tmp_path / "evidence.webm")
    await student.close()
    await forwarding.close()

    async def serve_clip(route: Route) -> None:
        await route.fulfill(body=clip.path.read_bytes(), content_type="video/webm")

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=chromium_args())
        try:
            page = await browser.new_page()
            await page.route("**/evidence.webm", serve_clip)
            await page.goto(f"{base_url}/app/live.html")
            played = await page.evaluate(PLAY_CLIP, f"{base_url}/app/evidence.webm")
        finally:
            await browser.close()

    assert played["error"] is None
    assert (played["width"], played["height"]) == (640, 480)
    assert abs(played["duration"] - clip.duration_seconds) <= 0.3
    assert played["frames"] >= clip.duration_seconds * 15 * 0.8
