"""Autosave's outcomes on both databases: on PostgreSQL the common case is one statement
(the row lock, the deletes and the upserts together), so each refusal must save nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import event

from protolearn.accounts.schemas import Principal
from protolearn.assessment.attempts import AttemptService
from protolearn.config import Settings
from protolearn.store.database import create_engine, create_sessionmaker
from protolearn.store.users import Role
from tests.support.api import Actor, Api, published_test, started_attempt


async def stored(actor: Actor, attempt_id: int) -> dict[str, Any]:
    response = await actor.get(f"/api/attempts/{attempt_id}")
    assert response.status_code == 200, response.text
    return {str(a["question_id"]): a["answer"] for a in response.json()["answers"] if a["answer"] is not None}


async def test_an_autosave_replaces_and_clears_answers(api: Api) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    test = await published_test(teacher)
    attempt = await started_attempt(student, test["id"])
    mcq, true_false, short = (q["id"] for q in attempt["questions"])
    url = f"/api/attempts/{attempt['attempt_id']}/answers"

    first = await student.put(url, json={"answers": {mcq: "Paris", true_false: True, short: " au "}})
    assert first.status_code == 200, first.text
    assert first.json()["saved"] == 3
    assert first.json()["deadline"] == attempt["deadline"]
    assert await stored(student, attempt["attempt_id"]) == {
        str(mcq): "Paris",
        str(true_false): "true",
        str(short): " au ",
    }

    second = await student.put(url, json={"answers": {mcq: "Lyon", true_false: None}})
    assert second.status_code == 200, second.text
    assert await stored(student, attempt["attempt_id"]) == {str(mcq): "Lyon", str(short): " au "}
    resumed = await started_attempt(student, test["id"])
    assert resumed["answers"] == {str(mcq): "Lyon", str(short): " au "}


async def test_an_autosave_naming_a_question_of_another_test_saves_none_of_it(api: Api) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    test, other = await published_test(teacher), await published_test(teacher)
    attempt = await started_attempt(student, test["id"])
    own = attempt["questions"][0]["id"]
    foreign = other["questions"][0]["id"]
    url = f"/api/attempts/{attempt['attempt_id']}/answers"
    assert (await student.put(url, json={"answers": {own: "Paris"}})).status_code == 200

    refused = await student.put(url, json={"answers": {own: "Lyon", foreign: "Paris"}})
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["question_ids"] == [foreign]
    assert await stored(student, attempt["attempt_id"]) == {str(own): "Paris"}  # nothing of it saved
    # The attempt was not left locked: the next autosave goes through.
    assert (await student.put(url, json={"answers": {own: "Nice"}})).status_code == 200
    assert await stored(student, attempt["attempt_id"]) == {str(own): "Nice"}


async def test_an_autosave_to_another_students_attempt_is_not_found_and_saves_nothing(api: Api) -> None:
    teacher, owner, other = await api.user("teacher"), await api.user("student"), await api.user("student")
    test = await published_test(teacher)
    attempt = await started_attempt(owner, test["id"])
    question = attempt["questions"][0]["id"]
    url = f"/api/attempts/{attempt['attempt_id']}/answers"
    assert (await owner.put(url, json={"answers": {question: "Paris"}})).status_code == 200

    intruding = await other.put(url, json={"answers": {question: "Lyon"}})
    assert intruding.status_code == 404, intruding.text
    assert await stored(owner, attempt["attempt_id"]) == {str(question): "Paris"}


async def test_an_autosave_naming_a_question_id_out_of_range_is_refused_and_saves_nothing(api: Api) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    test = await published_test(teacher)
    attempt = await started_attempt(student, test["id"])
    own = attempt["questions"][0]["id"]
    url = f"/api/attempts/{attempt['attempt_id']}/answers"
    assert (await student.put(url, json={"answers": {own: "Paris"}})).status_code == 200
    for huge in (2**31, 2**63, -(2**31) - 1):
        refused = await student.put(url, json={"answers": {own: "Lyon", huge: "x"}})
        assert 400 <= refused.status_code < 500, (huge, refused.status_code, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert await stored(student, attempt["attempt_id"]) == {str(own): "Paris"}


async def test_an_autosave_on_postgresql_is_one_statement(api: Api, settings: Settings, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("the one-statement autosave is PostgreSQL's")
    teacher, student = await api.user("teacher"), await api.user("student")
    attempt = await started_attempt(student, (await published_test(teacher))["id"])
    mcq, true_false, _ = (q["id"] for q in attempt["questions"])
    engine = create_engine(settings.database_url)
    statements: list[str] = []
    event.listen(engine.sync_engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    try:
        async with create_sessionmaker(engine)() as session:
            principal = Principal(student.id, Role.STUDENT, student.email, "Student")
            saved = await AttemptService(session, grace_seconds=0).autosave(
                principal, attempt["attempt_id"], {mcq: "Paris", true_false: None}
            )
    finally:
        await engine.dispose()
    assert saved.saved == 2
    assert len(statements) == 1 and statements[0].lstrip().startswith("WITH locked AS")
    assert await stored(student, attempt["attempt_id"]) == {str(mcq): "Paris"}
