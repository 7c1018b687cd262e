"""Real aiortc peers for the relay tests: a student publishing a moving picture of a real face
(scikit-image's astronaut) with a tone on the microphone, and a teacher viewing."""

from __future__ import annotations

import asyncio
import fractions
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import av
import cv2
import numpy as np
from aiortc import MediaStreamTrack, RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import VIDEO_CLOCK_RATE, VIDEO_TIME_BASE, MediaStreamError
from skimage import data

from protolearn.media.relay import ForwardingUnit
from tests.support.images import astronaut, two_people

FPS = 15
# The copy of the camera a page sends for analysis (web/live.js): a quarter of the pixels, half
# the rate.
ANALYSIS_SIZE = (320, 240)
ANALYSIS_FPS = FPS / 2


def _scenes() -> dict[str, np.ndarray]:
    face = astronaut()
    return {
        "face": face,
        "empty": cv2.resize(data.coffee(), (640, 480), interpolation=cv2.INTER_AREA),  # nobody there
        "two": two_people(),  # someone joined the student
        "dark": (face.astype(np.float32) * 0.015).astype(np.uint8),  # the light went out: too dark to see
    }


class SceneSwitch:
    """A FaceCamera's scene set by the test as it goes (``switch.scene = "empty"``), so that what
    the camera shows changes after the server is seen analysing it, not at a time fixed in
    advance that a slow start of the models on a loaded machine could miss."""

    def __init__(self, scene: str = "face") -> None:
        self.scene = scene

    def __call__(self, _seconds: float) -> str:
        return self.scene


class FaceCamera(MediaStreamTrack):
    """640x480 frames at 15 fps (a webcam's rate) of a face that sways a little. scene(seconds
    since the first frame) may switch to "empty" (the room without the student), "two" (a
    second person) or "dark"; `away` is the empty room during the seconds it says. size and fps
    make another camera; analysis_copy() the smaller copy of this one a page sends for analysis,
    showing the same scene as it sways."""

    kind = "video"

    def __init__(
        self,
        away: Callable[[float], bool] | None = None,
        scene: Callable[[float], str] | None = None,
        size: tuple[int, int] = (640, 480),
        fps: float = FPS,
    ) -> None:
        super().__init__()
        self._pictures = _scenes()
        if size != (640, 480):
            self._pictures = {
                name: cv2.resize(picture, size, interpolation=cv2.INTER_AREA)
                for name, picture in self._pictures.items()
            }
        if scene is None:
            absent = away or (lambda _seconds: False)
            scene = lambda seconds: "empty" if absent(seconds) else "face"  # noqa: E731
        self._scene = scene
        self._fps = fps
        self._sway = size[0] / 640 * 12  # pixels either way
        self._count = 0
        self._start: float | None = None

    def analysis_copy(self) -> FaceCamera:
        return FaceCamera(scene=self._scene, size=ANALYSIS_SIZE, fps=ANALYSIS_FPS)

    async def recv(self) -> av.VideoFrame:
        if self._start is None:
            self._start = time.monotonic()
        due = self._count / self._fps
        await asyncio.sleep(max(0.0, self._start + due - time.monotonic()))
        # The scene of the moment the frame is made, not of its place in the sequence: a sender
        # that fell behind on a busy machine and catches up in a burst shows the scene as long
        # as it lasted, not for fewer seconds.
        seconds = time.monotonic() - self._start
        shift = int(self._sway * math.sin(seconds * FPS / 4))
        picture = self._pictures[self._scene(seconds)]
        frame = av.VideoFrame.from_ndarray(np.roll(picture, shift, axis=1), format="rgb24")
        frame.pts = int(due * VIDEO_CLOCK_RATE)
        frame.time_base = VIDEO_TIME_BASE
        self._count += 1
        return frame


