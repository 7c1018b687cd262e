"""The relay with real aiortc peers over loopback: a student publishing a real face, teachers
viewing, the frame tap, evidence clips, lost streams and crashed viewers."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import av
import pytest
from aiortc import (
    RTCBundlePolicy,
    RTCConfiguration,
    RTCPeerConnection,
    RTCRtpSender,
    RTCSessionDescription,
)

from protolearn.media.errors import NegotiationFailed, UnknownViewer
from protolearn.media.forwarding import EncodedFrame
from protolearn.media.recorder import SegmentRecorder
from protolearn.media.relay import ForwardingUnit
from protolearn.media.streams import StreamEvent
from protolearn.media.tap import FrameTap
from protolearn.media.vp8 import keyframe_size
from protolearn.vision.analyzer import FaceAnalyzer
from protolearn.vision.runtimes import create_analyzer
from tests.support.peers import FaceCamera, PreEncodedTone, Tone, publish, until, view

LOST_AFTER_S = 1.5


@pytest.fixture(scope="module")
def analyzer() -> FaceAnalyzer:
    return create_analyzer("onnx")


@pytest.fixture
async def unit() -> AsyncIterator[tuple[ForwardingUnit, list[StreamEvent]]]:
    events: list[StreamEvent] = []
    forwarding = ForwardingUnit(lost_after_s=LOST_AFTER_S, keyframe_every_s=60, on_event=events.append)
    yield forwarding, events
    await forwarding.close()


@pytest.mark.parametrize("audio_first", [False, True], ids=["camera first", "microphone first"])
async def test_a_viewer_gets_the_camera_and_never_its_copy_for_analysis(
    unit: tuple[ForwardingUnit, list[StreamEvent]], audio_first: bool
) -> None:
    """The copy is the offer's second video wherever the audio is (a browser puts it first)."""
    forwarding, _events = unit
    # max-bundle, as a browser bundles: aiortc's own default would strand the copy it sends
    # after an audio section on a closed transport (aiortc issue 1414).
    student = RTCPeerConnection(RTCConfiguration(bundlePolicy=RTCBundlePolicy.MAX_BUNDLE))
    camera = FaceCamera()
    tracks = [camera, camera.analysis_copy()]
    for track in [Tone(), *tracks] if audio_first else [*tracks, Tone()]:
        student.addTrack(track)
    await student.setLocalDescription(await student.createOffer())
    answer = await forwarding.publish("attempt-1", student.localDescription.sdp)
    await student.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    hub = forwarding.hub("attempt-1")
    copies: list[EncodedFrame] = []
    hub.add_listener(copies.append, analysis=True)
    teacher = await view(forwarding, "teacher-1", ["attempt-1"])
    await until(lambda: len(teacher.video) >= 30 and len(copies) >= 10)
    await teacher.close()
    await student.close()

    assert {frame.to_ndarray().shape for _, frame in teacher.video} == {(720, 640)}  # I420 of 640x480
    assert {keyframe_size(frame.data) for frame in copies if frame.keyframe} == {(320, 240)}
    assert hub.frames["video"] > hub.frames["analysis"] > 0
    assert hub.listener_errors == {}


async def test_a_late_viewer_sees_the_published_face_within_a_second(
    unit: tuple[ForwardingUnit, list[StreamEvent]], analyzer: FaceAnalyzer
) -> None:
    forwarding, events = unit
    student = await publish(forwarding, "attempt-1")
    hub = forwarding.hub("attempt-1")
    await until(lambda: hub.frames["video"] >= 20)  # the stream's first keyframe is long gone

    teacher = await view(forwarding, "teacher-1", ["attempt-1"])
    await until(lambda: len(teacher.video) >= 10 and teacher.audio >= 10)

    first_frame_after = teacher.video[0][0] - teacher.answered_at
    assert first_frame_after <= 1.0
    picture = teacher.video[-1][1].to_ndarray(format="rgb24")
    assert picture.shape == (480, 640, 3)
    assert len(analyzer.analyze([picture])[0].faces) == 1  # the face came through intact
    assert forwarding.stats.forwarded > 0
    assert forwarding.stats.reencoded == 0
    assert hub.audio_level is not None and hub.audio_level < 127  # the tone is not silence
    assert hub.audio_level_from_header
    assert [event.state for event in events] == ["live"]
    await teacher.close()
    await student.close()


