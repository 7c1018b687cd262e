"""Headless Chromium with a fake camera publishes through web/live.js (the app's ES module); a
teacher's aiortc viewer sees the student's face through the server."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

from protolearn.media.recorder import SegmentRecorder
from protolearn.media.relay import PUBLISHER_AUDIO_PTIME_MS, ForwardingUnit
from protolearn.vision.runtimes import create_analyzer
from tests.support.api import Api, published_test, started_attempt
from tests.support.browser import chromium, skip_without_chromium, write_y4m
from tests.support.live import live, until, watch_over
from tests.support.peers import publish

skip_without_chromium()


START_PUBLISHING = """async ([token, attemptId]) => {
    const { publish } = await import("/web/live.js");
    const seen = [];
    const onMessage = (message) => seen.push(message.type);
    window.session = await publish({token, attemptId, onMessage});
    return seen;
}"""
# What the browser says it sent of each video, and the microphone's packets per second of the
# audio it captured meanwhile, over a second or so (its own getStats), then stop publishing.
SENT_MEDIA_AND_STOP = """async () => {
    const audio = (stats) => {
        let packets = 0, seconds = 0;
        stats.forEach((s) => {
            if (s.type === "outbound-rtp" && s.kind === "audio") packets = s.packetsSent;
            if (s.type === "media-source" && s.kind === "audio") seconds = s.totalSamplesDuration;
        });
        return [packets, seconds];
    };
    const [packetsBefore, secondsBefore] = audio(await window.session.connection.getStats());
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const stats = await window.session.connection.getStats();
    const [packets, seconds] = audio(stats);
    const codecs = {};
    const sent = [];
    stats.forEach((s) => { if (s.type === "codec") codecs[s.id] = s.mimeType; });
    stats.forEach((s) => {
        if (s.type === "outbound-rtp" && s.kind === "video") {
            sent.push({
                mid: s.mid, frames: s.framesEncoded, width: s.frameWidth, codec: codecs[s.codecId],
                target: s.targetBitrate,
            });
        }
    });
    for (const transceiver of window.session.connection.getTransceivers()) {
        const video = sent.find((s) => s.mid === transceiver.mid);
        if (video) {
            const parameters = transceiver.sender.getParameters();
            video.ceiling = parameters.encodings[0].maxBitrate;
            video.degradation = parameters.degradationPreference;
        }
    }
    window.session.stop();
    const perSecond = (packets - packetsBefore) / (seconds - secondsBefore);
    return [sent.sort((a, b) => Number(a.mid) - Number(b.mid)), perSecond];
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


async def until_copy_decoded(base_url: str) -> dict[str, float]:
    """The server's video frames decoded for analysis, by track, once it decodes the copy."""
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        for _ in range(600):  # a bound of minutes, for a copy that never comes
            text = (await http.get("/metrics")).text
            [family] = [
                f for f in text_string_to_metric_families(text) if f.name == "protolearn_frames_decoded"
            ]
            decoded = {s.labels["track"]: s.value for s in family.samples if s.name.endswith("_total")}
            if decoded["copy"] >= 10:
                return decoded
            await asyncio.sleep(0.2)
    raise AssertionError(f"the copy was not decoded: {decoded}")


async def test_chromium_publishes_and_a_teacher_sees_the_face(
    api: Api, base_url: str, tmp_path: Path
) -> None:
    teacher = await api.user("teacher")
    test = await published_test(teacher)
    student = await api.user("student")
    attempt_id = (await started_attempt(student, test["id"]))["attempt_id"]
    camera = write_y4m(tmp_path / "face.y4m")

    async with chromium(camera=camera) as browser:
        page = await browser.new_page()
        await page.goto(base_url + "/")
        statuses: list[Any] = await page.evaluate(START_PUBLISHING, [student.access_token, attempt_id])
        assert statuses[:2] == ["webrtc-answer", "monitoring-started"]

        async with live(base_url, teacher) as socket:
            viewer, frames = await watch_over(socket, {"type": "watch", "attempt_id": attempt_id})
            await until(lambda: len(frames) >= 15, within=20)
            picture = frames[-1][1].to_ndarray(format="rgb24")
            await viewer.close()

        decoded = await until_copy_decoded(base_url)
        (camera, copy), audio_packets_per_s = await page.evaluate(SENT_MEDIA_AND_STOP)

    assert camera["codec"] == copy["codec"] == "video/VP8"
    assert camera["frames"] >= 15
    # The smaller copy beside the camera, which is what the server decoded for analysis (the
    # camera only until the copy's first keyframe came).
    assert (camera["width"], copy["width"]) == (640, 320)
    assert 0 < copy["frames"] < camera["frames"]
    # Both within what the page asks of them (web/live.js): the camera 600 kbit/s, the copy 100.
    assert (camera["ceiling"], copy["ceiling"]) == (600_000, 100_000)
    assert camera["target"] <= 600_000 and copy["target"] <= 100_000
    assert camera["degradation"] == "maintain-resolution"  # short of bandwidth: fewer frames, all pixels
    assert decoded["copy"] > 0
    assert picture.shape == (480, 640, 3)
    assert len(create_analyzer("onnx").analyze([picture])[0].faces) == 1  # the face, through the relay
    # The microphone in 60 ms packets, as the answer asks (the browser's default is 20 ms).
    asked = 1000 / PUBLISHER_AUDIO_PTIME_MS
    assert asked * 0.8 <= audio_packets_per_s <= asked * 1.2


async def test_chromium_plays_an_evidence_clip(base_url: str, tmp_path: Path) -> None:
    from playwright.async_api import Route

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

    async with chromium() as browser:
        page = await browser.new_page()
        await page.route("**/evidence.webm", serve_clip)
        await page.goto(base_url + "/")
        played = await page.evaluate(PLAY_CLIP, f"{base_url}/evidence.webm")

    assert played["error"] is None
    assert (played["width"], played["height"]) == (640, 480)
    assert abs(played["duration"] - clip.duration_seconds) <= 0.3
    assert played["frames"] >= clip.duration_seconds * 15 * 0.8
