"""The live channel /ws/proctor against hostile and revoked clients, on a real server: malformed
SDP is refused and the socket stays usable; a user whose sessions end, who is deactivated or
whose role changes is closed out (4401, 4403) with their media torn down, even when the news
came from another process; a flooding socket is refused (429), then closed (4429), and does not
hold up anyone else; an oversized message is refused."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from aiortc import RTCPeerConnection, RTCSessionDescription
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed, InvalidStatus

from protolearn.accounts.schemas import Principal, UserUpdate
from protolearn.config import Settings
from protolearn.store.database import create_engine, create_sessionmaker
from protolearn.store.users import Role
from tests.support.api import Actor, Api, accounts_service, published_test, started_attempt
from tests.support.live import exchange, live, publish_over, receive_until, until, watch_over
from tests.support.peers import FaceCamera, Tone
from tests.support.sdp import malformed
from tests.support.server import running_server


@pytest.fixture
async def exam(api: Api) -> dict[str, Any]:
    teacher = await api.user("teacher")
    test = await published_test(teacher)
    students = [await api.user("student") for _ in range(2)]
    attempts = [await started_attempt(student, test["id"]) for student in students]
    return {
        "admin": await api.user("admin"),
        "teacher": teacher,
        "test": test,
        "students": students,
        "attempts": [attempt["attempt_id"] for attempt in attempts],
    }


async def media_counts(admin: Actor, expected: tuple[int, int], within: float = 20.0) -> None:
    """Waits until the server counts `expected` (publishers, viewers); fails after `within` s."""
    seen = None
    async with asyncio.timeout(within):
        while seen != expected:
            response = await admin.get("/api/admin/stats")
            assert response.status_code == 200, response.text
            seen = (response.json()["live"]["publishers"], response.json()["live"]["viewers"])
            await asyncio.sleep(0 if seen == expected else 0.1)


async def close_code(socket: ClientConnection, within: float = 20.0) -> int | None:
    """Reads (and drops) messages until the server closes the socket; its close code."""
    with contextlib.suppress(ConnectionClosed):
        async with asyncio.timeout(within):
            while True:
                await socket.recv()
    return socket.close_code


async def student_offer() -> tuple[RTCPeerConnection, str]:
    student = RTCPeerConnection()
    student.addTrack(FaceCamera())
    student.addTrack(Tone())
    await student.setLocalDescription(await student.createOffer())
    return student, str(student.localDescription.sdp)


async def server_offer(socket: ClientConnection, attempt_id: int) -> RTCPeerConnection:
    """A teacher's connection with the server's offer applied and an answer made."""
    await socket.send(json.dumps({"type": "watch", "attempt_id": attempt_id}))
    offer = (await receive_until(socket, "webrtc-offer"))[-1]
    teacher = RTCPeerConnection()
    await teacher.setRemoteDescription(RTCSessionDescription(sdp=offer["sdp"], type="offer"))
    await teacher.setLocalDescription(await teacher.createAnswer())
    return teacher


async def test_malformed_sdp_is_refused_and_a_correct_one_works_on_the_same_socket(
    base_url: str, exam: dict[str, Any]
) -> None:
    admin, attempt_id = exam["admin"], exam["attempts"][0]
    template, offer = await student_offer()
    async with live(base_url, exam["students"][0]) as socket:
        for name, broken in malformed(offer).items():
            [reply] = await exchange(
                socket, {"type": "webrtc-offer", "attempt_id": attempt_id, "sdp": broken}
            )
            assert (reply["type"], reply["status"], reply["code"]) == ("error", 422, "NegotiationFailed"), (
                name
            )
            assert (reply["in_reply_to"], reply["attempt_id"]) == ("webrtc-offer", attempt_id)
        await media_counts(admin, (0, 0))
        student = await publish_over(socket, attempt_id)
        await until(lambda: student.connectionState == "connected")

        async with live(base_url, exam["teacher"]) as teacher_socket:
            teacher = await server_offer(teacher_socket, attempt_id)
            answers = malformed(str(teacher.localDescription.sdp))
            await teacher.close()
            for name in ("cut in half", "an m= line of words", "its codec lines removed", "no setup line"):
                teacher = await server_offer(teacher_socket, attempt_id)
                await teacher_socket.send(json.dumps({"type": "webrtc-answer", "sdp": answers[name]}))
                reply = (await receive_until(teacher_socket, "error"))[-1]
                assert (reply["status"], reply["code"], reply["in_reply_to"]) == (
                    422,
                    "NegotiationFailed",
                    "webrtc-answer",
                ), name
                await media_counts(admin, (1, 0))  # the half-made viewer is gone
                await teacher.close()
            viewer, frames = await watch_over(teacher_socket, {"type": "watch", "attempt_id": attempt_id})
            await until(lambda: len(frames) >= 5)
            await media_counts(admin, (1, 1))
            await viewer.close()
        await student.close()
    await template.close()


async def test_ended_sessions_close_every_socket_of_the_user_and_end_their_media(
    base_url: str, exam: dict[str, Any]
) -> None:
    admin, teacher, student = exam["admin"], exam["teacher"], exam["students"][0]
    attempt_id = exam["attempts"][0]
    async with (
        live(base_url, student) as student_socket,
        live(base_url, teacher) as watching,
        live(base_url, teacher) as idle,
    ):
        connection = await publish_over(student_socket, attempt_id)
        viewer, frames = await watch_over(watching, {"type": "watch", "attempt_id": attempt_id})
        await until(lambda: len(frames) >= 5)
        await media_counts(admin, (1, 1))

        revoked = await admin.post(f"/api/users/{teacher.id}/sessions/revoke")
        assert revoked.status_code == 204, revoked.text
        assert await close_code(watching) == 4401
        assert await close_code(idle) == 4401
        await until(lambda: viewer.connectionState == "closed")
        await media_counts(admin, (1, 0))  # the student streams on
        assert await exchange(student_socket, {"type": "ice-candidate"}, 0) == []

        revoked = await admin.post(f"/api/users/{student.id}/sessions/revoke")
        assert revoked.status_code == 204, revoked.text
        assert await close_code(student_socket) == 4401
        await until(lambda: connection.connectionState == "closed")
        await media_counts(admin, (0, 0))
        await viewer.close()

    with pytest.raises(InvalidStatus):  # the old token opens nothing
        async with live(base_url, student):
            pass


async def test_deactivation_and_a_changed_role_close_with_4403(
    api: Api, base_url: str, exam: dict[str, Any]
) -> None:
    admin, teacher, student = exam["admin"], exam["teacher"], exam["students"][0]
    async with live(base_url, student) as student_socket, live(base_url, teacher) as teacher_socket:
        connection = await publish_over(student_socket, exam["attempts"][0])
        viewer, _ = await watch_over(teacher_socket, {"type": "watch", "attempt_id": exam["attempts"][0]})
        await until(lambda: "connected" == connection.connectionState == viewer.connectionState)

        changed = await admin.patch(f"/api/users/{teacher.id}", json={"role": "auditor"})
        assert changed.status_code == 200, changed.text
        assert await close_code(teacher_socket) == 4403
        await until(lambda: viewer.connectionState == "closed")

        changed = await admin.patch(f"/api/users/{student.id}", json={"is_active": False})
        assert changed.status_code == 200, changed.text
        assert await close_code(student_socket) == 4403
        await until(lambda: connection.connectionState == "closed")
        await media_counts(admin, (0, 0))
    # Renaming someone changes nothing for their sockets.
    other = exam["students"][1]
    async with live(base_url, other) as socket:
        renamed = await admin.patch(f"/api/users/{other.id}", json={"name": "Renamed Student"})
        assert renamed.status_code == 200, renamed.text
        assert await exchange(socket, {"type": "ice-candidate"}, 0) == []
        [reply] = await exchange(socket, {"type": "watch", "attempt_id": exam["attempts"][1]})
        assert reply["code"] == "PermissionDenied"  # answered: the socket is still open


async def test_a_password_change_closes_every_socket_and_the_new_token_reconnects(
    api: Api, base_url: str, exam: dict[str, Any]
) -> None:
    student, attempt_id = exam["students"][0], exam["attempts"][0]
    async with live(base_url, student) as publishing, live(base_url, student) as other_tab:
        connection = await publish_over(publishing, attempt_id)
        await until(lambda: connection.connectionState == "connected")  # a close is then told
        changed = await student.post(
            "/api/auth/password",
            json={"current_password": student.password, "new_password": "a new battery staple"},
        )
        assert changed.status_code == 200, changed.text
        assert await close_code(publishing) == 4401
        assert await close_code(other_tab) == 4401
        await until(lambda: connection.connectionState == "closed")
        await connection.close()

    student.access_token = changed.json()["access_token"]
    async with live(base_url, student) as socket:  # the page that asked reconnects
        connection = await publish_over(socket, attempt_id)
        await connection.close()


async def by_another_process(settings: Settings, admin: Actor, user_id: int, change: str) -> None:
    """What the command line does: the accounts service on its own connection, no live events."""
    engine = create_engine(settings.database_url)
    actor = Principal(user_id=admin.id, role=Role.ADMIN, email=admin.email, name="Admin")
    try:
        async with create_sessionmaker(engine)() as session:
            accounts = accounts_service(session, settings)
            if change == "sessions":
                await accounts.end_sessions(actor, user_id, "cli")
            else:
                update = msgspec.convert({"is_active": False}, UserUpdate)
                await accounts.update_user(actor, user_id, update, "cli")
    finally:
        await engine.dispose()


async def test_a_revocation_the_socket_did_not_hear_of_is_caught_at_its_next_request(
    settings: Settings, base_url: str, exam: dict[str, Any]
) -> None:
    admin, teacher, student = exam["admin"], exam["teacher"], exam["students"][0]
    async with live(base_url, student) as student_socket, live(base_url, teacher) as teacher_socket:
        await by_another_process(settings, admin, student.id, "deactivate")
        _, offer = await student_offer()
        await student_socket.send(
            json.dumps({"type": "webrtc-offer", "attempt_id": exam["attempts"][0], "sdp": offer})
        )
        assert await close_code(student_socket) == 4403

        await by_another_process(settings, admin, teacher.id, "sessions")
        await teacher_socket.send(json.dumps({"type": "watch-test", "test_id": exam["test"]["id"]}))
        assert await close_code(teacher_socket) == 4401
    await media_counts(admin, (0, 0))


async def test_an_oversized_message_is_refused_and_the_socket_stays_open(
    base_url: str, exam: dict[str, Any]
) -> None:
    attempt_id = exam["attempts"][0]
    async with live(base_url, exam["students"][0]) as socket:
        huge = {"type": "webrtc-offer", "attempt_id": attempt_id, "sdp": "v=0\r\n" + "a=x\r\n" * 20_000}
        [reply] = await exchange(socket, huge)
        assert (reply["type"], reply["status"], reply["code"]) == ("error", 413, "MessageTooLarge")
        connection = await publish_over(socket, attempt_id)
        await connection.close()


STRICT = {"live_message_burst": 5, "live_messages_per_second": 0.01, "live_flood_refusals": 600}


@pytest.fixture
async def strict_url(settings: Settings) -> AsyncIterator[str]:
    """A server allowing each socket 5 messages at once and almost none after."""
    async with running_server(msgspec.structs.replace(settings, **STRICT)) as url:
        yield url


async def test_a_socket_over_its_budget_is_refused_then_closed_and_others_go_on(
    api: Api, strict_url: str
) -> None:
    teacher = await api.user("teacher")
    test = await published_test(teacher)
    student, flooder = await api.user("student"), await api.user("student")
    attempt_id = (await started_attempt(student, test["id"]))["attempt_id"]

    async with live(strict_url, flooder) as socket:
        replies = [(await exchange(socket, {"type": "watch", "attempt_id": attempt_id}))[0] for _ in range(8)]
        assert [reply["code"] for reply in replies[:5]] == ["PermissionDenied"] * 5  # processed
        assert [(reply["status"], reply["code"]) for reply in replies[5:]] == [(429, "RateLimited")] * 3

    async with (
        live(strict_url, student) as student_socket,
        live(strict_url, teacher) as teacher_socket,
        live(strict_url, flooder) as flooding,
    ):
        connection = await publish_over(student_socket, attempt_id)
        refused: list[dict[str, Any]] = []

        async def read_refusals() -> None:
            with contextlib.suppress(ConnectionClosed):
                async for raw in flooding:
                    refused.append(json.loads(raw))

        reader = asyncio.create_task(read_refusals())
        for _ in range(300):
            await flooding.send('{"type": "ice-candidate"}')
        # Meanwhile a teacher's warning reaches the student.
        warn = {"type": "warn", "attempt_id": attempt_id, "message": "Eyes on your screen"}
        [sent] = await exchange(teacher_socket, warn)
        assert sent == {"type": "warning-sent", "attempt_id": attempt_id, "delivered": True}
        assert (await receive_until(student_socket, "warning"))[-1]["message"] == "Eyes on your screen"

        with contextlib.suppress(ConnectionClosed):
            for _ in range(5000):
                await flooding.send('{"type": "ice-candidate"}')
        await asyncio.wait_for(reader, 20)
        assert flooding.close_code == 4429
        assert {reply["code"] for reply in refused} == {"RateLimited"}
        assert len(refused) >= STRICT["live_flood_refusals"]
        await connection.close()
