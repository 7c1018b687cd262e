"""Requests an outside tester made to break the API: each answers a clear 4xx (or works), never
a 500. Ids past what a database holds, preflights without a token, wrongly shaped settings,
bodies nested to exhaust the parser, absurd Range headers."""

from __future__ import annotations

import asyncio

import httpx
import msgspec

from protolearn.config import Settings
from tests.integration.test_bad_input import assert_problem
from tests.support.api import PASSWORD, Api, new_test_payload, published_test, started_attempt
from tests.support.live import exchange, live
from tests.support.server import running_server

TOO_BIG = 2**31  # one past the largest id an INTEGER column holds on PostgreSQL
PAST_64_BITS = 2**63  # past SQLite's too
HUGE = 10**30


async def test_ids_past_what_a_database_holds_are_refused_as_invalid(api: Api, base_url: str) -> None:
    teacher = await api.user("teacher")
    student = await api.user("student")
    admin = await api.user("admin")
    for too_big in (TOO_BIG, PAST_64_BITS, HUGE):
        # In a path, a query and a body, for each kind of record.
        assert_problem(await teacher.get(f"/api/tests/{too_big}"), 400, "test_id")
        assert_problem(await student.post(f"/api/tests/{too_big}/start"), 400, "test_id")
        assert_problem(await teacher.get(f"/api/attempts/{too_big}"), 400, "attempt_id")
        assert_problem(await teacher.get(f"/api/violations/{too_big}"), 400, "attempt_id")
        assert_problem(await teacher.get(f"/api/questions/{too_big}"), 400, "question_id")
        assert_problem(await admin.patch(f"/api/users/{too_big}", json={"is_active": False}), 400, "user_id")
        assert_problem(await teacher.get(f"/api/ai/materials/{too_big}"), 400, "material_id")
        assert_problem(await teacher.get("/api/questions", params={"test_id": too_big}), 400, "test_id")
        assert_problem(await admin.get("/api/audit-log", params={"object_id": too_big}), 400, "object_id")
        generate = {"material_id": too_big, "num_questions": 1}
        assert_problem(await teacher.post("/api/ai/generate-questions", json=generate), 400, "material_id")
        event = {"attempt_id": too_big, "type": "tab_switch"}
        assert_problem(await student.post("/api/violations", json=event), 400, "attempt_id")

    # An answer keyed by such an id is refused too; the attempt itself is untouched.
    attempt = await started_attempt(student, (await published_test(teacher))["id"])
    saved = await student.put(
        f"/api/attempts/{attempt['attempt_id']}/answers", json={"answers": {str(TOO_BIG): "x"}}
    )
    assert_problem(saved, 400, "answers")

    # On the live channel, an attempt id that large is an invalid message; the socket stays open.
    async with live(base_url, teacher) as socket:
        [reply] = await exchange(socket, {"type": "watch", "attempt_id": TOO_BIG})
        assert (reply["type"], reply["status"], reply["code"]) == ("error", 422, "InvalidMessage")
        [reply] = await exchange(socket, {"type": "watch", "attempt_id": 999_999})
        assert (reply["status"], reply["code"]) == (404, "AttemptNotFound")


async def test_ids_below_one_name_nothing(api: Api) -> None:
    teacher = await api.user("teacher")
    for nothing in (0, -1):
        response = await teacher.get(f"/api/tests/{nothing}")
        assert response.status_code in (400, 404), response.text
        assert response.headers["content-type"] == "application/problem+json"


async def test_wrongly_shaped_proctoring_settings_are_named_in_a_400(api: Api) -> None:
    teacher = await api.user("teacher")
    for shape in ("strict", [1], {"rules": 3}, {"analysis_fps": "fast"}, {"rules": {"no_face_seconds": -1}}):
        created = await teacher.post("/api/tests", json=new_test_payload(proctoring=shape))
        assert_problem(created, 400, "proctoring")
    test = await published_test(teacher)
    updated = await teacher.put(f"/api/tests/{test['id']}", json={"proctoring": {"camera_required": "yes"}})
    assert_problem(updated, 400, "proctoring")


async def test_preflights_on_guarded_routes_answer_without_a_token(client: httpx.AsyncClient) -> None:
    for path in ("/api/users", "/api/users/1", "/api/questions", "/api/questions/1", "/api/audit-log"):
        response = await client.options(path)
        assert response.status_code == 204, (path, response.text)
        assert "OPTIONS" in response.headers["allow"]
    response = await client.options("/api/ai/upload-material")
    assert response.status_code == 204 and "POST" in response.headers["allow"]
    # The routes themselves still want a token.
    assert (await client.get("/api/users")).status_code == 401


async def test_json_nested_past_any_use_is_a_400(api: Api) -> None:
    teacher = await api.user("teacher")
    deep = b"[" * 100_000 + b"]" * 100_000
    for path in ("/api/auth/login", "/api/tests"):
        response = await teacher.post(path, content=deep, headers={"content-type": "application/json"})
        assert response.status_code == 400, (path, response.status_code, response.text[:200])
        assert response.headers["content-type"] == "application/problem+json"


async def test_every_answer_carries_the_security_headers(api: Api, client: httpx.AsyncClient) -> None:
    teacher = await api.user("teacher")
    login = await client.post("/api/auth/login", json={"email": teacher.email, "password": PASSWORD})
    listed = await teacher.get("/api/tests")
    refused = await client.get("/api/tests")
    for answer in (login, listed, refused):
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["referrer-policy"] == "no-referrer"
        assert answer.headers["cache-control"] == "no-store"  # tokens and personal data
        assert "frame-ancestors 'none'" in answer.headers["content-security-policy"]
    page = await client.get("/")
    assert page.headers["x-frame-options"] == "DENY"
    assert "script-src" in page.headers["content-security-policy"]  # the page's own policy stays
    assert page.headers["referrer-policy"] == "same-origin"


async def test_slow_clients_are_cut_off(settings: Settings) -> None:
    impatient = msgspec.structs.replace(
        settings, http_header_timeout_seconds=0.5, http_body_timeout_seconds=0.5
    )
    async with running_server(impatient) as url:
        host, port = url.removeprefix("http://").split(":")
        # A head that never ends: the server closes the connection.
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(b"GET /api/tests HTTP/1.1\r\nHost: school\r\nX-Trickle: a")
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), timeout=60) == b""
        writer.close()
        # A body that stops arriving: 408, with a problem-details body.
        reader, writer = await asyncio.open_connection(host, int(port))
        writer.write(
            b"POST /api/auth/login HTTP/1.1\r\nHost: school\r\nContent-Type: application/json\r\n"
            b'Content-Length: 100\r\n\r\n{"email": '
        )
        await writer.drain()
        answer = await asyncio.wait_for(reader.read(), timeout=60)
        writer.close()
        assert answer.startswith(b"HTTP/1.1 408 "), answer[:200]
        assert b"stopped arriving" in answer
        # Everyone else is served as before, and a live-channel socket outlives the head's deadline.
        async with httpx.AsyncClient(base_url=url) as fresh:
            assert (await fresh.get("/healthz")).status_code == 200
            student = await Api(fresh, impatient).user("student")
        async with live(url, student) as socket:
            await asyncio.sleep(2.0)  # four times the deadline
            [reply] = await exchange(socket, {"type": "teleport"})
            assert reply["type"] == "error"
