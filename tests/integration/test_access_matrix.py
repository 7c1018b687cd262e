"""Every route against every role, including another student's attempt and another teacher's test.

Each route is tried by each actor in a world where the teacher owns a published test T (with an
attempt in progress by the student) and a draft D. The expectation is the status class the
actor must get: 2xx, 401, 403 (role not allowed) or 404 (allowed role, not theirs).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.support.ai_material import BIOLOGY, text_pdf
from tests.support.api import (
    PASSWORD,
    Actor,
    Api,
    attach_evidence,
    mcq,
    new_test_payload,
    started_attempt,
)

ACTORS = ("anonymous", "student", "other_student", "teacher", "other_teacher", "admin", "auditor")
OK, UNAUTHENTICATED, FORBIDDEN, HIDDEN = "2xx", 401, 403, 404


@dataclass
class World:
    actors: dict[str, Actor]
    published_test: int
    draft_test: int
    attempt: int
    question: int
    draft_question: int
    spare_user: int
    violation: int
    evidence: int
    material: int


async def build_world(api: Api) -> World:
    names = ACTORS[1:]
    actors = {name: await api.user(name.removeprefix("other_")) for name in names}
    teacher = actors["teacher"]
    published = (await teacher.post("/api/tests", json=new_test_payload(is_published=True))).json()
    draft = (await teacher.post("/api/tests", json=new_test_payload(title="Draft"))).json()
    attempt = await started_attempt(actors["student"], published["id"])
    spare = await api.user("student")
    reported = await actors["student"].post(
        "/api/violations", json={"attempt_id": attempt["attempt_id"], "type": "tab_switch"}
    )
    violation = reported.json()["id"]
    evidence = await attach_evidence(api.settings, violation)
    uploaded = await teacher.post("/api/ai/upload-material", files=_material_upload())
    # A loaded machine may answer 202 (still being read): generation below needs the text. 120 s
    # bounds a hung extraction only.
    for _ in range(1200):
        material = await teacher.get(f"/api/ai/materials/{uploaded.json()['material_id']}")
        if material.json()["status"] != "processing":
            break
        await asyncio.sleep(0.1)
    return World(
        actors=actors,
        published_test=published["id"],
        draft_test=draft["id"],
        attempt=attempt["attempt_id"],
        question=published["questions"][0]["id"],
        draft_question=draft["questions"][0]["id"],
        spare_user=spare.id,
        violation=violation,
        evidence=evidence,
        material=uploaded.json()["material_id"],
    )


def _material_upload() -> dict[str, Any]:
    return {"file": ("notes.pdf", text_pdf(BIOLOGY[:1]), "application/pdf")}


@dataclass(frozen=True)
class Case:
    method: str
    path: Callable[[World], str]
    expected: dict[str, int | str]
    body: Callable[[World], Any] | None = None
    multipart: bool = False

    def __str__(self) -> str:
        return f"{self.method} {self.path.__doc__ or ''}"


def expect(default: int | str, **overrides: int | str) -> dict[str, int | str]:
    return {"anonymous": UNAUTHENTICATED} | dict.fromkeys(ACTORS[1:], default) | overrides


def route(
    method: str,
    template: str,
    expected: dict[str, int | str],
    body: Callable[[World], Any] | None = None,
    multipart: bool = False,
) -> Case:
    def path(world: World) -> str:
        return template.format(**vars(world))

    path.__doc__ = template
    return Case(method, path, expected, body, multipart)


STAFF_ONLY: dict[str, int | str] = {"student": FORBIDDEN, "other_student": FORBIDDEN, "auditor": FORBIDDEN}
AUTHORS = expect(OK, other_teacher=HIDDEN, **STAFF_ONLY)
STUDENT_ONLY = expect(FORBIDDEN, student=OK, other_student=HIDDEN)
ATTEMPT_VIEWERS = expect(OK, other_student=HIDDEN, other_teacher=HIDDEN)
ADMIN_ONLY = expect(FORBIDDEN, admin=OK)
REVIEWERS = expect(OK, student=FORBIDDEN, other_student=FORBIDDEN)
ATTEMPT_REVIEWERS = expect(OK, student=FORBIDDEN, other_student=FORBIDDEN, other_teacher=HIDDEN)

CASES = [
    route("GET", "/api/auth/me", expect(OK)),
    route("PATCH", "/api/auth/me", expect(OK), lambda w: {"name": "Renamed"}),
    route(
        "POST",
        "/api/auth/password",
        expect(OK),
        lambda w: {"current_password": PASSWORD, "new_password": "another pass"},
    ),
    route("GET", "/api/users", ADMIN_ONLY),
    route(
        "POST",
        "/api/users",
        ADMIN_ONLY,
        lambda w: {"email": "new@school.test", "password": PASSWORD, "name": "N", "role": "auditor"},
    ),
    route("PATCH", "/api/users/{spare_user}", ADMIN_ONLY, lambda w: {"name": "Spare"}),
    route("DELETE", "/api/users/{spare_user}", ADMIN_ONLY),
    route("POST", "/api/users/{spare_user}/sessions/revoke", ADMIN_ONLY),
    route("GET", "/api/users/{spare_user}/export", ADMIN_ONLY),
    route("POST", "/api/users/{spare_user}/erase", ADMIN_ONLY),
    route("GET", "/api/rtc/ice-servers", expect(OK)),
    route("POST", "/api/evidence/{evidence}/release", ADMIN_ONLY),
    route("GET", "/api/tests", expect(OK)),
    route(
        "POST", "/api/tests", expect(FORBIDDEN, teacher=OK, other_teacher=OK), lambda w: new_test_payload()
    ),
    # Another teacher's test is not visible, published or not: it carries the answer key.
    route("GET", "/api/tests/{published_test}", expect(OK, other_teacher=HIDDEN)),
    route(
        "GET",
        "/api/tests/{draft_test}",
        expect(OK, student=HIDDEN, other_student=HIDDEN, other_teacher=HIDDEN),
    ),
    route("PUT", "/api/tests/{published_test}", AUTHORS, lambda w: {"title": "Renamed"}),
    route("DELETE", "/api/tests/{draft_test}", AUTHORS),
    route("POST", "/api/tests/{published_test}/start", expect(FORBIDDEN, student=OK, other_student=OK)),
    route("GET", "/api/tests/{published_test}/start", expect(FORBIDDEN, student=OK, other_student=OK)),
    route("POST", "/api/tests/{published_test}/submit", STUDENT_ONLY, lambda w: {"attempt_id": w.attempt}),
    route(
        "POST",
        "/api/tests/{draft_test}/import",
        expect(FORBIDDEN, teacher=OK, other_teacher=HIDDEN),
        lambda w: {"file": ("bank.gift", b"Is water wet? {T}\n", "text/plain")},
        multipart=True,
    ),
    route("GET", "/api/tests/{draft_test}/export", AUTHORS),
    route("GET", "/api/questions", expect(OK, **STAFF_ONLY)),
    route("POST", "/api/questions", AUTHORS, lambda w: mcq() | {"test_id": w.draft_test}),
    route("GET", "/api/questions/{question}", AUTHORS),
    route("PUT", "/api/questions/{question}", AUTHORS, lambda w: {"points": 2}),
    route("DELETE", "/api/questions/{draft_question}", AUTHORS),
    route(
        "PUT", "/api/attempts/{attempt}/answers", STUDENT_ONLY, lambda w: {"answers": {w.question: "Paris"}}
    ),
    route("GET", "/api/attempts/{attempt}", ATTEMPT_VIEWERS),
    route(
        "POST",
        "/api/attempts/{attempt}/extend",
        AUTHORS,
        lambda w: {"minutes": 10, "reason": "extra time accommodation"},
    ),
    route("GET", "/api/results/{published_test}", AUTHORS),
    route("GET", "/api/results/export/{published_test}", AUTHORS),
    route(
        "GET",
        "/api/results/student/{actors[student].id}",
        expect(OK, other_student=HIDDEN, other_teacher=HIDDEN, auditor=FORBIDDEN),
    ),
    route("POST", "/api/violations", STUDENT_ONLY, lambda w: {"attempt_id": w.attempt, "type": "tab_switch"}),
    route("GET", "/api/violations/{attempt}", ATTEMPT_VIEWERS),
    route("GET", "/api/audit-log", ADMIN_ONLY),
    route("GET", "/api/admin/stats", ADMIN_ONLY),
    route("GET", "/api/reviews/flagged", REVIEWERS),
    route("GET", "/api/attempts/{attempt}/timeline", ATTEMPT_REVIEWERS),
    route("GET", "/api/evidence/{evidence}/video", ATTEMPT_REVIEWERS),
    route("POST", "/api/evidence/{evidence}/link", ATTEMPT_REVIEWERS),
    route(
        "POST",
        "/api/violations/{violation}/review",
        expect(FORBIDDEN, auditor=OK),
        lambda w: {"decision": "dismissed", "note": "looked at the clip"},
    ),
    route(
        "POST",
        "/api/ai/upload-material",
        expect(FORBIDDEN, teacher=OK, other_teacher=OK),
        lambda w: _material_upload(),
        multipart=True,
    ),
    route("GET", "/api/ai/materials", expect(OK, **STAFF_ONLY)),
    route("GET", "/api/ai/materials/{material}", AUTHORS),
    route(
        "POST",
        "/api/ai/generate-questions",
        expect(FORBIDDEN, teacher=OK, other_teacher=HIDDEN),
        lambda w: {"material_id": w.material, "num_questions": 1, "question_types": ["true_false"]},
    ),
    route(
        "POST",
        "/api/ai/refine-question",
        AUTHORS,
        lambda w: {"question_id": w.draft_question, "feedback": "fewer options"},
    ),
    # The student is taking the test: no tutor (409) and no explanations (403) until it is submitted.
    route(
        "POST",
        "/api/ai/teaching-assist",
        expect(OK, student=409, auditor=FORBIDDEN),
        lambda w: {"question": "What does the nucleus contain?"},
    ),
    route(
        "POST",
        "/api/ai/explain-answer",
        expect(OK, student=FORBIDDEN, other_student=FORBIDDEN, other_teacher=HIDDEN, auditor=FORBIDDEN),
        lambda w: {"question_id": w.question, "student_answer": "Lyon"},
    ),
    route("GET", "/api/ai/health", expect(OK, **STAFF_ONLY)),
]


# Open to anyone by design (sign-up and token exchange); their rules are tested in test_auth.py.
PUBLIC_ROUTES = {
    ("POST", "/api/auth/register"),
    ("POST", "/api/auth/login"),
    ("POST", "/api/auth/refresh"),
    ("POST", "/api/auth/logout"),
}


def _status_class(status: int) -> int | str:
    return OK if 200 <= status < 300 else status


async def _call(client: httpx.AsyncClient, world: World, actor: str, case: Case) -> httpx.Response:
    kwargs: dict[str, Any] = {}
    if case.body is not None:
        kwargs = {"files" if case.multipart else "json": case.body(world)}
    if actor == "anonymous":
        return await client.request(case.method, case.path(world), **kwargs)
    return await world.actors[actor].request(case.method, case.path(world), **kwargs)


@pytest.mark.parametrize("case", CASES, ids=str)
async def test_route_against_every_role(case: Case, api: Api, client: httpx.AsyncClient) -> None:
    world = await build_world(api)
    # Denied actors first, so a permitted change (a delete) cannot hide a wrong denial.
    order = sorted(ACTORS, key=lambda actor: case.expected[actor] == OK)
    mismatches = []
    for actor in order:
        response = await _call(client, world, actor, case)
        got = _status_class(response.status_code)
        if got != case.expected[actor]:
            mismatches.append(
                f"{actor}: expected {case.expected[actor]}, got {response.status_code} {response.text[:200]}"
            )
        if got != OK:
            assert response.headers["content-type"] == "application/problem+json", response.text
        elif case.method != "GET":
            world = await build_world(api)  # each permitted actor acts on a fresh world
    assert not mismatches, f"{case}:\n" + "\n".join(mismatches)


async def test_every_api_route_is_in_the_matrix(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/schema/openapi.json")).json()
    documented = {
        (method.upper(), path)
        for path, operations in spec["paths"].items()
        if path.startswith("/api/")
        for method in operations
    }
    covered = {(case.method, _openapi_path(case.path.__doc__ or "")) for case in CASES}
    assert documented == covered | PUBLIC_ROUTES


def _openapi_path(template: str) -> str:
    names = {
        "{spare_user}": "{user_id}",
        "{draft_test}": "{test_id}",
        "{published_test}": "{test_id}",
        "{question}": "{question_id}",
        "{draft_question}": "{question_id}",
        "{attempt}": "{attempt_id}",
        "{violation}": "{violation_id}",
        "{evidence}": "{evidence_id}",
        "{material}": "{material_id}",
        "{actors[student].id}": "{student_id}",
    }
    for ours, theirs in names.items():
        template = template.replace(ours, theirs)
    return template


async def test_lists_show_only_what_the_caller_owns(api: Api) -> None:
    world = await build_world(api)
    other_teacher, other_student = world.actors["other_teacher"], world.actors["other_student"]
    assert (await other_teacher.get("/api/tests")).json()["total"] == 0
    assert (await other_teacher.get("/api/questions", params={"test_id": world.published_test})).json()[
        "total"
    ] == 0
    student_view = (await other_student.get("/api/tests")).json()
    assert [t["id"] for t in student_view["items"]] == [world.published_test]
    admin_view = (await world.actors["admin"].get("/api/tests")).json()
    assert {t["id"] for t in admin_view["items"]} == {world.published_test, world.draft_test}
