"""The live channel, WebSocket /ws/proctor?token=<access token>: WebRTC signaling.

Students send ``webrtc-offer`` {attempt_id, sdp} for their own attempt in progress and get
``webrtc-answer`` and ``monitoring-started``, then ``violation-received``, ``warning``,
``deadline-changed`` and ``test-ended`` as they happen. Teachers send ``watch`` {attempt_id} or ``watch-test``
{test_id}; the server offers the relayed tracks (``webrtc-offer`` {sdp, attempt_ids}) and the
teacher answers (``webrtc-answer`` {sdp}), then gets ``peer-connected``, and ``violation`` and
``student-status`` for the watched attempts. Teachers send ``warn`` {attempt_id, message} and
``terminate`` {attempt_id, reason}, and ``pause`` / ``resume`` {attempt_ids} for tiles out of
view (their video stops being sent to this viewer, no renegotiation; ``forwarding-changed``).
A bad message gets an ``error`` {status, title, detail, code} and the socket stays open; the
server gathers its ICE candidates before answering, so ``ice-candidate`` needs no reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from protolearn.accounts.schemas import Principal
from protolearn.api.errors import status_of
from protolearn.api.security import principal_of
from protolearn.assessment.errors import AttemptClosed
from protolearn.assessment.lifecycle import AttemptLifecycle
from protolearn.errors import PermissionDenied, ProtoLearnError
from protolearn.events.bus import student_topic, teachers_topic
from protolearn.events.messages import (
    ClientMessage,
    ErrorMessage,
    Event,
    ForwardingChanged,
    IceCandidate,
    MonitoringStarted,
    Pause,
    PeerConnected,
    Resume,
    ServerOffer,
    Terminate,
    Terminated,
    Warn,
    WarningMessage,
    WarningSent,
    Watch,
    WatchTest,
    WebrtcAnswer,
    WebrtcAnswerOut,
    WebrtcOffer,
    decode_client_message,
    encode,
)
from protolearn.media.errors import MediaError, NegotiationFailed, UnknownViewer
from protolearn.media.relay import ForwardingUnit
from protolearn.proctoring.live import publishable_attempt, watchable_attempt, watchable_attempts_of_test
from protolearn.proctoring.supervisor import ProctoringSupervisor
from protolearn.store.attempts import AttemptStatus
from protolearn.store.users import Role
from protolearn.supervision import supervise
from protolearn.vision.errors import VisionError

__all__ = ("proctor_socket",)

log = logging.getLogger(__name__)


@websocket("/ws/proctor")
async def proctor_socket(socket: WebSocket[Any, Any, Any]) -> None:
    principal = principal_of(socket)
    state = socket.app.state
    session = _LiveSession(principal, state)
    await socket.accept()

    async def send(message: Event) -> None:
        await socket.send_data(encode(message).decode(), mode="text")

    async def forward_events() -> None:
        while True:
            await send(await session.events.next())

    forwarding = asyncio.create_task(
        supervise(
            "live-events",
            forward_events,
            failures=session.proctoring.task_failures,
            context=session.viewer_id,
        ),
        name=f"live-events-{session.viewer_id}",
    )
    try:
        while True:
            raw = await socket.receive_data(mode="text")
            for reply in await session.handle(raw):
                await send(reply)
    except WebSocketDisconnect:
        pass
    finally:
        forwarding.cancel()
        with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
            await forwarding
        await session.close()


class _LiveSession:
    """One socket's conversation; a teacher's socket owns one viewer connection."""

    def __init__(self, principal: Principal, state: Any) -> None:
        self.principal = principal
        self.unit: ForwardingUnit = state.media
        self.proctoring: ProctoringSupervisor = state.proctoring
        self.sessionmaker = state.sessionmaker
        self.lifecycle: AttemptLifecycle = state.lifecycle
        self.viewer_id = f"user-{principal.user_id}-{uuid.uuid4().hex[:12]}"
        self.watching: list[int] = []
        self.events = self.proctoring.bus.subscribe()

    async def handle(self, raw: str | bytes) -> list[Event]:
        try:
            message = decode_client_message(raw)
        except msgspec.ValidationError as error:
            return [_error(422, "Invalid message", str(error), "InvalidMessage")]
        except msgspec.DecodeError:
            return [
                _error(422, "Invalid message", "messages are JSON objects with a 'type'", "InvalidMessage")
            ]
        try:
            return await self._dispatch(message)
        except (ProtoLearnError, NegotiationFailed, UnknownViewer, MediaError, VisionError) as error:
            refusal = self._refusal(error)
            # Which request this answers, so a page with several in flight knows which one failed.
            answers = msgspec.structs.replace(
                refusal,
                in_reply_to=type(message).__struct_config__.tag,
                attempt_id=getattr(message, "attempt_id", None),
            )
            return [answers]

    def _refusal(self, error: Exception) -> ErrorMessage:
        if isinstance(error, ProtoLearnError):
            status = error.extra.get("attempt_status")
            return _error(
                status_of(error),
                error.title,
                error.detail,
                type(error).__name__,
                attempt_status=None if status is None else str(status),
            )
        if isinstance(error, NegotiationFailed | UnknownViewer):
            return _error(422, "WebRTC negotiation failed", str(error), type(error).__name__)
        if isinstance(error, MediaError):
            log.error("media error for %s", self.viewer_id, exc_info=error)
            return _error(500, "Media relay error", str(error), type(error).__name__)
        # The models could not be loaded: nobody can be proctored.
        log.error("proctoring unavailable for %s", self.viewer_id, exc_info=error)
        return _error(503, "Proctoring unavailable", str(error), type(error).__name__)

    async def _dispatch(self, message: ClientMessage) -> list[Event]:
        match message:
            case WebrtcOffer(attempt_id=attempt_id, sdp=sdp):
                async with self.sessionmaker() as db:
                    stream, proctoring = await publishable_attempt(db, self.principal, attempt_id)
                answer = await self.unit.publish(str(stream), sdp, require_video=proctoring.camera_required)
                self.events.add([student_topic(stream)])
                await self.proctoring.start(
                    stream,
                    proctoring.analysis_fps,
                    proctoring.rules,
                    proctoring.auto_terminate_after_critical,
                )
                return [WebrtcAnswerOut(attempt_id=stream, sdp=answer), MonitoringStarted(attempt_id=stream)]
            case Watch(attempt_id=attempt_id):
                async with self.sessionmaker() as db:
                    attempts = [await watchable_attempt(db, self.principal, attempt_id)]
                return await self._offer(attempts)
            case WatchTest(test_id=test_id):
                async with self.sessionmaker() as db:
                    attempts = await watchable_attempts_of_test(db, self.principal, test_id)
                return await self._offer(attempts)
            case WebrtcAnswer(sdp=sdp):
                if self.principal.role not in (Role.TEACHER, Role.ADMIN):
                    raise PermissionDenied("only teachers answer the server's offer")
                await self.unit.accept_answer(self.viewer_id, sdp)
                return [PeerConnected(attempt_ids=self.watching)]
            case Pause(attempt_ids=ids) | Resume(attempt_ids=ids):
                if self.principal.role not in (Role.TEACHER, Role.ADMIN):
                    raise PermissionDenied("only teachers pause and resume what they watch")
                paused = isinstance(message, Pause)
                # Only streams this socket was offered (and so was allowed to watch) are touched.
                asked = [str(attempt) for attempt in ids if attempt in self.watching]
                applied = self.unit.set_paused(self.viewer_id, asked, paused)
                return [ForwardingChanged(attempt_ids=sorted(int(a) for a in applied), paused=paused)]
            case IceCandidate():
                return []  # the server's SDP carries all its candidates; the peer's come with its SDP
            case Warn(attempt_id=attempt_id, message=text):
                async with self.sessionmaker() as db:
                    await watchable_attempt(db, self.principal, attempt_id)
                warning = WarningMessage(attempt_id=attempt_id, message=text.strip())
                delivered = self.proctoring.bus.publish(student_topic(attempt_id), warning)
                return [WarningSent(attempt_id=attempt_id, delivered=delivered > 0)]
            case Terminate(attempt_id=attempt_id, reason=reason):
                async with self.sessionmaker() as db:
                    await watchable_attempt(db, self.principal, attempt_id)
                # The lifecycle tells the student (test-ended) and proctoring (AttemptEnded).
                if not await self.lifecycle.end(attempt_id, AttemptStatus.TERMINATED, reason.strip()):
                    raise AttemptClosed(f"attempt {attempt_id} is not in progress")
                return [Terminated(attempt_id=attempt_id)]

    async def _offer(self, attempts: list[int]) -> list[Event]:
        """The server's offer of these attempts' streams; their events replace the old ones'."""
        self.watching = attempts
        self.events.replace(
            keep=lambda topic: not topic.endswith(":teachers"),
            topics=[teachers_topic(attempt) for attempt in attempts],
        )
        offer = await self.unit.watch(self.viewer_id, [str(a) for a in attempts])
        return [ServerOffer(attempt_ids=attempts, sdp=offer)]

    async def close(self) -> None:
        self.events.close()
        await self.unit.stop_watching(self.viewer_id)


def _error(
    status: int, title: str, detail: str, code: str, attempt_status: str | None = None
) -> ErrorMessage:
    return ErrorMessage(status=status, title=title, detail=detail, code=code, attempt_status=attempt_status)
