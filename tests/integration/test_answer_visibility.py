"""One rule for what a student sees of a test's answers: after submission, where the review mode
shows them, and never while they have another attempt in progress on the same test."""

from __future__ import annotations

from typing import Any

from tests.support.api import Actor, Api, published_test, started_attempt


def marking(attempt: dict[str, Any]) -> list[Any]:
    return [(a["is_correct"], a["correct_answer"]) for a in attempt["answers"]]


async def submit(student: Actor, test_id: int, attempt_id: int) -> None:
    submitted = await student.post(f"/api/tests/{test_id}/submit", json={"attempt_id": attempt_id})
    assert submitted.status_code == 200, submitted.text


async def test_a_second_attempt_in_progress_hides_the_key_of_the_first(api: Api) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    test = await published_test(teacher, max_attempts=2, review_mode="answers")
    first = (await started_attempt(student, test["id"]))["attempt_id"]
    await submit(student, test["id"], first)
    shown = (await student.get(f"/api/attempts/{first}")).json()
    assert any(key is not None for _, key in marking(shown))  # the review mode shows answers

    second = (await started_attempt(student, test["id"]))["attempt_id"]
    during = await student.get(f"/api/attempts/{first}")
    assert during.status_code == 200, during.text
    assert marking(during.json()) == [(None, None)] * len(test["questions"])
    assert during.json()["percent"] is not None  # the score of a closed attempt is not the key
    question = test["questions"][0]["id"]
    explain = await student.post(
        "/api/ai/explain-answer", json={"question_id": question, "student_answer": "x"}
    )
    assert explain.status_code == 403  # the same rule, on the tutor's route
    # The teacher sees everything throughout.
    assert any(key is not None for _, key in marking((await teacher.get(f"/api/attempts/{first}")).json()))

    await submit(student, test["id"], second)
    after = (await student.get(f"/api/attempts/{first}")).json()
    assert marking(after) == marking(shown)
