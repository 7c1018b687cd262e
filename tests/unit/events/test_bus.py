"""The event bus (topics, bounded subscriptions, the backend seam) and the typed live messages."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from protolearn.events.bus import (
    ATTEMPTS_ENDED,
    Deliver,
    EventBus,
    InProcessBackend,
    student_topic,
    teachers_topic,
    user_topic,
)
from protolearn.events.messages import (
    AttemptEnded,
    DeadlineChanged,
    ErrorMessage,
    Event,
    ForwardingChanged,
    LastObservation,
    MonitoringStarted,
    Pause,
    PeerConnected,
    Resume,
    ServerOffer,
    SessionsEnded,
    StudentStatus,
    Terminate,
    Terminated,
    TestEnded,
    ViolationEvent,
    ViolationNotice,
    ViolationReceived,
    ViolationSummary,
    Warn,
    WarningMessage,
    WarningSent,
    Watch,
    WatchTest,
    WebrtcAnswer,
    WebrtcAnswerOut,
    WebrtcOffer,
    decode_client_message,
    decode_event,
    encode,
)

SDP = "v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\n"


class RecordingBackend:
    """An EventBackend that records what the bus asks of it and loops published events back
    to the bus for the topics it was subscribed to, as a networked backend would."""

    def __init__(self) -> None:
        self.deliver: Deliver = lambda _topic, _event: None
        self.calls: list[tuple[str, str]] = []
        self.published: list[tuple[str, Event]] = []
        self.topics: set[str] = set()
        self.closed = False

    def publish(self, topic: str, event: Event) -> None:
        self.published.append((topic, event))
        if topic in self.topics:
            self.deliver(topic, event)

    def subscribe(self, topic: str) -> None:
        self.calls.append(("subscribe", topic))
        self.topics.add(topic)

    def unsubscribe(self, topic: str) -> None:
        self.calls.append(("unsubscribe", topic))
        self.topics.discard(topic)

    async def close(self) -> None:
        self.closed = True


def started(attempt_id: int) -> MonitoringStarted:
    return MonitoringStarted(attempt_id=attempt_id)


def every_event() -> list[Event]:
    """One of each outbound message, with every optional field both set and unset somewhere."""
    summary = ViolationSummary(
        id=3,
        attempt_id=7,
        type="no_face",
        severity="high",
        source="server",
        description="no face for 5 s",
        timestamp="2024-05-01T10:00:00+00:00",
        ended_at=None,
        evidence_id=None,
    )
    return [
        WebrtcAnswerOut(attempt_id=7, sdp=SDP),
        MonitoringStarted(attempt_id=7),
        ServerOffer(attempt_ids=[7, 8], sdp=SDP),
        PeerConnected(attempt_ids=[7]),
        ForwardingChanged(attempt_ids=[7, 8], paused=True),
        WarningMessage(attempt_id=7, message="eyes on your own screen"),
        WarningSent(attempt_id=7, delivered=False),
        Terminated(attempt_id=7),
        TestEnded(attempt_id=7, status="terminated", reason="phone on the desk"),
        TestEnded(attempt_id=7, status="auto_submitted", reason=None),
        DeadlineChanged(attempt_id=7, deadline="2024-05-01T10:40:00Z", minutes=10, reason="outage in room 4"),
        ViolationEvent(violation=summary),
        ViolationEvent(
            violation=msgspec.structs.replace(summary, ended_at="2024-05-01T10:00:09+00:00", evidence_id=4)
        ),
        ViolationReceived(
            violation=ViolationNotice(id=3, type="no_face", severity="high", timestamp="2024-05-01T10:00:00Z")
        ),
        StudentStatus(attempt_id=7, connected=True, camera_ok=True, open_violations=[]),
        StudentStatus(
            attempt_id=7,
            connected=True,
            camera_ok=False,
            open_violations=["video_unusable"],
            last_observation=LastObservation(faces=0, dark=True),
        ),
        ErrorMessage(status=409, title="Conflict", detail="attempt closed", code="attempt_closed"),
        ErrorMessage(
            status=409,
            title="Conflict",
            detail="attempt closed",
            code="attempt_closed",
            attempt_status="submitted",
        ),
        AttemptEnded(attempt_id=7, status="submitted", reason=None),
        SessionsEnded(user_id=3, reason="deactivated"),
    ]


# --- the bus -------------------------------------------------------------------------------------


def test_publish_reaches_only_the_topics_subscribers_and_counts_them() -> None:
    bus = EventBus()
    both = bus.subscribe([teachers_topic(7), teachers_topic(8)])
    seven = bus.subscribe([teachers_topic(7)])
    student = bus.subscribe([student_topic(7)])

    assert bus.publish(teachers_topic(7), started(7)) == 2
    assert bus.publish(teachers_topic(8), started(8)) == 1
    assert bus.publish(teachers_topic(9), started(9)) == 0  # nobody listens: nothing kept

    assert both.drain() == [started(7), started(8)]
    assert seven.drain() == [started(7)]
    assert student.drain() == []
    assert bus.delivered == 3


async def test_next_waits_for_the_next_event() -> None:
    bus = EventBus()
    subscription = bus.subscribe([ATTEMPTS_ENDED])
    waiting = asyncio.ensure_future(subscription.next())
    await asyncio.sleep(0)
    assert not waiting.done()

    ended = AttemptEnded(attempt_id=7, status="terminated", reason="left the room")
    bus.publish(ATTEMPTS_ENDED, ended)

    assert await asyncio.wait_for(waiting, 5) == ended


def test_a_full_subscription_drops_its_oldest_event_and_counts_it() -> None:
    bus = EventBus()
    slow = bus.subscribe([teachers_topic(7)], capacity=3)
    keeping_up = bus.subscribe([teachers_topic(7)], capacity=10)

    for n in range(1, 6):
        assert bus.publish(teachers_topic(7), started(n)) == 2  # the publisher is never refused

    assert slow.dropped == 2
    assert slow.drain() == [started(3), started(4), started(5)]
    assert keeping_up.dropped == 0
    assert keeping_up.drain() == [started(n) for n in range(1, 6)]


def test_replace_leaves_the_rejected_topics_and_joins_the_new_ones() -> None:
    bus = EventBus()
    teacher = bus.subscribe([teachers_topic(1), teachers_topic(2), ATTEMPTS_ENDED])

    # The teacher watches again: attempts 2 and 3 now; the bus-wide topic is kept.
    teacher.replace(lambda topic: topic == ATTEMPTS_ENDED, [teachers_topic(2), teachers_topic(3)])

    assert teacher.topics == {teachers_topic(2), teachers_topic(3), ATTEMPTS_ENDED}
    assert bus.subscriber_count(teachers_topic(1)) == 0
    assert bus.publish(teachers_topic(1), started(1)) == 0
    assert bus.publish(teachers_topic(2), started(2)) == 1
    assert bus.publish(teachers_topic(3), started(3)) == 1
    assert teacher.drain() == [started(2), started(3)]  # only the new attempts' events


def test_a_teacher_who_watches_again_hears_only_the_new_attempts() -> None:
    bus = EventBus()
    teacher = bus.subscribe()

    def watch(*attempt_ids: int) -> None:
        wanted = {teachers_topic(attempt_id) for attempt_id in attempt_ids}
        teacher.replace(lambda topic: topic in wanted, wanted)

    watch(1)
    bus.publish(teachers_topic(1), started(1))
    watch(2)
    watch(2)  # watching the same attempts again joins nothing twice
    for attempt_id in (1, 2, 1):
        bus.publish(teachers_topic(attempt_id), started(attempt_id))

    # The event of attempt 1 still queued when the teacher moved on is dropped with its topic.
    assert teacher.drain() == [started(2)]
    assert bus.subscriber_count(teachers_topic(1)) == 0
    assert bus.subscriber_count(teachers_topic(2)) == 1


def test_the_backend_is_subscribed_once_per_topic_and_left_with_the_last_subscriber() -> None:
    backend = RecordingBackend()
    bus = EventBus(backend)
    first = bus.subscribe([teachers_topic(7)])
    second = bus.subscribe([teachers_topic(7), student_topic(7)])
    assert backend.calls == [("subscribe", teachers_topic(7)), ("subscribe", student_topic(7))]

    first.close()
    assert backend.calls[2:] == []  # another local subscriber still listens
    assert bus.subscriber_count(teachers_topic(7)) == 1

    second.close()
    assert sorted(backend.calls[2:]) == [
        ("unsubscribe", student_topic(7)),
        ("unsubscribe", teachers_topic(7)),
    ]
    assert bus.subscriber_count(teachers_topic(7)) == bus.subscriber_count(student_topic(7)) == 0

    second.close()  # closing twice asks nothing more of the backend
    assert len(backend.calls) == 4


def test_publish_goes_through_the_backend_and_its_deliveries_fan_out() -> None:
    backend = RecordingBackend()
    bus = EventBus(backend)
    subscription = bus.subscribe([teachers_topic(7)])

    assert bus.publish(teachers_topic(7), started(7)) == 1
    assert bus.publish(teachers_topic(8), started(8)) == 0

    assert backend.published == [(teachers_topic(7), started(7)), (teachers_topic(8), started(8))]
    assert subscription.drain() == [started(7)]

    # An event another node published arrives through the backend alone.
    remote = AttemptEnded(attempt_id=7, status="terminated", reason="phone")
    backend.deliver(teachers_topic(7), remote)
    assert subscription.drain() == [remote]


async def test_closing_the_bus_closes_its_backend() -> None:
    backend = RecordingBackend()
    bus = EventBus(backend)
    await bus.close()
    assert backend.closed


async def test_the_in_process_backend_delivers_on_the_publishers_call_and_forgets_on_close() -> None:
    backend = InProcessBackend()
    bus = EventBus(backend)
    subscription = bus.subscribe([teachers_topic(7)])

    bus.publish(teachers_topic(7), started(7))
    assert subscription.drain() == [started(7)]  # already there: no await in between

    await bus.close()
    bus.publish(teachers_topic(7), started(7))
    assert subscription.drain() == []


# --- the messages --------------------------------------------------------------------------------


@pytest.mark.parametrize("event", every_event(), ids=lambda event: type(event).__name__)
def test_every_outbound_event_encodes_with_its_tag_and_round_trips(event: Event) -> None:
    raw = encode(event)
    wire = msgspec.json.decode(raw)

    assert wire["type"] == type(event).__struct_config__.tag
    assert decode_event(raw) == event
    assert type(decode_event(raw)) is type(event)


def test_the_tags_are_the_documented_ones() -> None:
    tags = {type(event).__name__: msgspec.json.decode(encode(event))["type"] for event in every_event()}
    assert tags == {
        "WebrtcAnswerOut": "webrtc-answer",
        "MonitoringStarted": "monitoring-started",
        "ServerOffer": "webrtc-offer",
        "PeerConnected": "peer-connected",
        "ForwardingChanged": "forwarding-changed",
        "WarningMessage": "warning",
        "WarningSent": "warning-sent",
        "Terminated": "terminated",
        "TestEnded": "test-ended",
        "DeadlineChanged": "deadline-changed",
        "ViolationEvent": "violation",
        "ViolationReceived": "violation-received",
        "StudentStatus": "student-status",
        "ErrorMessage": "error",
        "AttemptEnded": "attempt-ended",
        "SessionsEnded": "sessions-ended",
    }


def test_student_status_without_an_observation_omits_the_key() -> None:
    wire = msgspec.json.decode(
        encode(StudentStatus(attempt_id=7, connected=False, camera_ok=False, open_violations=[]))
    )
    assert wire == {
        "type": "student-status",
        "attempt_id": 7,
        "connected": False,
        "camera_ok": False,
        "open_violations": [],
    }

    seen = StudentStatus(
        attempt_id=7,
        connected=True,
        camera_ok=True,
        open_violations=[],
        last_observation=LastObservation(faces=1, dark=False),
    )
    assert msgspec.json.decode(encode(seen))["last_observation"] == {"faces": 1, "dark": False}


def test_an_error_message_omits_attempt_status_when_none() -> None:
    plain = ErrorMessage(status=400, title="Bad Request", detail="unknown attempt", code="bad_message")
    assert msgspec.json.decode(encode(plain)) == {
        "type": "error",
        "status": 400,
        "title": "Bad Request",
        "detail": "unknown attempt",
        "code": "bad_message",
    }
    closed = msgspec.structs.replace(plain, status=409, attempt_status="terminated")
    assert msgspec.json.decode(encode(closed))["attempt_status"] == "terminated"


def test_a_bus_event_does_not_decode_as_anything_but_an_event() -> None:
    with pytest.raises(msgspec.ValidationError):
        decode_event(b'{"type": "watch", "attempt_id": 7}')  # inbound only
    with pytest.raises(msgspec.ValidationError):
        decode_event(b'{"type": "attempt-ended", "attempt_id": "seven", "status": "x", "reason": null}')


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            '{"type": "webrtc-offer", "attempt_id": 7, "sdp": "v=0 o=- 1 1 IN"}',
            WebrtcOffer(attempt_id=7, sdp="v=0 o=- 1 1 IN"),
        ),
        ('{"type": "webrtc-answer", "sdp": "v=0 o=- 1 1 IN"}', WebrtcAnswer(sdp="v=0 o=- 1 1 IN")),
        ('{"type": "watch", "attempt_id": 7}', Watch(attempt_id=7)),
        ('{"type": "watch-test", "test_id": 3}', WatchTest(test_id=3)),
        ('{"type": "warn", "attempt_id": 7, "message": "eyes up"}', Warn(attempt_id=7, message="eyes up")),
        (
            '{"type": "terminate", "attempt_id": 7, "reason": "phone"}',
            Terminate(attempt_id=7, reason="phone"),
        ),
        ('{"type": "pause", "attempt_ids": [7, 8]}', Pause(attempt_ids=[7, 8])),
        ('{"type": "resume", "attempt_ids": []}', Resume(attempt_ids=[])),
    ],
)
def test_client_messages_decode_into_their_structs(raw: str, expected: object) -> None:
    assert decode_client_message(raw) == expected
    assert decode_client_message(raw.encode()) == expected


@pytest.mark.parametrize(
    ("raw", "match"),
    [
        ('{"type": "watch", "attempt_id": 7, "admin": true}', "unknown field `admin`"),
        ('{"type": "warn", "attempt_id": 7, "message": "hi", "to": "everyone"}', "unknown field `to`"),
        ('{"type": "sudo", "attempt_id": 7}', "Invalid value 'sudo'"),
        ('{"type": "monitoring-started", "attempt_id": 7}', "Invalid value 'monitoring-started'"),
        ('{"attempt_id": 7}', "missing required field `type`"),
        ('{"type": "watch", "attempt_id": 0}', "Expected `int` >= 1"),
        ('{"type": "warn", "attempt_id": 7, "message": ""}', "Expected `str` of length >= 1"),
        ('{"type": "webrtc-answer", "sdp": "short"}', "Expected `str` of length >= 10"),
        ('{"type": "pause", "attempt_ids": [0]}', "Expected `int` >= 1"),
        ('{"type": "pause", "attempt_ids": [' + ",".join(["1"] * 501) + "]}", "length <= 500"),
    ],
)
def test_client_messages_of_unknown_fields_types_or_values_are_refused(raw: str, match: str) -> None:
    with pytest.raises(msgspec.ValidationError, match=match):
        decode_client_message(raw)


def test_a_client_message_that_is_not_json_is_a_decode_error() -> None:
    with pytest.raises(msgspec.DecodeError) as refused:
        decode_client_message("watch 7")
    assert not isinstance(refused.value, msgspec.ValidationError)  # not JSON, not a wrong shape


async def test_events_of_a_topic_left_are_not_delivered_after_replace() -> None:
    bus = EventBus()
    teacher = bus.subscribe([teachers_topic(1)])
    bus.publish(teachers_topic(1), started(1))  # queued, not yet read by the socket's forwarder
    teacher.replace(keep=lambda topic: False, topics=[teachers_topic(2)])
    bus.publish(teachers_topic(2), started(2))
    assert await teacher.next() == started(2)
    assert teacher.drain() == []


def test_a_users_sessions_ending_reaches_every_subscription_of_that_user_only() -> None:
    bus = EventBus()
    tabs = [bus.subscribe([user_topic(3)]) for _ in range(2)]
    someone_else = bus.subscribe([user_topic(4)])
    assert bus.publish(user_topic(3), SessionsEnded(user_id=3, reason="signed_out")) == 2
    assert [tab.drain() for tab in tabs] == [[SessionsEnded(user_id=3, reason="signed_out")]] * 2
    assert someone_else.drain() == []
