"""The live channel /ws/proctor on a real server: a student publishes over WebRTC, a teacher
watches through the relay, and nobody reaches a stream that is not theirs."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Any

import av
import pytest
from aiortc import RTCPeerConnection
from websockets.exceptions import InvalidStatus

from tests.support.api import Api, published_test, started_attempt
from tests.support.live import exchange, live, publish_over, receive_until, until, until_face_seen, watch_over
from tests.support.peers import FaceCamera, SceneSwitch, Tone


@pytest.fixture
async def exam(api: Api) -> dict[str, Any]:
    teacher = await api.user("teacher")
    test = await published_test(teacher)
    students = [await api.user("student") for _ in range(2)]
    attempts = [await started_attempt(student, test["id"]) for student in students]
    return {"teacher": teacher, "test": test, "students": students, "attempts": attempts}


async def test_a_teacher_watches_a_student_through_the_server(base_url: str, exam: dict[str, Any]) -> None:
    attempt_id = exam["attempts"][0]["attempt_id"]
    async with (
        live(base_url, exam["students"][0]) as student_socket,
        live(base_url, exam["teacher"]) as teacher_socket,
    ):
        student = await publish_over(student_socket, attempt_id)
        teacher, frames = await watch_over(teacher_socket, {"type": "watch", "attempt_id": attempt_id})
        await until(lambda: len(frames) >= 10)
        assert frames[-1][1].width == 640
        await teacher.close()
        await student.close()


async def test_a_teacher_watches_the_whole_class(base_url: str, exam: dict[str, Any]) -> None:
    async with (
        live(base_url, exam["students"][0]) as first,
        live(base_url, exam["students"][1]) as second,
        live(base_url, exam["teacher"]) as teacher_socket,
    ):
        students = [
            await publish_over(first, exam["attempts"][0]["attempt_id"]),
            await publish_over(second, exam["attempts"][1]["attempt_id"]),
        ]
        teacher, frames = await watch_over(
            teacher_socket, {"type": "watch-test", "test_id": exam["test"]["id"]}
        )
        await until(lambda: len({track for track, _ in frames}) == 2)
        await teacher.close()
        for student in students:
            await student.close()


async def test_nobody_reaches_a_stream_that_is_not_theirs(
    api: Api, base_url: str, exam: dict[str, Any]
) -> None:
    own, other = exam["attempts"][0]["attempt_id"], exam["attempts"][1]["attempt_id"]
    stranger = await api.user("teacher")
    auditor = await api.user("auditor")
    offer = {"type": "webrtc-offer", "attempt_id": other, "sdp": "v=0 not used before the check"}

    async with live(base_url, exam["students"][0]) as student_socket:
        [reply] = await exchange(student_socket, offer)
        assert (reply["type"], reply["status"], reply["code"]) == ("error", 404, "AttemptNotFound")
        # A refusal names the request it answers.
        assert (reply["in_reply_to"], reply["attempt_id"]) == ("webrtc-offer", other)
        [reply] = await exchange(student_socket, {"type": "watch", "attempt_id": own})
        assert (reply["status"], reply["code"]) == (403, "PermissionDenied")
        assert (reply["in_reply_to"], reply["attempt_id"]) == ("watch", own)
        [reply] = await exchange(
            student_socket, {"type": "webrtc-offer", "attempt_id": own, "sdp": "v=0 broken sdp"}
        )
        assert (reply["status"], reply["code"]) == (422, "NegotiationFailed")
        [reply] = await exchange(student_socket, {"type": "teleport"})
        assert (reply["status"], reply["code"]) == (422, "InvalidMessage")
        await student_socket.send("not json")
        reply = json.loads(await student_socket.recv())
        assert (reply["status"], reply["code"]) == (422, "InvalidMessage")
        # The socket survives bad messages.
        assert await exchange(student_socket, {"type": "ice-candidate", "candidate": None}, 0) == []

    for outsider in (stranger, auditor):
        async with live(base_url, outsider) as socket:
            [reply] = await exchange(socket, {"type": "watch", "attempt_id": own})
            assert reply["status"] in (403, 404), reply
            [reply] = await exchange(socket, {"type": "watch-test", "test_id": exam["test"]["id"]})
            assert reply["status"] in (403, 404), reply

    with pytest.raises(InvalidStatus):
        async with live(base_url, None):
            pass


async def test_a_finished_attempt_cannot_publish(api: Api, base_url: str, exam: dict[str, Any]) -> None:
    student, attempt_id = exam["students"][0], exam["attempts"][0]["attempt_id"]
    response = await student.post(f"/api/tests/{exam['test']['id']}/submit", json={"attempt_id": attempt_id})
    assert response.status_code == 200, response.text
    async with live(base_url, student) as socket:
        [reply] = await exchange(
            socket, {"type": "webrtc-offer", "attempt_id": attempt_id, "sdp": "v=0 x" * 3}
        )
    assert (reply["status"], reply["code"], reply["attempt_status"]) == (409, "AttemptClosed", "submitted")


async def test_an_empty_seat_becomes_a_violation_with_evidence_the_teacher_sees(
    api: Api, base_url: str, exam: dict[str, Any]
) -> None:
    student, teacher = exam["students"][0], exam["teacher"]
    attempt_id = exam["attempts"][0]["attempt_id"]
    empty_seat = FaceCamera(away=lambda seconds: 2.0 <= seconds < 7.0)

    async def violations() -> list[dict[str, Any]]:
        response = await teacher.get(f"/api/violations/{attempt_id}")
        assert response.status_code == 200, response.text
        return list(response.json())

    async with live(base_url, student) as socket:
        connection = await publish_over(socket, attempt_id, camera=empty_seat, microphone=Tone(amplitude=0.0))
        deadline = asyncio.get_running_loop().time() + 30
        found: list[dict[str, Any]] = []
        while not any(v["evidence_id"] for v in found):
            assert asyncio.get_running_loop().time() < deadline, found
            await asyncio.sleep(0.5)
            found = await violations()
        await connection.close()

    [violation] = found
    assert (violation["type"], violation["source"], violation["severity"]) == ("no_face", "server", "medium")
    assert violation["ended_at"] is not None

    # An auditor plays the real clip the way a video element does (Range), then dismisses it.
    auditor = await api.user("auditor")
    head = await auditor.get(
        f"/api/evidence/{violation['evidence_id']}/video", headers={"Range": "bytes=0-1023"}
    )
    assert head.status_code == 206
    size = int(head.headers["content-range"].rsplit("/", 1)[1])
    assert head.content[:4] == b"\x1a\x45\xdf\xa3" and size > 10_000  # a WebM of several seconds
    rest = await auditor.get(
        f"/api/evidence/{violation['evidence_id']}/video", headers={"Range": "bytes=1024-"}
    )
    clip = head.content + rest.content
    assert len(clip) == size
    with av.open(io.BytesIO(clip)) as container:
        frames = sum(1 for _ in container.decode(container.streams.video[0]))
    assert frames >= 5 * 15 * 0.8  # the 5 s gap at 15 fps, and more
    # On disk it is sealed: no WebM, no frame of the student's room, only AES-GCM chunks.
    [stored] = (api.settings.data_dir / "clips").rglob("*.webm")
    sealed = stored.read_bytes()
    assert sealed.startswith(b"PLSEAL1\n") and b"\x1a\x45\xdf\xa3" not in sealed
    assert clip[1024:5120] not in sealed
    dismissed = await auditor.post(
        f"/api/violations/{violation['id']}/review",
        json={"decision": "dismissed", "note": "went to get water"},
    )
    assert dismissed.status_code == 200, dismissed.text
    attempt = (await teacher.get(f"/api/attempts/{attempt_id}")).json()
    assert attempt["violation_count"] == 0
    response = await student.post(f"/api/tests/{exam['test']['id']}/submit", json={"attempt_id": attempt_id})
    assert response.status_code == 200, response.text


async def test_teachers_get_violations_live_and_can_warn_and_terminate(
    base_url: str, exam: dict[str, Any]
) -> None:
    student, teacher = exam["students"][0], exam["teacher"]
    attempt_id = exam["attempts"][0]["attempt_id"]
    seat = SceneSwitch()

    async with live(base_url, student) as student_socket, live(base_url, teacher) as teacher_socket:
        connection = await publish_over(
            student_socket, attempt_id, camera=FaceCamera(scene=seat), microphone=Tone(amplitude=0.0)
        )
        viewer, frames = await watch_over(teacher_socket, {"type": "watch", "attempt_id": attempt_id})
        await until_face_seen(teacher_socket)
        seat.scene = "empty"  # the student leaves, once the server is seen analysing the camera

        to_teacher = await receive_until(teacher_socket, "violation", within=60)
        seat.scene = "face"
        violation = to_teacher[-1]["violation"]
        assert (violation["attempt_id"], violation["type"], violation["source"]) == (
            attempt_id,
            "no_face",
            "server",
        )
        to_student = await receive_until(student_socket, "violation-received")
        assert to_student[-1]["violation"]["id"] == violation["id"]
        assert len(frames) > 0  # the teacher sees the student meanwhile

        warn = {"type": "warn", "attempt_id": attempt_id, "message": "Eyes on your screen"}
        await teacher_socket.send(json.dumps(warn))
        sent = (await receive_until(teacher_socket, "warning-sent"))[-1]
        assert sent == {"type": "warning-sent", "attempt_id": attempt_id, "delivered": True}
        warning = (await receive_until(student_socket, "warning"))[-1]
        assert warning["message"] == "Eyes on your screen"

        terminate = {"type": "terminate", "attempt_id": attempt_id, "reason": "phone on desk"}
        await teacher_socket.send(json.dumps(terminate))
        await receive_until(teacher_socket, "terminated")
        test_ended = (await receive_until(student_socket, "test-ended"))[-1]
        assert (test_ended["status"], test_ended["reason"]) == ("terminated", "phone on desk")
        await until(lambda: connection.connectionState == "closed", within=10)  # the stream closes
        await viewer.close()

    response = await student.get(f"/api/attempts/{attempt_id}")
    assert response.json()["status"] == "terminated"
    async with live(base_url, exam["students"][1]) as other_student:
        [reply] = await exchange(other_student, {"type": "warn", "attempt_id": attempt_id, "message": "x"})
        assert reply["status"] in (403, 404)


async def test_a_teacher_who_watches_again_hears_only_the_new_attempt(
    base_url: str, exam: dict[str, Any]
) -> None:
    first_id, second_id = (attempt["attempt_id"] for attempt in exam["attempts"])
    async with (
        live(base_url, exam["students"][0]) as first,
        live(base_url, exam["students"][1]) as second,
        live(base_url, exam["teacher"]) as teacher_socket,
    ):
        students = [await publish_over(first, first_id), await publish_over(second, second_id)]
        viewer, _ = await watch_over(teacher_socket, {"type": "watch", "attempt_id": first_id})
        heard = await receive_until(teacher_socket, "student-status")
        assert heard[-1]["attempt_id"] == first_id
        await viewer.close()

        viewer, _ = await watch_over(teacher_socket, {"type": "watch", "attempt_id": second_id})
        # Both students stream alike, so a leaked subscription would interleave the first's status.
        statuses: list[int] = []
        while statuses.count(second_id) < 3:
            heard = await receive_until(teacher_socket, "student-status")
            statuses += [m["attempt_id"] for m in heard if m["type"] == "student-status"]
            assert all(m["violation"]["attempt_id"] == second_id for m in heard if m["type"] == "violation")
        assert set(statuses) == {second_id}
        await viewer.close()
        for student in students:
            await student.close()


async def test_an_offer_without_video_is_refused_and_the_channel_stays_open(
    base_url: str, exam: dict[str, Any]
) -> None:
    attempt_id = exam["attempts"][0]["attempt_id"]
    audio_only = RTCPeerConnection()
    audio_only.addTrack(Tone())
    await audio_only.setLocalDescription(await audio_only.createOffer())
    async with live(base_url, exam["students"][0]) as socket:
        offer = {"type": "webrtc-offer", "attempt_id": attempt_id, "sdp": audio_only.localDescription.sdp}
        [reply] = await exchange(socket, offer)
        assert (reply["type"], reply["status"], reply["code"]) == ("error", 422, "NegotiationFailed")
        assert "camera" in reply["detail"]
        student = await publish_over(socket, attempt_id)  # the same socket still works
        await student.close()
    await audio_only.close()


async def told(socket: Any, message: dict[str, Any]) -> dict[str, Any]:
    """The server's forwarding-changed reply, past live events that come in between."""
    await socket.send(json.dumps(message))
    return (await receive_until(socket, "forwarding-changed"))[-1]


