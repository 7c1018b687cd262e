"""Accounts over HTTP: sign-up rules, login, token rotation and reuse, logout, passwords, throttling."""

from __future__ import annotations

import base64
import json

import httpx
import pytest

from tests.support.api import PASSWORD, Api


def _claims(access_token: str) -> dict[str, object]:
    payload = access_token.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))))


async def test_register_login_and_me(api: Api, client: httpx.AsyncClient) -> None:
    registered = await client.post(
        "/api/auth/register", json={"email": " Ada@School.TEST ", "password": PASSWORD, "name": "Ada"}
    )
    assert registered.status_code == 201, registered.text
    assert registered.json()["role"] == "student"
    assert registered.json()["email"] == "ada@school.test"
    assert "password" not in registered.text and "hash" not in registered.text

    login = await client.post("/api/auth/login", json={"email": "ADA@school.test", "password": PASSWORD})
    assert login.status_code == 200
    body = login.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 900
    claims = _claims(body["access_token"])
    assert {"sub", "role", "exp", "jti", "iat"} <= claims.keys()
    assert claims["role"] == "student" and claims["sub"] == str(body["user"]["id"])
    assert float(claims["exp"]) - float(claims["iat"]) == pytest.approx(900)  # type: ignore[arg-type]
    assert _claims(body["access_token"]) != _claims(
        (
            await client.post("/api/auth/login", json={"email": "ada@school.test", "password": PASSWORD})
        ).json()["access_token"]
    )  # a fresh jti every time

    headers = {"Authorization": f"Bearer {body['access_token']}"}
    assert (await client.get("/api/auth/me", headers=headers)).json()["name"] == "Ada"
    renamed = await client.patch("/api/auth/me", headers=headers, json={"name": "Ada L."})
    assert renamed.json()["name"] == "Ada L."


async def test_duplicate_email_and_privileged_roles_are_refused(client: httpx.AsyncClient) -> None:
    payload = {"email": "x@school.test", "password": PASSWORD, "name": "X"}
    assert (await client.post("/api/auth/register", json=payload)).status_code == 201
    duplicate = await client.post("/api/auth/register", json=payload | {"email": "X@SCHOOL.test"})
    assert duplicate.status_code == 409
    assert duplicate.headers["content-type"] == "application/problem+json"
    for role in ("admin", "auditor"):
        refused = await client.post(
            "/api/auth/register", json=payload | {"email": f"{role}@school.test", "role": role}
        )
        assert refused.status_code == 403, role
    teacher = await client.post(
        "/api/auth/register", json=payload | {"email": "t@school.test", "role": "teacher"}
    )
    assert teacher.status_code == 201


