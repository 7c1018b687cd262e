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

Each socket has a message budget (``live_message_burst`` at once, ``live_messages_per_second``
after): a message over it is refused unread (``error`` 429 ``RateLimited``), one larger than
``live_max_message_bytes`` too (413 ``MessageTooLarge``), and a socket that goes on past
``live_flood_refusals`` refusals is closed with 4429. When the user's sessions end (signed out
everywhere, a new password) every socket of theirs closes with 4401, and with 4403 when they are
deactivated or their role changes: the accounts service says so on the bus, and each new
``webrtc-offer``, ``watch`` or ``watch-test`` checks the account again. Their media (the stream
the socket published, its viewer) ends first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Any

import msgspec
from litestar import WebSocket, websocket
from litestar.exceptions import WebSocketDisconnect
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts.schemas import Principal, SessionEnd
from protolearn.accounts.service import session_end
from protolearn.api.errors import status_of
from protolearn.api.message_budget import MessageBudget, Verdict
from protolearn.api.security import principal_of
from protolearn.assessment.errors import AttemptClosed
from protolearn.assessment.lifecycle import AttemptLifecycle
from protolearn.cluster.membership import Cluster
from protolearn.config import Settings
from protolearn.errors import PermissionDenied, ProtoLearnError
from protolearn.events.bus import student_topic, teachers_topic, user_topic
from protolearn.events.messages import (
    ClientMessage,
    ErrorMessage,
    Event,
    ForwardingChanged,
    IceCandidate,
    MonitoringStarted,
    Moved,
    Pause,
    PeerConnected,
    Resume,
    ServerOffer,
    SessionsEnded,
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
from protolearn.metrics import NEGOTIATIONS
from protolearn.proctoring.live import publishable_attempt, watchable_attempt, watchable_attempts_of_test
from protolearn.proctoring.supervisor import ProctoringSupervisor
from protolearn.store.attempts import AttemptStatus
from protolearn.store.outage import database_unreachable
from protolearn.store.users import Role
from protolearn.supervision import supervise
from protolearn.vision.errors import VisionError

__all__ = ("CLOSE_FLOODING", "CLOSE_FORBIDDEN", "CLOSE_SIGNED_OUT", "proctor_socket")

log = logging.getLogger(__name__)

CLOSE_SIGNED_OUT = 4401  # sign in again (a page whose login still holds refreshes and reconnects)
CLOSE_FORBIDDEN = 4403  # the account may no longer do this: deactivated, or another role
CLOSE_FLOODING = 4429

# The messages that negotiate a WebRTC connection, by the role of the peer they are for.
_NEGOTIATIONS: dict[type, str] = {WebrtcOffer: "publisher", WebrtcAnswer: "viewer"}

_CLOSES: dict[str, tuple[int, str]] = {
    SessionEnd.SIGNED_OUT: (CLOSE_SIGNED_OUT, "signed out everywhere: sign in again"),
    SessionEnd.PASSWORD_CHANGED: (CLOSE_SIGNED_OUT, "the password changed: sign in again"),
    SessionEnd.DEACTIVATED: (CLOSE_FORBIDDEN, "the account is deactivated"),
    SessionEnd.ROLE_CHANGED: (CLOSE_FORBIDDEN, "the account's role changed: sign in again"),
}


class _Close(Exception):
    """Raised while handling a message: the socket must close with this code. `session_ended`:
    the user may act no more, so their media ends too (a flooding socket's does not)."""

    def __init__(self, code: int, reason: str, *, session_ended: bool = False) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.session_ended = session_ended

    @classmethod
    def ended(cls, why: str) -> _Close:
        # A reason this node does not know (a newer one published it) still signs the user out.
        code, reason = _CLOSES.get(why, (CLOSE_SIGNED_OUT, "sign in again"))
        return cls(code, reason, session_ended=True)


@websocket("/ws/proctor")
async def proctor_socket(socket: WebSocket[Any, Any, Any]) -> None:
    principal = principal_of(socket)
    state = socket.app.state
    session = _LiveSession(principal, state)
    sending = asyncio.Lock()  # a close and a send never interleave; nothing goes after the close
    await socket.accept()

    async def send(message: Event) -> None:
        async with sending:
            if session.closing is None:
                await socket.send_data(encode(message).decode(), mode="text")

    async def close(closing: _Close) -> None:
        if session.closing is not None:
            return
        session.closing = closing
        if closing.session_ended:
            # Media first: the close is the page's cue to sign in again or to publish anew.
            await session.end_media()
        async with sending:
            await socket.close(code=closing.code, reason=closing.reason)

    async def forward_events() -> None:
        while True:
            event = await session.events.next()
            if isinstance(event, SessionsEnded):
                await close(_Close.ended(event.reason))
                return
            await send(event)

    forwarding = asyncio.create_task(
        supervise(
            "live-events",
            forward_events,
            failures=session.proctoring.task_failures,
            context=session.socket_id,
        ),
        name=f"live-events-{session.socket_id}",
    )
    try:
        while session.closing is None:
            raw = await socket.receive_data(mode="text")
            try:
                replies = await session.handle(raw)
            except _Close as closing:
                await close(closing)
                break
            for reply in replies:
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
        settings: Settings = state.settings
        self.principal = principal
        self.unit: ForwardingUnit = state.media
        self.proctoring: ProctoringSupervisor = state.proctoring
        self.sessionmaker = state.sessionmaker
        self.lifecycle: AttemptLifecycle = state.lifecycle
        self.cluster: Cluster | None = state.cluster
        # Names this socket's viewer connection and the stream it publishes, in the relay.
        self.socket_id = f"user-{principal.user_id}-{uuid.uuid4().hex[:12]}"
        self.watching: list[int] = []
        self.published: int | None = None
        self.closing: _Close | None = None
        self.budget = MessageBudget(
            burst=settings.live_message_burst,
            per_second=settings.live_messages_per_second,
            flood_after=settings.live_flood_refusals,
            now=time.monotonic(),
        )
        self.max_message_bytes = settings.live_max_message_bytes
        # The user's topic from the start: a revocation heard while idle closes the socket too.
        self.events = self.proctoring.bus.subscribe([user_topic(principal.user_id)])

    async def handle(self, raw: str) -> list[Event]:
        # Before reading it: a refused message costs a flooding client's socket nothing more.
        verdict = self.budget.spend(time.monotonic())
        if verdict is Verdict.FLOODING:
            raise _Close(CLOSE_FLOODING, "too many messages")
        if verdict is Verdict.REFUSED:
            detail = (
                f"at most {self.budget.burst} messages at once and {self.budget.per_second:g} a "
                "second after that; this one was not acted on"
            )
            return [_error(429, "Too many messages", detail, "RateLimited")]
        if _too_large(raw, self.max_message_bytes):
            detail = f"messages are at most {self.max_message_bytes} bytes; this one was not read"
            return [_error(413, "Message too large", detail, "MessageTooLarge")]
        try:
            message = decode_client_message(raw)
        except msgspec.ValidationError as error:
            return [_error(422, "Invalid message", str(error), "InvalidMessage")]
        except msgspec.DecodeError:
            return [
                _error(422, "Invalid message", "messages are JSON objects with a 'type'", "InvalidMessage")
            ]
        negotiating = _NEGOTIATIONS.get(type(message))
        try:
            replies = await self._dispatch(message)
        except (ProtoLearnError, NegotiationFailed, UnknownViewer, MediaError, VisionError) as error:
            if negotiating and isinstance(error, NegotiationFailed | UnknownViewer | MediaError):
                NEGOTIATIONS.labels(negotiating, "failed").inc()
            return [self._answering(message, self._refusal(error))]
        except Exception as error:
            if not database_unreachable(error):
                raise
            log.warning("live channel: the database is out of reach for %s", self.socket_id)
            detail = "the database cannot be reached right now; send it again shortly"
            return [
                self._answering(message, _error(503, "Database unavailable", detail, "DatabaseUnavailable"))
            ]
        if negotiating:
            NEGOTIATIONS.labels(negotiating, "ok").inc()
        return replies

    @staticmethod
    def _answering(message: ClientMessage, refusal: ErrorMessage) -> ErrorMessage:
        """Which request this answers, so a page with several in flight knows which one failed."""
        return msgspec.structs.replace(
            refusal,
            in_reply_to=type(message).__struct_config__.tag,
            attempt_id=getattr(message, "attempt_id", None),
        )

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
            log.error("media error for %s", self.socket_id, exc_info=error)
            return _error(500, "Media relay error", str(error), type(error).__name__)
        # The models could not be loaded: nobody can be proctored.
        log.error("proctoring unavailable for %s", self.socket_id, exc_info=error)
        return _error(503, "Proctoring unavailable", str(error), type(error).__name__)

    async def _dispatch(self, message: ClientMessage) -> list[Event]:
        match message:
            case WebrtcOffer(attempt_id=attempt_id, sdp=sdp):
                async with self.sessionmaker() as db:
                    await self._still_allowed(db)
                    stream, test_id, proctoring = await publishable_attempt(db, self.principal, attempt_id)
                if moved := await self._elsewhere(test_id, message):
                    return [moved]
                answer = await self.unit.publish(
                    str(stream), sdp, require_video=proctoring.camera_required, publisher=self.socket_id
                )
                self.published = stream
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
                    await self._still_allowed(db)
                    watched = await watchable_attempt(db, self.principal, attempt_id)
                if moved := await self._elsewhere(watched.test_id, message):
                    return [moved]
                return await self._offer([watched.attempt_id])
            case WatchTest(test_id=test_id):
                async with self.sessionmaker() as db:
                    await self._still_allowed(db)
                    attempts = await watchable_attempts_of_test(db, self.principal, test_id)
                if moved := await self._elsewhere(test_id, message):
                    return [moved]
                return await self._offer(attempts)
            case WebrtcAnswer(sdp=sdp):
                if self.principal.role not in (Role.TEACHER, Role.ADMIN):
                    raise PermissionDenied("only teachers answer the server's offer")
                await self.unit.accept_answer(self.socket_id, sdp)
                return [PeerConnected(attempt_ids=self.watching)]
            case Pause(attempt_ids=ids) | Resume(attempt_ids=ids):
                if self.principal.role not in (Role.TEACHER, Role.ADMIN):
                    raise PermissionDenied("only teachers pause and resume what they watch")
                paused = isinstance(message, Pause)
                # Only streams this socket was offered (and so was allowed to watch) are touched.
                asked = [str(attempt) for attempt in ids if attempt in self.watching]
                applied = self.unit.set_paused(self.socket_id, asked, paused)
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

    async def _still_allowed(self, db: AsyncSession) -> None:
        """The account as the database knows it now, before anything new is started for it: an
        end of its sessions this socket did not hear of (another node, the CLI) closes it."""
        ended = await session_end(db, self.principal)
        if ended is not None:
            raise _Close.ended(ended)

    async def _elsewhere(self, test_id: int, message: ClientMessage) -> Moved | None:
        """Where several nodes serve, the test's live media meets on one (cluster.nodes): a
        message for it reaching another node is answered with that node's address."""
        if self.cluster is None:
            return None
        owner = await self.cluster.nodes.owner_of_test(test_id)
        if owner.id == self.cluster.nodes.me.id:
            return None
        log.info(
            "test %d meets on %s: socket %s sent there",
            test_id,
            owner.id,
            self.socket_id,
            extra={"event": "live_moved", "attempt_id": getattr(message, "attempt_id", None)},
        )
        return Moved(
            node_url=owner.url,
            in_reply_to=str(type(message).__struct_config__.tag),
            attempt_id=getattr(message, "attempt_id", None),
            test_id=test_id,
        )

    async def _offer(self, attempts: list[int]) -> list[Event]:
        """The server's offer of these attempts' streams; their events replace the old ones'."""
        self.watching = attempts
        self.events.replace(
            keep=lambda topic: not topic.endswith(":teachers"),
            topics=[teachers_topic(attempt) for attempt in attempts],
        )
        offer = await self.unit.watch(self.socket_id, [str(a) for a in attempts])
        return [ServerOffer(attempt_ids=attempts, sdp=offer)]

    async def end_media(self) -> None:
        """The media of a user who may act no more: this socket's viewer and its stream."""
        await self.unit.stop_watching(self.socket_id)
        if self.published is not None:
            await self.unit.stop_publishing(str(self.published), publisher=self.socket_id)

    async def close(self) -> None:
        self.events.close()
        await self.unit.stop_watching(self.socket_id)
        if self.closing is not None and self.closing.session_ended:
            await self.end_media()  # again: a publish may have finished after the close


def _too_large(raw: str, limit: int) -> bool:
    # A character is 1 to 4 bytes of UTF-8: encode only where the answer depends on it.
    return len(raw) > limit or (len(raw) * 4 > limit and len(raw.encode()) > limit)


def _error(
    status: int, title: str, detail: str, code: str, attempt_status: str | None = None
) -> ErrorMessage:
    return ErrorMessage(status=status, title=title, detail=detail, code=code, attempt_status=attempt_status)
