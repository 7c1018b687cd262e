"""Bad input gets a clear 4xx problem-details answer naming what is wrong, never a 500."""

from __future__ import annotations

import httpx
import pytest

from tests.support.api import Actor, Api, mcq, new_test_payload, short_answer, started_attempt


@pytest.fixture
async def teacher(api: Api) -> Actor:
    return await api.user("teacher")


def assert_problem(response: httpx.Response, status: int, mentions: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys()
    assert body["status"] == status
    assert mentions in body["detail"], body["detail"]


async def test_unknown_fields_and_wrong_types_name_the_field(teacher: Actor) -> None:
    assert_problem(await teacher.post("/api/tests", json=new_test_payload(colour="red")), 400, "`colour`")
    assert_problem(
        await teacher.post("/api/tests", json=new_test_payload(time_limit="soon")), 400, "`time_limit`"
    )
    assert_problem(
        await teacher.post("/api/tests", json=new_test_payload(time_limit=-1)), 400, "`time_limit`"
    )
    assert_problem(
        await teacher.post("/api/tests", json=new_test_payload(passing_score=101)), 400, "`passing_score`"
    )
    assert_problem(
        await teacher.post("/api/tests", json=new_test_payload(questions=[mcq(question_type="essay")])),
        400,
        "question_type",
    )
    missing = await teacher.post("/api/tests", json={"time_limit": 5})
    assert_problem(missing, 400, "title")


async def test_malformed_and_wrong_shaped_bodies(teacher: Actor) -> None:
    malformed = await teacher.post(
        "/api/tests", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert_problem(malformed, 400, "JSON")
    assert_problem(await teacher.post("/api/tests", json=[1, 2, 3]), 400, "object")
    assert_problem(await teacher.post("/api/tests", content=b""), 400, "")


async def test_oversized_body_is_refused(teacher: Actor, api: Api) -> None:
    huge = new_test_payload(description="x" * (api.settings.max_request_bytes + 10))
    response = await teacher.post("/api/tests", json=huge)
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("question", "mentions"),
    [
        (mcq(options=["Paris"]), "two options"),
        (mcq(options=["Paris", "paris"]), "distinct"),
        (mcq(answer="Berlin"), "one of the options"),
        ({"question_text": "Q", "question_type": "true_false", "correct_answer": "maybe"}, "true or false"),
        (short_answer(options=["a", "b"]), "no options"),
        (mcq(text="   "), "question_text"),
        (mcq(points=-1), "points"),
    ],
)
async def test_invalid_questions_are_explained(
    teacher: Actor, question: dict[str, object], mentions: str
) -> None:
    response = await teacher.post("/api/tests", json=new_test_payload(questions=[question]))
    assert response.status_code in (400, 422), response.text
    assert mentions in response.json()["detail"]


async def test_publishing_needs_a_question(teacher: Actor) -> None:
    empty = await teacher.post("/api/tests", json=new_test_payload(questions=[], is_published=True))
    assert_problem(empty, 409, "at least one question")
    draft = (await teacher.post("/api/tests", json=new_test_payload(questions=[]))).json()
    assert_problem(
        await teacher.put(f"/api/tests/{draft['id']}", json={"is_published": True}), 409, "question"
    )


async def test_bad_query_and_path_parameters(teacher: Actor) -> None:
    assert_problem(await teacher.get("/api/tests", params={"page": 0}), 400, "`page`")
    assert_problem(await teacher.get("/api/tests", params={"page_size": 1000}), 400, "`page_size`")
    assert_problem(
        await teacher.get("/api/questions", params={"question_type": "essay"}), 400, "question_type"
    )
    assert (await teacher.get("/api/tests/not-a-number")).status_code == 404
    assert_problem(await teacher.get("/api/tests/999999"), 404, "999999")


async def test_answers_for_questions_outside_the_attempt_are_refused(api: Api, teacher: Actor) -> None:
    student = await api.user("student")
    test = (await teacher.post("/api/tests", json=new_test_payload(is_published=True))).json()
    other = (await teacher.post("/api/tests", json=new_test_payload(is_published=True))).json()
    attempt = await started_attempt(student, test["id"])
    foreign = other["questions"][0]["id"]
    response = await student.put(
        f"/api/attempts/{attempt['attempt_id']}/answers", json={"answers": {foreign: "x"}}
    )
    assert_problem(response, 422, str(foreign))
    assert response.json()["question_ids"] == [foreign]
    wrong_type = await student.put(
        f"/api/attempts/{attempt['attempt_id']}/answers", json={"answers": {foreign: {"nested": 1}}}
    )
    assert wrong_type.status_code == 400
    wrong_test = await student.post(
        f"/api/tests/{other['id']}/submit", json={"attempt_id": attempt["attempt_id"]}
    )
    assert_problem(wrong_test, 404, "not an attempt")


async def test_unknown_browser_event_type_is_refused(api: Api, teacher: Actor) -> None:
    student = await api.user("student")
    test = (await teacher.post("/api/tests", json=new_test_payload(is_published=True))).json()
    attempt = await started_attempt(student, test["id"])
    response = await student.post(
        "/api/violations", json={"attempt_id": attempt["attempt_id"], "type": "sneezing"}
    )
    assert_problem(response, 400, "type")


async def test_register_validation(client: httpx.AsyncClient) -> None:
    base = {"email": "a@school.test", "password": "long enough", "name": "A"}
    assert_problem(
        await client.post("/api/auth/register", json=base | {"password": "short"}), 400, "password"
    )
    assert_problem(
        await client.post("/api/auth/register", json=base | {"email": "not-an-email"}), 400, "email"
    )
    assert_problem(await client.post("/api/auth/register", json=base | {"name": "  "}), 400, "name")
    assert_problem(await client.post("/api/auth/register", json=base | {"role": "overlord"}), 400, "role")