async def test_a_paused_tile_gets_no_video_until_it_is_resumed(base_url: str, exam: dict[str, Any]) -> None:
    attempt_id = exam["attempts"][0]["attempt_id"]
    watch = {"type": "watch", "attempt_id": attempt_id}
    async with (
        live(base_url, exam["students"][0]) as student_socket,
        live(base_url, exam["teacher"]) as paused_socket,
        live(base_url, exam["teacher"]) as reference_socket,
    ):
        student = await publish_over(student_socket, attempt_id)
        paused_viewer, paused_frames = await watch_over(paused_socket, watch)
        reference_viewer, reference_frames = await watch_over(reference_socket, watch)
        await until(lambda: len(paused_frames) >= 5 and len(reference_frames) >= 5)

        changed = await told(paused_socket, {"type": "pause", "attempt_ids": [attempt_id, 999]})
        assert changed == {"type": "forwarding-changed", "attempt_ids": [attempt_id], "paused": True}
        mark = len(reference_frames)
        await until(lambda: len(reference_frames) >= mark + 10)  # frames in flight have landed
        held = len(paused_frames)
        await until(lambda: len(reference_frames) >= mark + 40)
        assert len(paused_frames) == held  # the other viewer went on; this one got nothing

        changed = await told(paused_socket, {"type": "resume", "attempt_ids": [attempt_id]})
        assert changed == {"type": "forwarding-changed", "attempt_ids": [attempt_id], "paused": False}
        await until(lambda: len(paused_frames) >= held + 10)  # from the next keyframe on

        await student_socket.send(json.dumps({"type": "pause", "attempt_ids": [attempt_id]}))
        refused = (await receive_until(student_socket, "error"))[-1]
        assert refused["status"] == 403
        for peer in (paused_viewer, reference_viewer, student):
            await peer.close()