async def test_a_viewer_pli_gets_a_keyframe_from_the_publisher(
    unit: tuple[ForwardingUnit, list[StreamEvent]],
) -> None:
    forwarding, _ = unit
    student = await publish(forwarding, "attempt-1")
    teacher = await view(forwarding, "teacher-1", ["attempt-1"])
    await until(lambda: len(teacher.video) >= 5)
    hub = forwarding.hub("attempt-1")
    await asyncio.sleep(0.6)  # past the keyframe request interval of the join
    keyframes, requested = hub.keyframes, hub.keyframes_requested

    receiver = next(t.receiver for t in teacher.connection.getTransceivers() if t.kind == "video")
    [source] = receiver.getSynchronizationSources()
    await receiver._send_rtcp_pli(source.source)  # what a browser sends when it lost pictures

    await until(lambda: hub.keyframes > keyframes, within=2.0)
    assert hub.keyframes_requested == requested + 1
    await teacher.close()
    await student.close()


async def test_one_teacher_watches_a_class(unit: tuple[ForwardingUnit, list[StreamEvent]]) -> None:
    forwarding, _ = unit
    students = [await publish(forwarding, f"attempt-{n}") for n in range(3)]
    teacher = await view(forwarding, "teacher-1", [f"attempt-{n}" for n in range(3)])
    await until(lambda: len(teacher.tracks) == 6)
    # Every student's video reaches the one connection, each on its own track.
    await until(lambda: len(teacher.video_by_track) == 3 and min(teacher.video_by_track.values()) >= 10)
    for n in range(3):
        assert forwarding.hub(f"attempt-{n}").viewer_count == 1
    await teacher.close()
    for student in students:
        await student.close()


async def test_a_killed_publisher_is_reported_lost(unit: tuple[ForwardingUnit, list[StreamEvent]]) -> None:
    forwarding, events = unit
    student = await publish(forwarding, "attempt-1")
    await until(lambda: forwarding.hub("attempt-1").state == "live")
    killed_at = time.monotonic()
    await student.close()

    await until(lambda: forwarding.hub("attempt-1").state == "lost", within=LOST_AFTER_S + 2)
    assert time.monotonic() - killed_at <= LOST_AFTER_S + 2
    assert [event.state for event in events] == ["live", "lost"]


async def test_a_reconnect_replaces_the_session_and_viewers_keep_watching(
    unit: tuple[ForwardingUnit, list[StreamEvent]],
) -> None:
    forwarding, _ = unit
    first = await publish(forwarding, "attempt-1")
    teacher = await view(forwarding, "teacher-1", ["attempt-1"])
    await until(lambda: len(teacher.video) >= 5)

    second = await publish(forwarding, "attempt-1")  # the tab was reloaded
    await until(lambda: first.connectionState == "closed", within=5)
    seen = len(teacher.video)
    await until(lambda: len(teacher.video) >= seen + 10, within=5)  # no renegotiation needed
    assert forwarding.hub("attempt-1").state == "live"
    await teacher.close()
    await first.close()
    await second.close()


async def test_a_crashed_viewer_frees_its_resources(unit: tuple[ForwardingUnit, list[StreamEvent]]) -> None:
    forwarding, _ = unit
    student = await publish(forwarding, "attempt-1")
    teacher = await view(forwarding, "teacher-1", ["attempt-1"])
    other = await view(forwarding, "teacher-2", ["attempt-1"])
    await until(lambda: len(teacher.video) >= 5 and len(other.video) >= 5)
    hub = forwarding.hub("attempt-1")
    assert hub.viewer_count == 2

    await teacher.close()

    await until(lambda: hub.viewer_count == 1 and forwarding.viewer_count == 1, within=10)
    seen = len(other.video)
    await until(lambda: len(other.video) >= seen + 10)  # the others and the publisher go on
    assert hub.state == "live"
    await other.close()
    await student.close()


