"""Every operation of the OpenAPI document, fuzzed by schemathesis as each role and anonymously.

Per operation: a real server on a fresh database, a fresh signed-in user of each role, and seeded
records that path ids name in part of the cases. Each case (valid data and invalid data alike)
goes out once per role and once without an account of ours; every answer must be no 5xx, with
the status, content type, body and headers the document gives. Hypothesis runs derandomized with
no example database, so every run sends the same cases; ``PROTOLEARN_TEST_SCHEMA_EXAMPLES`` sets
the cases per operation (10 by default: 70-90 s for the module on SQLite on two cores).
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import hypothesis
import msgspec
import pytest
import requests
import schemathesis
from hypothesis import strategies as st
from schemathesis import APIOperation, Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from protolearn.app import create_app
from protolearn.config import Settings
from protolearn.store.users import Role
from tests.support.ai_material import BIOLOGY, text_pdf
from tests.support.api import Actor, Api, attach_evidence, new_test_payload, started_attempt

EXAMPLES = int(os.environ.get("PROTOLEARN_TEST_SCHEMA_EXAMPLES", "10"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    response_headers_conformance,
]
# Each case goes out as each of these in turn (None: no token of ours, only what the case itself
# carries, a generated one or none); admins last, so what a case does to other accounts
# (deactivate, demote, revoke) reaches no role before the next case (see ACCOUNT_CHANGING).
ROLES: tuple[Role | None, ...] = (None, Role.STUDENT, Role.TEACHER, Role.AUDITOR, Role.ADMIN)

# Not exercised here. The live channel (/ws/proctor) is a WebSocket, outside the document, with
# tests of its own (test_live_channel*.py).
EXCLUDED = {
    # A byte stream of video/webm answered in ranges, with nothing in it for a schema to check;
    # its ranges and signed links have tests of their own (test_review.py, test_evidence_links.py).
    "GET /api/evidence/{evidence_id}/video",
}
# Operation -> why it fails until a fix under way lands; remove the entry with the fix.
PENDING: dict[str, str] = {}
# Operations that can sign out, deactivate or change the role of a user the run signs in as (the
# caller's own password, or an admin acting on any account): after each of their cases, every
# role's user is checked and replaced by a fresh one where it changed.
ACCOUNT_CHANGING = {
    "POST /api/auth/password",
    "POST /api/users/{user_id}/sessions/revoke",
    "PATCH /api/users/{user_id}",
    "DELETE /api/users/{user_id}",
}


def _document() -> dict[str, Any]:
    """The OpenAPI document of an app built as the server builds it (nothing is served or stored)."""
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.from_env(
            {},
            database_url=f"sqlite+aiosqlite:///{folder}/unused.db",
            data_dir=folder,
            argon2_time_cost=1,
            argon2_memory_kib=1024,
            argon2_parallelism=1,
        )
        # Defaults in the document are structs: round-trip them to plain JSON, as the server sends it.
        return msgspec.json.decode(msgspec.json.encode(create_app(settings).openapi_schema.to_schema()))


# Built once per process: every test's server builds the same document from the same code.
DOCUMENT = _document()
OPERATIONS: dict[str, APIOperation] = {
    operation.label: operation
    for operation in (result.ok() for result in schemathesis.openapi.from_dict(DOCUMENT).get_all_operations())
}


def _params() -> Iterator[Any]:
    for label in OPERATIONS:
        if label not in EXCLUDED:
            pending = [pytest.mark.xfail(strict=False, reason=PENDING[label])] if label in PENDING else []
            yield pytest.param(label, marks=pending, id=label)


@dataclass
class World:
    """Records that path ids name, owned by the signed-in users of each role."""

    actors: dict[Role, Actor]
    path_ids: dict[str, list[int]]


async def build_world(api: Api, needs: set[str]) -> World:
    """Users of each role, a published test with an attempt in progress and a draft; a violation
    with its clip and a read material only for the operations whose paths name them (they cost)."""
    actors = {role: await api.user(role) for role in (Role.STUDENT, Role.TEACHER, Role.AUDITOR, Role.ADMIN)}
    student, teacher = actors[Role.STUDENT], actors[Role.TEACHER]
    published = (await teacher.post("/api/tests", json=new_test_payload(is_published=True))).json()
    draft = (await teacher.post("/api/tests", json=new_test_payload(title="Draft"))).json()
    attempt = await started_attempt(student, published["id"])
    path_ids = {
        "test_id": [published["id"], draft["id"]],
        "question_id": [published["questions"][0]["id"], draft["questions"][0]["id"]],
        "attempt_id": [attempt["attempt_id"]],
        "student_id": [student.id],
    }
    if "user_id" in needs:
        # Never an admin's own id: self-deactivation is excluded by construction.
        path_ids["user_id"] = [(await api.user(Role.STUDENT)).id, student.id]
    if needs & {"violation_id", "evidence_id"}:
        reported = await student.post(
            "/api/violations", json={"attempt_id": attempt["attempt_id"], "type": "tab_switch"}
        )
        assert reported.status_code == 201, reported.text
        path_ids["violation_id"] = [reported.json()["id"]]
        path_ids["evidence_id"] = [await attach_evidence(api.settings, reported.json()["id"])]
    if "material_id" in needs:
        uploaded = await teacher.post(
            "/api/ai/upload-material",
            files={"file": ("notes.pdf", text_pdf(BIOLOGY[:1]), "application/pdf")},
        )
        assert uploaded.status_code in (201, 202), uploaded.text
        path_ids["material_id"] = [uploaded.json()["material_id"]]
    return World(actors=actors, path_ids=path_ids)


@dataclass
class Finding:
    """One kind of failure: the first case that showed it, as schemathesis reports it (with curl)."""

    role: str
    status: int
    titles: tuple[str, ...]
    report: str


@dataclass
class Outcome:
    cases: int = 0
    findings: dict[tuple[str, int, tuple[str, ...]], Finding] = field(default_factory=dict)


def _strategy(operation: APIOperation, world: World) -> st.SearchStrategy[Case]:
    """Valid and invalid cases, half of them (or so) with path ids naming the world's records."""
    names = [p.name for p in operation.path_parameters]
    seeded = []
    if names and all(name in world.path_ids for name in names):
        width = max(len(world.path_ids[name]) for name in names)
        for i in range(width):
            ids = {name: world.path_ids[name][i % len(world.path_ids[name])] for name in names}
            seeded += [
                operation.as_strategy(path_parameters=ids),
                operation.as_strategy(generation_mode=GenerationMode.NEGATIVE, path_parameters=ids),
            ]
    return st.one_of(
        operation.as_strategy(),
        operation.as_strategy(generation_mode=GenerationMode.NEGATIVE),
        *seeded,
    )


