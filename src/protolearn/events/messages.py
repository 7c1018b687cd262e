"""Every message of the live channel (/ws/proctor) and of the event bus, as tagged Structs.

The shapes of `shared/API.md` are enforced here and only here: inbound messages are decoded
into `ClientMessage` (unknown fields refused), outbound ones are built as Structs and encoded
with `encode()`. `type` is the tag. Bus events that never reach a browser (`AttemptEnded`,
`SessionsEnded`) live here too, so a node can decode what another node published. New fields
get defaults.
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec

from protolearn.wire import RecordId

__all__ = (
    "AttemptEnded",
    "ClientMessage",
    "DeadlineChanged",
    "ErrorMessage",
    "Event",
    "ForwardingChanged",
    "IceCandidate",
    "LastObservation",
    "MonitoringStarted",
    "Moved",
    "Pause",
    "PeerConnected",
    "Resume",
    "ServerOffer",
    "SessionsEnded",
    "StudentStatus",
    "Terminate",
    "Terminated",
    "TestEnded",
    "ViolationEvent",
    "ViolationNotice",
    "ViolationReceived",
    "ViolationSummary",
    "Warn",
    "WarningMessage",
    "WarningSent",
    "Watch",
    "WatchTest",
    "WebrtcAnswer",
    "WebrtcAnswerOut",
    "WebrtcOffer",
    "decode_client_message",
    "decode_event",
    "encode",
)

Sdp = Annotated[str, msgspec.Meta(min_length=10, max_length=100_000)]
Id = RecordId
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


# --- browser -> server ---------------------------------------------------------------------------


class _Inbound(msgspec.Struct, frozen=True, tag_field="type", forbid_unknown_fields=True):
    pass


class WebrtcOffer(_Inbound, frozen=True, tag="webrtc-offer"):
    """A student's offer of camera and microphone for their attempt in progress."""

    attempt_id: Id
    sdp: Sdp


class WebrtcAnswer(_Inbound, frozen=True, tag="webrtc-answer"):
    """A teacher's answer to the server's offer of relayed tracks."""

    sdp: Sdp


class IceCandidate(_Inbound, frozen=True, tag="ice-candidate"):
    candidate: Any = None
    attempt_id: Id | None = None


class Watch(_Inbound, frozen=True, tag="watch"):
    attempt_id: Id


class WatchTest(_Inbound, frozen=True, tag="watch-test"):
    test_id: Id


class Warn(_Inbound, frozen=True, tag="warn"):
    attempt_id: Id
    message: Text


class Terminate(_Inbound, frozen=True, tag="terminate"):
    attempt_id: Id
    reason: Text


class Pause(_Inbound, frozen=True, tag="pause"):
    """A teacher's tiles scrolled out of view: stop sending those students' video to this viewer."""

    attempt_ids: Annotated[list[Id], msgspec.Meta(max_length=500)]


class Resume(_Inbound, frozen=True, tag="resume"):
    """Tiles back in view: send their video again (from the next keyframe)."""

    attempt_ids: Annotated[list[Id], msgspec.Meta(max_length=500)]


ClientMessage = (
    WebrtcOffer | WebrtcAnswer | IceCandidate | Watch | WatchTest | Warn | Terminate | Pause | Resume
)
_client_decoder = msgspec.json.Decoder(ClientMessage)


def decode_client_message(raw: str | bytes) -> ClientMessage:
    """Raises msgspec.ValidationError (wrong shape) or msgspec.DecodeError (not JSON)."""
    message: ClientMessage = _client_decoder.decode(raw)
    return message


# --- server -> browser, and bus events -----------------------------------------------------------


class _Outbound(msgspec.Struct, frozen=True, tag_field="type"):
    pass


class WebrtcAnswerOut(_Outbound, frozen=True, tag="webrtc-answer"):
    attempt_id: int
    sdp: str


class MonitoringStarted(_Outbound, frozen=True, tag="monitoring-started"):
    attempt_id: int


class ServerOffer(_Outbound, frozen=True, tag="webrtc-offer"):
    """The server's offer of the watched students' relayed tracks, to a teacher."""

    attempt_ids: list[int]
    sdp: str


class PeerConnected(_Outbound, frozen=True, tag="peer-connected"):
    attempt_ids: list[int]