async def test_wrong_password_and_unknown_email_look_the_same(client: httpx.AsyncClient, api: Api) -> None:
    student = await api.user("student")
    wrong = await client.post("/api/auth/login", json={"email": student.email, "password": "wrong password"})
    unknown = await client.post(
        "/api/auth/login", json={"email": "nobody@school.test", "password": "wrong password"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json()["detail"] == unknown.json()["detail"]


async def test_refresh_rotates_and_reuse_revokes_the_family(api: Api, client: httpx.AsyncClient) -> None:
    student = await api.user("student")
    first = student.refresh_token
    rotated = await client.post("/api/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    second = rotated.json()["refresh_token"]
    assert second != first
    assert (
        await client.get(
            "/api/auth/me", headers={"Authorization": f"Bearer {rotated.json()['access_token']}"}
        )
    ).status_code == 200

    # Someone replays the first token: refused, and the legitimate newer token dies with it.
    replay = await client.post("/api/auth/refresh", json={"refresh_token": first})
    assert replay.status_code == 401
    assert "already used" in replay.json()["detail"]
    assert (await client.post("/api/auth/refresh", json={"refresh_token": second})).status_code == 401

    # Another login (another family) is untouched.
    other = await api.login(student.email)
    assert (
        await client.post("/api/auth/refresh", json={"refresh_token": other.refresh_token})
    ).status_code == 200

    audit_admin = await api.user("admin")
    entries = (await audit_admin.get("/api/audit-log", params={"action": "token.reuse_detected"})).json()
    assert [e["object_id"] for e in entries["items"]] == [student.id]


async def test_logout_revokes_the_refresh_token(api: Api, client: httpx.AsyncClient) -> None:
    student = await api.user("student")
    assert (
        await client.post("/api/auth/logout", json={"refresh_token": student.refresh_token})
    ).status_code == 204
    assert (
        await client.post("/api/auth/refresh", json={"refresh_token": student.refresh_token})
    ).status_code == 401
    # Logging out twice, or with garbage, reveals nothing.
    assert (
        await client.post("/api/auth/logout", json={"refresh_token": student.refresh_token})
    ).status_code == 204
    assert (await client.post("/api/auth/logout", json={"refresh_token": "garbage"})).status_code == 204


async def test_password_change_ends_other_sessions(api: Api, client: httpx.AsyncClient) -> None:
    student = await api.user("student")
    other_device = await api.login(student.email)
    wrong = await student.post(
        "/api/auth/password", json={"current_password": "nope nope", "new_password": "n3w password"}
    )
    assert wrong.status_code == 401

    changed = await student.post(
        "/api/auth/password", json={"current_password": PASSWORD, "new_password": "n3w password!"}
    )
    assert changed.status_code == 200
    fresh = changed.json()
    # Old access tokens and refresh tokens, on every device, stop working at once.
    assert (await student.get("/api/auth/me")).status_code == 401
    assert (await other_device.get("/api/auth/me")).status_code == 401
    assert (
        await client.post("/api/auth/refresh", json={"refresh_token": other_device.refresh_token})
    ).status_code == 401
    # The pair handed back by the change works, and so does the new password.
    assert (
        await client.get("/api/auth/me", headers={"Authorization": f"Bearer {fresh['access_token']}"})
    ).status_code == 200
    assert (
        await client.post("/api/auth/login", json={"email": student.email, "password": PASSWORD})
    ).status_code == 401
    await api.login(student.email, "n3w password!")


async def test_deactivated_account_loses_access_immediately(api: Api, client: httpx.AsyncClient) -> None:
    admin, student = await api.user("admin"), await api.user("student")
    assert (await student.get("/api/auth/me")).status_code == 200
    deactivated = await admin.patch(f"/api/users/{student.id}", json={"is_active": False})
    assert deactivated.status_code == 200 and deactivated.json()["is_active"] is False
    assert (await student.get("/api/auth/me")).status_code == 401
    assert (
        await client.post("/api/auth/refresh", json={"refresh_token": student.refresh_token})
    ).status_code == 401
    login = await client.post("/api/auth/login", json={"email": student.email, "password": PASSWORD})
    assert login.status_code == 403


async def test_role_change_takes_effect_without_a_new_login(api: Api) -> None:
    admin, user = await api.user("admin"), await api.user("student")
    assert (await user.post("/api/tests", json={"title": "T", "time_limit": 5})).status_code == 403
    await admin.patch(f"/api/users/{user.id}", json={"role": "teacher"})
    assert (await user.post("/api/tests", json={"title": "T", "time_limit": 5})).status_code == 201


async def test_admins_cannot_lock_themselves_out(api: Api) -> None:
    admin = await api.user("admin")
    assert (await admin.patch(f"/api/users/{admin.id}", json={"role": "teacher"})).status_code == 409
    assert (await admin.patch(f"/api/users/{admin.id}", json={"is_active": False})).status_code == 409
    assert (await admin.delete(f"/api/users/{admin.id}")).status_code == 409
    assert (await admin.patch(f"/api/users/{admin.id}", json={"name": "Still Admin"})).status_code == 200


async def test_deleting_a_user_with_records_is_refused_not_cascaded(api: Api) -> None:
    admin, teacher, spare = await api.user("admin"), await api.user("teacher"), await api.user("student")
    await teacher.post("/api/tests", json={"title": "Kept", "time_limit": 5})
    refused = await admin.delete(f"/api/users/{teacher.id}")
    assert refused.status_code == 409
    assert "deactivate" in refused.json()["detail"]
    assert (await teacher.get("/api/tests")).json()["total"] == 1
    assert (await admin.delete(f"/api/users/{spare.id}")).status_code == 204
    listing = (await admin.get("/api/users", params={"search": "student"})).json()
    assert spare.id not in [u["id"] for u in listing["items"]]


async def test_admin_lists_and_creates_users(api: Api) -> None:
    admin = await api.user("admin")
    for _ in range(3):
        await api.user("student")
    created = await admin.post(
        "/api/users",
        json={"email": "aud@school.test", "password": PASSWORD, "name": "Aud", "role": "auditor"},
    )
    assert created.status_code == 201 and created.json()["role"] == "auditor"
    page = (await admin.get("/api/users", params={"role": "student", "page_size": 2})).json()
    assert page["total"] == 3 and len(page["items"]) == 2 and page["page_size"] == 2
    second = (await admin.get("/api/users", params={"role": "student", "page_size": 2, "page": 2})).json()
    assert len(second["items"]) == 1
    assert {u["role"] for u in page["items"] + second["items"]} == {"student"}


async def test_throttling_stops_a_guesser_not_the_class(api: Api, client: httpx.AsyncClient) -> None:
    student = await api.user("student")
    classmate = await api.user("student")
    limit = api.settings.login_max_failures
    for _ in range(limit):
        response = await client.post(
            "/api/auth/login", json={"email": student.email, "password": "wrong guess"}
        )
        assert response.status_code == 401
    blocked = await client.post("/api/auth/login", json={"email": student.email, "password": PASSWORD})
    assert blocked.status_code == 429
    assert int(blocked.headers["retry-after"]) >= 1
    assert blocked.json()["status"] == 429
    assert "try again in" in blocked.json()["detail"]
    # From the same address (the school's), everyone else signs in as before.
    beside = await client.post("/api/auth/login", json={"email": classmate.email, "password": PASSWORD})
    assert beside.status_code == 200, beside.text


async def test_bearer_header_must_be_well_formed(client: httpx.AsyncClient) -> None:
    for header in ("Basic abc", "Bearer", "Bearer not-a-jwt", "token"):
        response = await client.get("/api/auth/me", headers={"Authorization": header})
        assert response.status_code == 401, header
        assert response.headers["www-authenticate"] == "Bearer"
        assert response.json()["type"] == "about:blank"


async def test_browsers_refresh_and_log_out_with_the_httponly_cookie(api: Api, base_url: str) -> None:
    email = (await api.user("student")).user["email"]
    async with httpx.AsyncClient(base_url=base_url) as browser:
        login = await browser.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        set_cookie = login.headers["set-cookie"]
        assert set_cookie.startswith("protolearn_refresh=")
        attributes = {part.strip().split("=")[0].lower() for part in set_cookie.split(";")}
        assert {"httponly", "path", "max-age", "samesite"} <= attributes
        assert "Path=/api/auth" in set_cookie and "samesite=strict" in set_cookie.lower()
        assert "secure" not in attributes  # plain HTTP on loopback; set when served over HTTPS
        first_cookie = browser.cookies["protolearn_refresh"]
        assert first_cookie == login.json()["refresh_token"]

        refreshed = await browser.post("/api/auth/refresh")  # no body: the cookie speaks
        assert refreshed.status_code == 200, refreshed.text
        assert refreshed.json()["access_token"]
        assert browser.cookies["protolearn_refresh"] == refreshed.json()["refresh_token"] != first_cookie

        replayed = await browser.post("/api/auth/refresh", json={"refresh_token": first_cookie})
        assert replayed.status_code == 401  # a used token revokes the whole login
        revoked = await browser.post("/api/auth/refresh")
        assert revoked.status_code == 401

        again = await browser.post("/api/auth/login", json={"email": email, "password": PASSWORD})
        assert again.status_code == 200
        out = await browser.post("/api/auth/logout")
        assert out.status_code == 204
        assert "protolearn_refresh" not in browser.cookies  # cleared
        assert (
            await browser.post("/api/auth/refresh", json={"refresh_token": again.json()["refresh_token"]})
        ).status_code == 401

    async with httpx.AsyncClient(base_url=base_url) as stranger:
        nothing = await stranger.post("/api/auth/refresh")
        assert nothing.status_code == 401
        assert nothing.headers["content-type"] == "application/problem+json"
        assert "sign in" in nothing.json()["detail"]
        assert (await stranger.post("/api/auth/logout")).status_code == 204