async def test_frame_tap_hands_out_frames_at_the_analysis_rate(
    unit: tuple[ForwardingUnit, list[StreamEvent]], analyzer: FaceAnalyzer
) -> None:
    forwarding, _ = unit
    with ThreadPoolExecutor(2) as pool:
        tap = FrameTap(pool, rate_fps=2.0)
        tap.attach(forwarding.hub("attempt-1"))
        student = await publish(forwarding, "attempt-1")
        await until(lambda: tap.stats.tapped >= 1)
        started, start_count = time.monotonic(), tap.stats.tapped
        await asyncio.sleep(3.0)
        rate = (tap.stats.tapped - start_count) / (time.monotonic() - started)
        await tap.close()
        await student.close()

    assert 1.5 <= rate <= 2.5
    assert tap.stats.decoded > tap.stats.tapped  # every frame decoded, few converted
    tapped = tap.frames.get_nowait()
    assert tapped.stream_id == "attempt-1"
    assert tapped.pixels.shape == (720, 640)  # I420 of 640x480
    assert len(analyzer.analyze([tapped.pixels])[0].faces) == 1


async def test_a_clip_is_playable_and_covers_the_time_asked_for(tmp_path: Path) -> None:
    forwarding = ForwardingUnit(keyframe_every_s=1.0)
    recorder = SegmentRecorder(seconds=10)
    forwarding.hub("attempt-1").add_listener(recorder.on_frame)
    student = await publish(forwarding, "attempt-1")
    await asyncio.sleep(3.0)
    now = time.monotonic()

    clip = await recorder.clip(now - 2.0, now + 1.0, tmp_path / "clip.webm")  # 1 s of post-roll

    await student.close()
    await forwarding.close()
    # From the keyframe at or before the start (one a second) to the end.
    assert 3.0 - 0.2 <= clip.duration_seconds <= 4.0 + 0.2
    assert clip.path.stat().st_size == clip.size_bytes > 0
    with av.open(str(clip.path)) as container:
        assert container.format.name.startswith("matroska")
        assert container.streams.video[0].codec_context.name == "vp8"
        assert container.streams.audio[0].codec_context.name == "opus"
        frames = sum(1 for _ in container.decode(container.streams.video[0]))
    assert abs(frames - clip.duration_seconds * 15) <= 3
    assert recorder.buffered_seconds <= 10 + 1.5


async def test_offers_it_cannot_forward_are_refused(unit: tuple[ForwardingUnit, list[StreamEvent]]) -> None:
    forwarding, _ = unit
    client = RTCPeerConnection()
    transceiver = client.addTransceiver(FaceCamera(), direction="sendonly")
    h264 = [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/H264"]
    transceiver.setCodecPreferences(h264)
    await client.setLocalDescription(await client.createOffer())

    with pytest.raises(NegotiationFailed, match="VP8"):
        await forwarding.publish("attempt-1", client.localDescription.sdp)
    with pytest.raises(NegotiationFailed):
        await forwarding.publish("attempt-1", "v=0 this is not SDP")
    with pytest.raises(UnknownViewer):
        await forwarding.accept_answer("nobody", "v=0")
    await client.close()


async def test_without_header_levels_the_audio_is_decoded_and_measured(
    unit: tuple[ForwardingUnit, list[StreamEvent]],
) -> None:
    forwarding, _ = unit
    loud = await publish(forwarding, "attempt-1", PreEncodedTone(amplitude=0.3))
    quiet = await publish(forwarding, "attempt-2", PreEncodedTone(amplitude=0.0))
    speaking, silent = forwarding.hub("attempt-1"), forwarding.hub("attempt-2")
    await until(lambda: speaking.frames["audio"] >= 25 and silent.frames["audio"] >= 25)

    assert not speaking.audio_level_from_header
    assert speaking.audio_level is not None and 10 <= speaking.audio_level <= 20  # 0.3 sine: -13.5 dBov
    assert silent.audio_level == 127
    await loud.close()
    await quiet.close()
