"""A hostile student's stream cannot blind proctoring, for them or for anyone else.

Real aiortc peers on loopback: an honest student streams a face that leaves its seat, while a
hostile one sends VP8 of an odd size, a tiny key frame mid-stream, a 4096x2160 key frame and
then garbage. The honest student still gets no_face; the hostile stream is counted, skipped and
flagged as video_unusable; no background task dies. Offers the relay cannot proctor (H.264
only, audio only) are refused.
"""

from __future__ import annotations

import asyncio
import fractions
import random
import time

import av
import pytest
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCRtpSender
from sqlalchemy import select

from protolearn.config import Settings
from protolearn.media.errors import NegotiationFailed
from protolearn.media.relay import ForwardingUnit
from protolearn.proctoring.supervisor import ProctoringSupervisor
from protolearn.store.database import create_engine, create_sessionmaker
from protolearn.store.violations import Violation
from tests.support.api import Api, published_test, started_attempt
from tests.support.images import astronaut
from tests.support.peers import FPS, FaceCamera, Tone, publish
from tests.support.vp8 import encode_vp8, forged_keyframe


def hostile_schedule() -> list[bytes]:
    """What the hostile publisher sends, one payload per 1/15 s."""
    rng = random.Random(11)
    face = astronaut()
    odd = encode_vp8(face, 45, 641, 481)  # 3 s of an odd size: must still be analysed
    tiny = encode_vp8(face, 1, 8, 8)  # a key frame at a new, tiny size, mid-stream
    again = encode_vp8(face, 14, 641, 481)  # back to the odd size: handled
    huge = encode_vp8(face, 1, 4096, 2160)  # a key frame too large to decode
    garbage: list[bytes] = []
    for index in range(18 * FPS):  # then 18 s of garbage
        if index % 15 == 0:
            garbage.append(forged_keyframe(16000, 16000, 400, rng))
        elif index % 10 == 0:
            garbage.append(forged_keyframe(320, 240, rng.randint(50, 3000), rng))  # an undecodable body
        elif index % 45 == 7:
            garbage.append(huge[0])
        else:
            garbage.append(rng.randbytes(rng.randint(20, 3000)))
    return odd + tiny + again + huge + garbage


class HostileCamera(MediaStreamTrack):
    """Sends payloads as VP8 frames as they are (aiortc only packetizes an av.Packet)."""

    kind = "video"

    def __init__(self, payloads: list[bytes]) -> None:
        super().__init__()
        self._payloads = payloads
        self._count = 0
        self._start: float | None = None

    async def recv(self) -> av.Packet:  # type: ignore[override]
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self._count / FPS - time.monotonic()))
        payload = self._payloads[min(self._count, len(self._payloads) - 1)]
        packet = av.Packet(payload)
        packet.pts, packet.time_base = self._count * 6000, fractions.Fraction(1, 90000)
        self._count += 1
        return packet


async def server_violations(settings: Settings, attempt_id: int) -> list[Violation]:
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            rows = await session.scalars(
                select(Violation).where(Violation.attempt_id == attempt_id).order_by(Violation.id)
            )
            return list(rows)
    finally:
        await engine.dispose()


async def test_a_hostile_stream_is_flagged_and_an_honest_student_is_still_proctored(
    api: Api, settings: Settings, proctoring: tuple[ForwardingUnit, ProctoringSupervisor]
) -> None:
    unit, supervisor = proctoring
    teacher = await api.user("teacher")
    test = await published_test(teacher)
    honest_id = int((await started_attempt(await api.user("student"), test["id"]))["attempt_id"])
    hostile_id = int((await started_attempt(await api.user("student"), test["id"]))["attempt_id"])
    payloads = await asyncio.get_running_loop().run_in_executor(None, hostile_schedule)

    await supervisor.start(honest_id, analysis_fps=4.0)
    await supervisor.start(hostile_id, analysis_fps=4.0)
    honest = await publish(
        unit,
        str(honest_id),
        microphone=Tone(amplitude=0.0),
        camera=FaceCamera(away=lambda seconds: 4.0 <= seconds < 10.0),
    )
    hostile = await publish(
        unit, str(hostile_id), microphone=Tone(amplitude=0.0), camera=HostileCamera(payloads)
    )

    deadline = time.monotonic() + 90
    while True:
        honest_types = {v.type for v in await server_violations(settings, honest_id)}
        hostile_types = {v.type for v in await server_violations(settings, hostile_id)}
        if "no_face" in honest_types and "video_unusable" in hostile_types:
            break
        assert time.monotonic() < deadline, (honest_types, hostile_types)
        await asyncio.sleep(0.5)
    hostile_report = supervisor.report(hostile_id)
    await honest.close()
    await hostile.close()

    assert "video_unusable" not in honest_types
    assert hostile_report is not None and hostile_report.frames_analysed > 0  # the odd size was analysed
    tap = supervisor.pipeline.tap
    assert tap is not None
    hostile_problems = {kind for (stream, kind) in tap.stats.problems if stream == str(hostile_id)}
    assert {"too_small", "too_large", "undecodable"} <= hostile_problems
    assert not [key for key in tap.stats.problems if key[0] == str(honest_id)]
    # Nothing died on the way: no background task failed or had to be restarted.
    assert not tap.stats.task_failures
    assert not supervisor.pipeline.stats.task_failures
    assert not supervisor.task_failures
    [unusable] = [v for v in await server_violations(settings, hostile_id) if v.type == "video_unusable"]
    assert (unusable.source, unusable.severity) == ("server", "high")
    assert "no usable picture" in unusable.description


async def test_offers_without_a_proctorable_camera_are_refused() -> None:
    unit = ForwardingUnit()
    h264_only, audio_only = RTCPeerConnection(), RTCPeerConnection()
    transceiver = h264_only.addTransceiver(FaceCamera(), direction="sendonly")
    transceiver.setCodecPreferences(
        [c for c in RTCRtpSender.getCapabilities("video").codecs if c.mimeType == "video/H264"]
    )
    audio_only.addTrack(Tone())
    try:
        for client in (h264_only, audio_only):
            await client.setLocalDescription(await client.createOffer())
        with pytest.raises(NegotiationFailed, match="VP8"):
            await unit.publish("1", h264_only.localDescription.sdp, require_video=True)
        with pytest.raises(NegotiationFailed, match="no video"):
            await unit.publish("2", audio_only.localDescription.sdp, require_video=True)
        assert unit.hub("2").connection is None  # nothing was set up for the refused offer
    finally:
        await h264_only.close()
        await audio_only.close()
        await unit.close()
