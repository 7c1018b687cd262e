"""Talking on the live channel /ws/proctor as a student's or teacher's browser would, with
aiortc peers standing in for the browsers' WebRTC."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from websockets.asyncio.client import ClientConnection, connect

from tests.e2e.peers import FaceCamera, Tone, until
from tests.integration.api import Actor


@asynccontextmanager
async def live(base_url: str, actor: Actor | None) -> AsyncIterator[ClientConnection]:
    url = base_url.replace("http", "ws", 1) + "/ws/proctor"
    if actor is not None:
        url += f"?token={actor.access_token}"
    async with connect(url, open_timeout=10) as socket:
        yield socket


async def exchange(
    socket: ClientConnection, message: dict[str, Any], replies: int = 1
) -> list[dict[str, Any]]:
    await socket.send(json.dumps(message))
    return [json.loads(await asyncio.wait_for(socket.recv(), timeout=20)) for _ in range(replies)]


async def publish_over(
    socket: ClientConnection,
    attempt_id: int,
    camera: FaceCamera | None = None,
    microphone: Tone | None = None,
) -> RTCPeerConnection:
    student = RTCPeerConnection()
    student.addTrack(camera or FaceCamera())
    student.addTrack(microphone or Tone())
    await student.setLocalDescription(await student.createOffer())
    answer, started = await exchange(
        socket, {"type": "webrtc-offer", "attempt_id": attempt_id, "sdp": student.localDescription.sdp}, 2
    )
    assert answer["type"] == "webrtc-answer", answer
    assert answer["attempt_id"] == attempt_id
    assert started == {"type": "monitoring-started", "attempt_id": attempt_id}
    await student.setRemoteDescription(RTCSessionDescription(sdp=answer["sdp"], type="answer"))
    return student


async def watch_over(
    socket: ClientConnection, message: dict[str, Any]
) -> tuple[RTCPeerConnection, list[Any]]:
    teacher = RTCPeerConnection()
    frames: list[Any] = []
    readers: list[asyncio.Future[None]] = []

    @teacher.on("track")
    def on_track(track: Any) -> None:
        async def read() -> None:
            while True:
                try:
                    frame = await track.recv()
                except MediaStreamError:
                    return
                if track.kind == "video":
                    frames.append((track.id, frame))

        readers.append(asyncio.ensure_future(read()))

    [offer] = await exchange(socket, message)
    assert offer["type"] == "webrtc-offer", offer
    await teacher.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
    await teacher.setLocalDescription(await teacher.createAnswer())
    [connected] = await exchange(socket, {"type": "webrtc-answer", "sdp": teacher.localDescription.sdp})
    assert connected == {"type": "peer-connected", "attempt_ids": offer["attempt_ids"]}
    return teacher, frames


__all__ = ("exchange", "live", "publish_over", "until", "watch_over")