def exercise(
    operation: APIOperation,
    world: World,
    base_url: str,
    session: requests.Session,
    fresh_actor: Callable[[Role], Actor],
) -> Outcome:
    """Each generated case, sent as every role in turn; the distinct failures per role."""
    outcome = Outcome()
    actors: dict[Role | None, Actor | None] = {role: world.actors[role] if role else None for role in ROLES}

    def send(case: Case, role: Role | None) -> None:
        actor = actors[role]
        headers = {"Authorization": f"Bearer {actor.access_token}"} if actor else None
        response = case.call(base_url=base_url, session=session, headers=headers, timeout=30)
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except FailureGroup as group:
            titles = tuple(sorted({failure.title for failure in group.exceptions}))
            key = (role.value if role else "anonymous", response.status_code, titles)
            if key not in outcome.findings:
                outcome.findings[key] = Finding(key[0], response.status_code, titles, str(group))

    def replace_changed() -> None:
        """A fresh user for each role whose user was signed out, deactivated or given another role."""
        for role, actor in actors.items():
            if role is None or actor is None:
                continue
            me = session.get(
                f"{base_url}/api/auth/me",
                headers={"Authorization": f"Bearer {actor.access_token}"},
                timeout=30,
            )
            if me.status_code != 200 or me.json()["role"] != role.value:
                actors[role] = fresh_actor(role)

    # No shrinking: failures are collected, not raised, so every case runs and each kind of
    # failure is reported once with the case that showed it. Large bodies are slow to generate
    # and many cases are refused: the health checks would only complain of that.
    @hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(case=_strategy(operation, world))
    def run(case: Case) -> None:
        outcome.cases += 1
        for role in ROLES:
            send(case, role)
        if operation.label in ACCOUNT_CHANGING:
            replace_changed()

    run()
    return outcome


@pytest.mark.parametrize("label", list(_params()))
async def test_operation_answers_as_documented(label: str, api: Api, base_url: str) -> None:
    operation = OPERATIONS[label]
    world = await build_world(api, {parameter.name for parameter in operation.path_parameters})
    loop = asyncio.get_running_loop()

    def fresh_actor(role: Role) -> Actor:
        return asyncio.run_coroutine_threadsafe(api.user(role), loop).result()

    # schemathesis sends with requests (blocking): off the loop that serves the app.
    with requests.Session() as session:
        outcome = await asyncio.to_thread(exercise, operation, world, base_url, session, fresh_actor)
    assert outcome.cases > 0
    report = "\n\n".join(
        f"--- as {f.role}: {', '.join(f.titles)} (status {f.status})\n{f.report}"
        for f in outcome.findings.values()
    )
    assert not outcome.findings, f"{label}: {len(outcome.findings)} kinds of failure\n\n{report}"


async def test_a_test_says_which_view_it_is(api: Api) -> None:
    """Staff and students get tests in two shapes; ``view`` tells them apart in every answer (a
    student's list item and a teacher's have the same fields), so the document's oneOf holds."""
    teacher, student = await api.user(Role.TEACHER), await api.user(Role.STUDENT)
    test_id = (await teacher.post("/api/tests", json=new_test_payload(is_published=True))).json()["id"]
    for actor, view in ((teacher, "staff"), (student, "student")):
        assert (await actor.get(f"/api/tests/{test_id}")).json()["view"] == view
        assert [item["view"] for item in (await actor.get("/api/tests")).json()["items"]] == [view]
    schemas = DOCUMENT["components"]["schemas"]
    assert [schemas[name]["properties"]["view"]["const"] for name in ("TestOut", "StudentTestOut")] == [
        "staff",
        "student",
    ]
    assert all("view" in schemas[name]["required"] for name in ("TestOut", "StudentTestOut"))
