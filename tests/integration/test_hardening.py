"""Hardening of a deployment: CORS closed unless opened to named origins, and limits on the
requests that cost the most: accounts made from one address, and AI requests per user."""

from __future__ import annotations

import httpx
import msgspec

from protolearn.config import Settings
from tests.support.api import PASSWORD, Api
from tests.support.server import running_server

PORTAL = "https://portal.school.test"


async def preflight(http: httpx.AsyncClient, origin: str) -> httpx.Response:
    return await http.options(
        "/api/tests",
        headers={
            "Origin": origin,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )


async def test_no_other_site_may_call_the_api_by_default(api: Api) -> None:
    student = await api.user("student")
    allowed = await preflight(api.client, PORTAL)
    read = await student.get("/api/auth/me", headers={"Origin": PORTAL})
    assert "access-control-allow-origin" not in allowed.headers
    assert read.status_code == 200 and "access-control-allow-origin" not in read.headers


async def test_cors_opens_to_the_origins_named_and_no_others(settings: Settings) -> None:
    opened = msgspec.structs.replace(settings, cors_origins=f"{PORTAL}, https://lms.school.test")
    async with running_server(opened) as url, httpx.AsyncClient(base_url=url) as http:
        student = await Api(http, opened).user("student")
        ok = await preflight(http, PORTAL)
        other = await preflight(http, "https://evil.test")
        read = await student.get("/api/auth/me", headers={"Origin": PORTAL})
    assert ok.status_code in (200, 204)
    assert ok.headers["access-control-allow-origin"] == PORTAL
    assert "authorization" in ok.headers["access-control-allow-headers"].lower()
    assert "access-control-allow-credentials" not in ok.headers  # bearer tokens, never cookies
    assert other.headers.get("access-control-allow-origin") != "https://evil.test"
    assert read.headers["access-control-allow-origin"] == PORTAL


async def test_accounts_from_one_address_are_limited_and_the_refusal_says_when(settings: Settings) -> None:
    limited = msgspec.structs.replace(settings, register_max_per_address=3)
    async with running_server(limited) as url, httpx.AsyncClient(base_url=url) as http:
        made = [
            await http.post(
                "/api/auth/register",
                json={"email": f"kid{n}@school.test", "password": PASSWORD, "name": "Kid", "role": "student"},
            )
            for n in range(4)
        ]
    assert [r.status_code for r in made] == [201, 201, 201, 429]
    refused = made[-1]
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert int(refused.headers["retry-after"]) > 0
    assert "accounts made from your network" in refused.json()["detail"]


async def test_ai_requests_are_limited_per_user(settings: Settings) -> None:
    limited = msgspec.structs.replace(settings, ai_max_requests_per_user=2)
    async with running_server(limited) as url, httpx.AsyncClient(base_url=url) as http:
        api = Api(http, limited)
        student, classmate = await api.user("student"), await api.user("student")
        ask = {"question": "What is osmosis?"}
        mine = [(await student.post("/api/ai/teaching-assist", json=ask)).status_code for _ in range(3)]
        theirs = (await classmate.post("/api/ai/teaching-assist", json=ask)).status_code
        teacher = await api.user("teacher")
        forbidden = [(await teacher.get("/api/ai/health")).status_code for _ in range(3)]  # reads are free
    assert mine == [200, 200, 429]
    assert theirs == 200  # each user has their own count
    assert forbidden == [200, 200, 200]
