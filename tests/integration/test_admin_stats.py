"""``GET /api/admin/stats`` and ending a user's sessions, over HTTP against a real server."""

from __future__ import annotations

import httpx

from tests.support.api import Api, new_test_payload, published_test, started_attempt


async def test_stats_count_users_tests_attempts_and_violations(api: Api) -> None:
    admin = await api.user("admin")
    teacher = await api.user("teacher")
    student = await api.user("student")
    idle = await api.user("student")
    await api.user("auditor")
    test = await published_test(teacher)
    draft = await teacher.post("/api/tests", json=new_test_payload(title="Draft"))
    assert draft.status_code == 201, draft.text
    attempt = await started_attempt(student, test["id"])
    reported = await student.post(
        "/api/violations", json={"attempt_id": attempt["attempt_id"], "type": "tab_switch"}
    )
    assert reported.status_code == 201, reported.text
    assert (await admin.patch(f"/api/users/{idle.id}", json={"is_active": False})).status_code == 200

    response = await admin.get("/api/admin/stats")
    assert response.status_code == 200, response.text
    stats = response.json()
    assert stats["users"] == {
        "total": 5,
        "active": 4,
        "by_role": {"student": 2, "teacher": 1, "admin": 1, "auditor": 1},
    }
    assert stats["tests"] == {"total": 2, "published": 1}
    assert stats["attempts_in_progress"] == 1
    assert stats["violations_last_hour"] == 1
    assert stats["database"] == "ok"
    live = stats["live"]
    assert live["publishers"] == 0 and live["viewers"] == 0
    assert live["frames_per_second"] == 0 and live["inference_latency_ms"] is None
    assert live["frames_forwarded"] == 0 and live["frames_held_back"] == 0
    # The same answer as GET /api/ai/health gives.
    ai = (await admin.get("/api/ai/health")).json()
    assert stats["ai"]["provider"] == ai["provider"] and stats["ai"]["reachable"] == ai["reachable"]


async def test_stats_are_for_admins_only(api: Api, client: httpx.AsyncClient) -> None:
    anonymous = await client.get("/api/admin/stats")
    assert anonymous.status_code == 401
    for role in ("student", "teacher", "auditor"):
        denied = await (await api.user(role)).get("/api/admin/stats")
        assert denied.status_code == 403
        assert denied.headers["content-type"] == "application/problem+json"


async def test_the_stats_route_is_documented(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/schema/openapi.json")).json()
    operation = spec["paths"]["/api/admin/stats"]["get"]
    assert "200" in operation["responses"]


async def test_ending_sessions_signs_the_user_out_everywhere(api: Api, client: httpx.AsyncClient) -> None:
    admin = await api.user("admin")
    student = await api.user("student")
    assert (await student.get("/api/auth/me")).status_code == 200

    ended = await admin.post(f"/api/users/{student.id}/sessions/revoke")
    assert ended.status_code == 204, ended.text

    assert (await student.get("/api/auth/me")).status_code == 401
    refreshed = await client.post("/api/auth/refresh", json={"refresh_token": student.refresh_token})
    assert refreshed.status_code == 401
    # The account itself stays usable: a new sign-in works.
    again = await api.login(student.email)
    assert (await again.get("/api/auth/me")).status_code == 200
    audit = (await admin.get("/api/audit-log", params={"action": "user.sessions_revoke"})).json()
    assert [entry["object_id"] for entry in audit["items"]] == [student.id]

    missing = await admin.post("/api/users/999999/sessions/revoke")
    assert missing.status_code == 404
