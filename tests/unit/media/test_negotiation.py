"""ForwardingUnit against malformed SDP: every offer or answer aiortc cannot use is refused as
NegotiationFailed, the connection made for it is closed, and what was live stays live."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiortc import RTCConfiguration, RTCPeerConnection, RTCSessionDescription

from protolearn.media import relay
from protolearn.media.errors import NegotiationFailed
from protolearn.media.relay import ForwardingUnit
from tests.support.peers import FaceCamera, Tone
from tests.support.sdp import malformed, mutations


class CountedConnection(RTCPeerConnection):
    """aiortc's connection, remembered so a test can see which ones were left open."""

    made: list[RTCPeerConnection] = []

    def __init__(self, configuration: RTCConfiguration | None = None) -> None:
        super().__init__(configuration)
        CountedConnection.made.append(self)


@pytest.fixture
async def unit(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[ForwardingUnit]:
    CountedConnection.made = []
    monkeypatch.setattr(relay, "RTCPeerConnection", CountedConnection)
    forwarding = ForwardingUnit()
    yield forwarding
    await forwarding.close()


async def student_offer() -> tuple[RTCPeerConnection, str]:
    student = RTCPeerConnection()
    student.addTrack(FaceCamera())
    student.addTrack(Tone())
    await student.setLocalDescription(await student.createOffer())
    return student, student.localDescription.sdp


def left_open(*kept: RTCPeerConnection | None) -> list[RTCPeerConnection]:
    return [c for c in CountedConnection.made if c not in kept and c.connectionState != "closed"]


async def test_every_malformed_offer_is_refused_and_leaves_nothing_open(unit: ForwardingUnit) -> None:
    student, offer = await student_offer()
    answer = await unit.publish("live", offer, require_video=True)
    await student.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    honest = unit.hub("live").connection

    shapes = malformed(offer)
    assert len(shapes) == 21  # an offer allows every shape
    for name, broken in shapes.items():
        for stream in ("live", "new"):  # a replacement of a live stream, and a first offer
            with pytest.raises(NegotiationFailed):
                await unit.publish(stream, broken, require_video=True)
            assert unit.hub("live").connection is honest, name  # the honest connection stays
            assert left_open(honest) == [], name

    # Random breakages: aiortc may shrug some off; none may escape as anything else.
    refused = 0
    for broken in mutations(offer, count=120, seed=14):
        try:
            await unit.publish("new", broken, require_video=True)
        except NegotiationFailed:
            refused += 1
            assert left_open(honest, unit.hub("new").connection) == [], broken
    assert refused > 30  # the seed breaks about 40 % beyond use

    # The unit still answers a correct offer.
    second, offer = await student_offer()
    assert "a=fingerprint" in await unit.publish("second", offer, require_video=True)
    assert honest is not None and honest.connectionState != "closed"
    for peer in (student, second):
        await peer.close()


async def test_a_malformed_answer_is_refused_and_the_viewer_starts_over(unit: ForwardingUnit) -> None:
    before = unit.viewer_count
    for name, broken in {**malformed(await teacher_answer(unit)), "cut": "v=0\r\n"}.items():
        teacher = RTCPeerConnection()
        offer = await unit.watch("teacher", ["live"])
        await teacher.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
        await teacher.setLocalDescription(await teacher.createAnswer())
        with pytest.raises(NegotiationFailed):
            await unit.accept_answer("teacher", broken)
        # A description aiortc failed to apply may be half applied: the viewer is gone.
        assert unit.viewer_count == before, name
        assert left_open() == [], name
        await teacher.close()

    teacher = RTCPeerConnection()
    offer = await unit.watch("teacher", ["live"])
    await teacher.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    await teacher.setLocalDescription(await teacher.createAnswer())
    await unit.accept_answer("teacher", teacher.localDescription.sdp)
    assert unit.viewer_count == before + 1
    await teacher.close()


async def teacher_answer(unit: ForwardingUnit) -> str:
    """A real answer to the unit's offer, for shapes to be made from."""
    teacher = RTCPeerConnection()
    await teacher.setRemoteDescription(
        RTCSessionDescription(sdp=await unit.watch("template", ["live"]), type="offer")
    )
    await teacher.setLocalDescription(await teacher.createAnswer())
    await unit.stop_watching("template")
    await teacher.close()
    return str(teacher.localDescription.sdp)


async def test_an_offer_with_a_third_video_or_media_outside_its_bundle_is_refused(
    unit: ForwardingUnit,
) -> None:
    three = RTCPeerConnection()
    for _ in range(3):
        three.addTrack(FaceCamera())
    await three.setLocalDescription(await three.createOffer())
    student, offer = await student_offer()
    # The same offer with its BUNDLE group naming only the first media: the rest on transports
    # of their own.
    lines = offer.splitlines()
    group = next(line for line in lines if line.startswith("a=group:BUNDLE "))
    unbundled = offer.replace(group, " ".join(group.split()[:2]))
    try:
        with pytest.raises(NegotiationFailed, match="more video than a camera and its copy"):
            await unit.publish("1", three.localDescription.sdp, require_video=True)
        with pytest.raises(NegotiationFailed, match="must bundle all its media"):
            await unit.publish("2", unbundled, require_video=True)
        assert unit.hub("1").connection is None and unit.hub("2").connection is None
        assert left_open() == []
    finally:
        await three.close()
        await student.close()


async def test_the_answer_asks_for_60_ms_audio_packets_and_still_applies(unit: ForwardingUnit) -> None:
    student, offer = await student_offer()
    try:
        answer = await unit.publish("7", offer)
        audio = answer.split("m=audio ", 1)[1].split("\r\nm=", 1)[0].split("\r\n")
        video = answer.split("m=video ", 1)[1].split("\r\nm=", 1)[0]
        # The first attribute of the audio section, after its connection line; none for video.
        attributes = [line for line in audio if line.startswith("a=")]
        assert attributes[0] == "a=ptime:60" and attributes.count("a=ptime:60") == 1
        assert audio.index("a=ptime:60") > next(i for i, line in enumerate(audio) if line.startswith("c="))
        assert "a=ptime" not in video
        await student.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    finally:
        await student.close()


def test_an_audio_ptime_already_there_is_replaced() -> None:
    sdp = "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ptime:20\r\na=mid:0\r\n"
    assert relay.with_audio_ptime(sdp, 60) == (
        "v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=ptime:60\r\na=mid:0\r\n"
    )
