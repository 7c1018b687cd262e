"""The live channel, WebSocket /ws/proctor?token=<access token>: WebRTC signaling.

Students send ``webrtc-offer`` {attempt_id, sdp} for their own attempt in progress and get
``webrtc-answer`` and ``monitoring-started``, then ``violation-received``, ``warning`` and
``test-ended`` as they happen. Teachers send ``watch`` {attempt_id} or ``watch-test``
{test_id}; the server offers the relayed tracks (``webrtc-offer`` {sdp, attempt_ids}) and the
teacher answers (``webrtc-answer`` {sdp}), then gets ``peer-connected``, and ``violation`` and
``student-status`` for the watched attempts. Teachers send ``warn`` {attempt_id, message} and
``terminate`` {attempt_id, reason}.
A bad message gets an ``error`` {status, title, detail, code} and the socket stays open; the
server gathers its ICE candidates before answering, so ``ice-candidate`` needs no reply.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Annotated, Any

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect

from protolearn.accounts.schemas import Principal
from protolearn.api.errors import status_of
from protolearn.api.security import principal_of
from protolearn.assessment.attempts import AttemptService
from protolearn.assessment.errors import AttemptClosed
from protolearn.config import Settings
from protolearn.errors import PermissionDenied, ProtoLearnError
from protolearn.events.bus import student_topic, teachers_topic
from protolearn.media.errors import MediaError, NegotiationFailed, UnknownViewer
from protolearn.media.relay import ForwardingUnit
from protolearn.proctoring.live import publishable_attempt, watchable_attempt, watchable_attempts_of_test
from protolearn.proctoring.supervisor import ProctoringSupervisor
from protolearn.store.attempts import AttemptStatus
from protolearn.store.users import Role

__all__ = ("proctor_socket",)

log = logging.getLogger(__name__)

Sdp = Annotated[str, msgspec.Meta(min_length=10, max_length=100_000)]
Id = Annotated[int, msgspec.Meta(ge=1)]


class _Message(msgspec.Struct, frozen=True, tag_field="type", forbid_unknown_fields=True):
    pass


class WebrtcOffer(_Message, frozen=True, tag="webrtc-offer"):
    attempt_id: Id
    sdp: Sdp


class WebrtcAnswer(_Message, frozen=True, tag="webrtc-answer"):
    sdp: Sdp


class IceCandidate(_Message, frozen=True, tag="ice-candidate"):
    candidate: Any = None
    attempt_id: int | None = None


class Watch(_Message, frozen=True, tag="watch"):
    attempt_id: Id


class WatchTest(_Message, frozen=True, tag="watch-test"):
    test_id: Id


class Warn(_Message, frozen=True, tag="warn"):
    attempt_id: Id
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class Terminate(_Message, frozen=True, tag="terminate"):
    attempt_id: Id
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


ClientMessage = WebrtcOffer | WebrtcAnswer | IceCandidate | Watch | WatchTest | Warn | Terminate
_decoder = msgspec.json.Decoder(ClientMessage)
_encoder = msgspec.json.Encoder()


@websocket("/ws/proctor")
async def proctor_socket(socket: WebSocket[Any, Any, Any]) -> None:
    principal = principal_of(socket)
    state = socket.app.state
    session = _LiveSession(principal, state)
    await socket.accept()

    async def send(message: dict[str, Any]) -> None:
        await socket.send_data(_encoder.encode(message).decode(), mode="text")

    async def forward_events() -> None:
        while True:
            await send(await session.events.next())

    forwarding = asyncio.create_task(forward_events(), name=f"live-events-{session.viewer_id}")
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
        self.settings: Settings = state.settings
        self.viewer_id = f"user-{principal.user_id}-{uuid.uuid4().hex[:12]}"
        self.watching: list[int] = []
        self.events = self.proctoring.bus.subscribe()

    async def handle(self, raw: str | bytes) -> list[dict[str, Any]]:
        try:
            message = _decoder.decode(raw)
            return await self._dispatch(message)
        except msgspec.ValidationError as error:
            return [_error(422, "Invalid message", str(error), "InvalidMessage")]
        except msgspec.DecodeError:
            return [
                _error(422, "Invalid message", "messages are JSON objects with a 'type'", "InvalidMessage")
            ]
        except ProtoLearnError as error:
            return [_error(status_of(error), error.title, error.detail, type(error).__name__, **error.extra)]
        except (NegotiationFailed, UnknownViewer) as error:
            return [_error(422, "WebRTC negotiation failed", str(error), type(error).__name__)]
        except MediaError as error:
            log.exception("media error for %s", self.viewer_id)
            return [_error(500, "Media relay error", str(error), type(error).__name__)]

    async def _dispatch(self, message: ClientMessage) -> list[dict[str, Any]]:
        match message:
            case WebrtcOffer(attempt_id=attempt_id, sdp=sdp):
                async with self.sessionmaker() as db:
                    stream, proctoring = await publishable_attempt(db, self.principal, attempt_id)
                answer = await self.unit.publish(str(stream), sdp)
                self.events.add([student_topic(stream)])
                await self.proctoring.start(
                    stream,
                    proctoring.analysis_fps,
                    proctoring.rules,
                    proctoring.auto_terminate_after_critical,
                )
                return [
                    {"type": "webrtc-answer", "attempt_id": stream, "sdp": answer},
                    {"type": "monitoring-started", "attempt_id": stream},
                ]
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
                return [{"type": "peer-connected", "attempt_ids": self.watching}]
            case IceCandidate():
                return []  # the server's SDP carries all its candidates; the peer's come with its SDP
            case Warn(attempt_id=attempt_id, message=text):
                async with self.sessionmaker() as db:
                    await watchable_attempt(db, self.principal, attempt_id)
                warning = {"type": "warning", "attempt_id": attempt_id, "message": text.strip()}
                delivered = self.proctoring.bus.publish(student_topic(attempt_id), warning)
                return [{"type": "warning-sent", "attempt_id": attempt_id, "delivered": delivered > 0}]
            case Terminate(attempt_id=attempt_id, reason=reason):
                async with self.sessionmaker() as db:
                    await watchable_attempt(db, self.principal, attempt_id)
                    service = AttemptService(db, grace_seconds=self.settings.deadline_grace_seconds)
                    closed = await service.close(attempt_id, AttemptStatus.TERMINATED, reason=reason.strip())
                if not closed:
                    raise AttemptClosed(f"attempt {attempt_id} is not in progress")
                ended = {
                    "type": "test-ended",
                    "attempt_id": attempt_id,
                    "status": "terminated",
                    "reason": reason,
                }
                self.proctoring.bus.publish(student_topic(attempt_id), ended)
                await self.proctoring.stop(attempt_id)
                return [{"type": "terminated", "attempt_id": attempt_id}]

    async def _offer(self, attempts: list[int]) -> list[dict[str, Any]]:
        self.watching = attempts
        self.events.add(teachers_topic(attempt) for attempt in attempts)
        offer = await self.unit.watch(self.viewer_id, [str(a) for a in attempts])
        return [{"type": "webrtc-offer", "attempt_ids": attempts, "sdp": offer}]

    async def close(self) -> None:
        self.events.close()
        await self.unit.stop_watching(self.viewer_id)


def _error(status: int, title: str, detail: str, code: str, **extra: Any) -> dict[str, Any]:
    return {**extra, "type": "error", "status": status, "title": title, "detail": detail, "code": code}