class ForwardingChanged(_Outbound, frozen=True, tag="forwarding-changed"):
    """To the teacher, after pause/resume: whose video this viewer is now (not) sent."""

    attempt_ids: list[int]
    paused: bool


class WarningMessage(_Outbound, frozen=True, tag="warning"):
    """A teacher's warning, to the student."""

    attempt_id: int
    message: str


class WarningSent(_Outbound, frozen=True, tag="warning-sent"):
    attempt_id: int
    delivered: bool


class Terminated(_Outbound, frozen=True, tag="terminated"):
    """To the teacher who ended the attempt."""

    attempt_id: int


class TestEnded(_Outbound, frozen=True, tag="test-ended"):
    """To the student: the attempt was ended for them (terminated or auto-submitted)."""

    attempt_id: int
    status: str
    reason: str | None


class DeadlineChanged(_Outbound, frozen=True, tag="deadline-changed"):
    """To the student: a teacher gave the attempt extra time; `deadline` is the new one."""

    attempt_id: int
    deadline: str
    minutes: int
    reason: str


class ViolationSummary(msgspec.Struct, frozen=True):
    """A violation as watching teachers see it (the REST `Violation` plus `ended_at`)."""

    id: int
    attempt_id: int
    type: str
    severity: str
    source: str
    description: str
    timestamp: str
    ended_at: str | None
    evidence_id: int | None


class ViolationEvent(_Outbound, frozen=True, tag="violation"):
    """To watching teachers, when a violation starts and again when it ends (with its clip)."""

    violation: ViolationSummary


class ViolationNotice(msgspec.Struct, frozen=True):
    id: int
    type: str
    severity: str
    timestamp: str


class ViolationReceived(_Outbound, frozen=True, tag="violation-received"):
    """To the student, when a server-side violation starts."""

    violation: ViolationNotice


class LastObservation(msgspec.Struct, frozen=True):
    faces: int
    dark: bool


class StudentStatus(_Outbound, frozen=True, tag="student-status", omit_defaults=True):
    """To watching teachers: connection, camera, what the camera sees."""

    attempt_id: int
    connected: bool
    camera_ok: bool
    open_violations: list[str]
    last_observation: LastObservation | None = None


class ErrorMessage(_Outbound, frozen=True, tag="error", omit_defaults=True):
    """A message could not be acted on; the socket stays open."""

    status: int
    title: str
    detail: str
    code: str
    attempt_status: str | None = None
    in_reply_to: str | None = None  # the type of the message refused, once it could be read
    attempt_id: int | None = None  # the attempt that message named, if it named one


class Moved(_Outbound, frozen=True, tag="moved", omit_defaults=True):
    """The live media of this test meets on another node: open the live channel at
    ``node_url`` + ``/ws/proctor`` and send the message again there. Nothing was done here."""

    node_url: str
    in_reply_to: str
    attempt_id: int | None = None
    test_id: int | None = None


class AttemptEnded(_Outbound, frozen=True, tag="attempt-ended"):
    """Bus only: an attempt stopped being in progress (submitted, auto-submitted, terminated)."""

    attempt_id: int
    status: str
    reason: str | None


class SessionsEnded(_Outbound, frozen=True, tag="sessions-ended"):
    """Bus only: every session of a user ended (`reason`: signed_out, password_changed,
    deactivated, role_changed); each node closes that user's live sockets."""

    user_id: int
    reason: str


Event = (
    WebrtcAnswerOut
    | MonitoringStarted
    | ServerOffer
    | PeerConnected
    | ForwardingChanged
    | WarningMessage
    | WarningSent
    | Terminated
    | TestEnded
    | DeadlineChanged
    | ViolationEvent
    | ViolationReceived
    | StudentStatus
    | ErrorMessage
    | Moved
    | AttemptEnded
    | SessionsEnded
)
"""Anything the server sends on the live channel or publishes on the bus."""

_encoder = msgspec.json.Encoder()
_event_decoder = msgspec.json.Decoder(Event)


def encode(message: Event) -> bytes:
    return _encoder.encode(message)


def decode_event(raw: bytes) -> Event:
    """For bus backends that carry events between nodes as JSON."""
    event: Event = _event_decoder.decode(raw)
    return event