class Tone(MediaStreamTrack):
    """A 440 Hz tone in 20 ms Opus-sized frames, like a voice on the microphone (amplitude 0:
    a quiet room)."""

    kind = "audio"

    def __init__(self, amplitude: float = 0.3) -> None:
        super().__init__()
        self._amplitude = amplitude
        self._samples = 0
        self._start: float | None = None

    async def recv(self) -> av.AudioFrame:
        if self._start is None:
            self._start = time.monotonic()
        due = self._start + self._samples / 48000
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        t = (np.arange(960) + self._samples) / 48000
        wave = (self._amplitude * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
        frame = av.AudioFrame.from_ndarray(wave.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = 48000
        frame.pts = self._samples
        frame.time_base = fractions.Fraction(1, 48000)
        self._samples += 960
        return frame


class PreEncodedTone(MediaStreamTrack):
    """Opus packets encoded once and sent as they are: aiortc then writes no audio level into
    the RTP header, like a browser that does not negotiate RFC 6464."""

    kind = "audio"

    def __init__(self, amplitude: float) -> None:
        super().__init__()
        codec = av.CodecContext.create("libopus", "w")
        codec.sample_rate, codec.layout, codec.format = 48000, "mono", "s16"
        self._packets: list[bytes] = []
        for start in range(0, 48000, 960):
            t = (np.arange(960) + start) / 48000
            wave = (amplitude * 32767 * np.sin(2 * np.pi * 440 * t)).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(wave.reshape(1, -1), format="s16", layout="mono")
            frame.sample_rate, frame.pts = 48000, start
            self._packets += [bytes(packet) for packet in codec.encode(frame)]
        self._count = 0
        self._start: float | None = None

    async def recv(self) -> av.Packet:  # type: ignore[override]
        if self._start is None:
            self._start = time.monotonic()
        await asyncio.sleep(max(0.0, self._start + self._count / 50 - time.monotonic()))
        packet = av.Packet(self._packets[self._count % len(self._packets)])
        packet.pts, packet.time_base = self._count * 960, fractions.Fraction(1, 48000)
        self._count += 1
        return packet


async def publish(
    unit: ForwardingUnit,
    stream_id: str,
    microphone: MediaStreamTrack | None = None,
    camera: MediaStreamTrack | None = None,
    analysis_copy: bool | MediaStreamTrack = False,
) -> RTCPeerConnection:
    """A student's connection publishing camera and microphone through the unit; with
    analysis_copy, a copy of the camera for analysis too, as the page sends it (or the track
    given in its place)."""
    connection = RTCPeerConnection()
    camera = camera or FaceCamera()
    connection.addTrack(camera)
    if isinstance(analysis_copy, MediaStreamTrack):
        connection.addTrack(analysis_copy)
    elif analysis_copy:
        assert isinstance(camera, FaceCamera)
        connection.addTrack(camera.analysis_copy())
    connection.addTrack(microphone or Tone())
    await connection.setLocalDescription(await connection.createOffer())
    answer = await unit.publish(stream_id, connection.localDescription.sdp)
    await connection.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
    return connection


@dataclass
class Viewing:
    """A teacher's connection and what arrived on it."""

    connection: RTCPeerConnection
    answered_at: float = 0.0
    video: list[tuple[float, av.VideoFrame]] = field(default_factory=list)
    audio: int = 0
    video_by_track: dict[str, int] = field(default_factory=dict)
    tracks: list[MediaStreamTrack] = field(default_factory=list)
    readers: list[asyncio.Task[None]] = field(default_factory=list)

    async def close(self) -> None:
        for reader in self.readers:
            reader.cancel()
        await self.connection.close()


async def view(unit: ForwardingUnit, viewer_id: str, stream_ids: list[str]) -> Viewing:
    connection = RTCPeerConnection()
    viewing = Viewing(connection)

    @connection.on("track")
    def on_track(track: MediaStreamTrack) -> None:
        viewing.tracks.append(track)

        async def read() -> None:
            while True:
                try:
                    frame = await track.recv()
                except MediaStreamError:  # the track ended
                    return
                if track.kind == "video":
                    viewing.video.append((time.monotonic(), frame))
                    viewing.video_by_track[track.id] = viewing.video_by_track.get(track.id, 0) + 1
                else:
                    viewing.audio += 1

        viewing.readers.append(asyncio.ensure_future(read()))

    offer = await unit.watch(viewer_id, stream_ids)
    await connection.setRemoteDescription(RTCSessionDescription(sdp=offer, type="offer"))
    await connection.setLocalDescription(await connection.createAnswer())
    await unit.accept_answer(viewer_id, connection.localDescription.sdp)
    viewing.answered_at = time.monotonic()
    return viewing


async def until(condition: Callable[[], bool], within: float = 10.0) -> None:
    """Polls condition() until true; fails the test with a clear message after `within` s."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {within} s")
        await asyncio.sleep(0.05)
