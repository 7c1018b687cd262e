"""Talking on the live channel /ws/proctor as a student's or teacher's browser would, with
aiortc peers standing in for the browsers' WebRTC."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.mediastreams import MediaStreamError
from websockets.asyncio.client import ClientConnection, connect

from tests.support.api import Actor
from tests.support.peers import FaceCamera, Tone, until


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


async def receive_until(socket: ClientConnection, wanted: str, within: float = 30.0) -> list[dict[str, Any]]:
    """Messages read until (and with) the first of type `wanted`; fails after `within` s."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + within
    while not seen or seen[-1]["type"] != wanted:
        remaining = deadline - time.monotonic()
        assert remaining > 0, f"no {wanted!r} within {within} s; got {[m['type'] for m in seen]}"
        seen.append(json.loads(await asyncio.wait_for(socket.recv(), timeout=remaining)))
        assert seen[-1]["type"] != "error" or wanted == "error", seen[-1]
    return seen


async def until_face_seen(teacher_socket: ClientConnection) -> None:
    """Until a student-status says the server sees the student's face."""
    while True:
        status = (await receive_until(teacher_socket, "student-status", within=120))[-1]
        if (status.get("last_observation") or {}).get("faces") == 1:
            return


async def publish_over(
    socket: ClientConnection,
    attempt_id: int,
    camera: FaceCamera | None = None,
    microphone: Tone | None = None,
    analysis_copy: bool = False,
) -> RTCPeerConnection:
    """A student's aiortc connection, offered over the live channel; with analysis_copy, the
    camera's copy for analysis beside it, as the page sends it."""
    student = RTCPeerConnection()
    camera = camera or FaceCamera()
    student.addTrack(camera)
    if analysis_copy:
        student.addTrack(camera.analysis_copy())
    student.addTrack(microphone or Tone())
    await student.setLocalDescription(await student.createOffer())
    offer = {"type": "webrtc-offer", "attempt_id": attempt_id, "sdp": student.localDescription.sdp}
    await socket.send(json.dumps(offer))
    replies = await receive_until(socket, "monitoring-started")
    [answer] = [reply for reply in replies if reply["type"] == "webrtc-answer"]
    started = replies[-1]
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

    # Live events (student-status, violation) may come between the replies: skip them.
    await socket.send(json.dumps(message))
    offer = (await receive_until(socket, "webrtc-offer"))[-1]
    await teacher.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
    await teacher.setLocalDescription(await teacher.createAnswer())
    await socket.send(json.dumps({"type": "webrtc-answer", "sdp": teacher.localDescription.sdp}))
    connected = (await receive_until(socket, "peer-connected"))[-1]
    assert connected == {"type": "peer-connected", "attempt_ids": offer["attempt_ids"]}
    return teacher, frames


__all__ = ("exchange", "live", "publish_over", "receive_until", "until", "watch_over")
