"""The whole story over HTTP: a teacher authors and publishes, a student takes it, results come out."""

from __future__ import annotations

import csv
import io

from tests.support.api import Api, new_test_payload, started_attempt


async def test_teacher_to_student_to_results(api: Api) -> None:
    teacher = await api.user("teacher", name="Tess Teacher")
    student = await api.user("student", name="Stu Dent")

    # Author: create a draft with questions, check it cannot be seen by students, publish it.
    created = await teacher.post("/api/tests", json=new_test_payload(review_mode="answers"))
    assert created.status_code == 201, created.text
    test = created.json()
    assert test["is_published"] is False
    assert test["question_count"] == 3
    assert [q["question_type"] for q in test["questions"]] == ["mcq", "true_false", "short_answer"]
    assert (await student.get(f"/api/tests/{test['id']}")).status_code == 404
    published = await teacher.put(f"/api/tests/{test['id']}", json={"is_published": True})
    assert published.status_code == 200 and published.json()["is_published"] is True

    # The student sees the test in their list, without answer keys.
    listing = (await student.get("/api/tests")).json()
    assert [t["id"] for t in listing["items"]] == [test["id"]]
    seen = (await student.get(f"/api/tests/{test['id']}")).json()
    assert all("correct_answer" not in q and "explanation" not in q for q in seen["questions"])

    # Start, autosave, resume with saved answers, submit the rest.
    attempt = await started_attempt(student, test["id"])
    assert attempt["answers"] == {}
    assert all("correct_answer" not in q for q in attempt["questions"])
    mcq_id, tf_id, short_id = (q["id"] for q in attempt["questions"])
    saved = await student.put(
        f"/api/attempts/{attempt['attempt_id']}/answers", json={"answers": {mcq_id: "Paris"}}
    )
    assert saved.status_code == 200 and saved.json()["saved"] == 1
    resumed = await started_attempt(student, test["id"])
    assert resumed["attempt_id"] == attempt["attempt_id"]
    assert resumed["deadline"] == attempt["deadline"]
    assert resumed["answers"] == {str(mcq_id): "Paris"}

    browser_event = await student.post(
        "/api/violations", json={"attempt_id": attempt["attempt_id"], "type": "tab_switch"}
    )
    assert browser_event.status_code == 201

    submitted = await student.post(
        f"/api/tests/{test['id']}/submit",
        json={"attempt_id": attempt["attempt_id"], "answers": {tf_id: False, short_id: " au "}},
    )
    assert submitted.status_code == 200, submitted.text
    assert submitted.json() == {
        "attempt_id": attempt["attempt_id"],
        "status": "submitted",
        "score": 2.0,
        "max_score": 3.0,
        "percent": 66.67,
        "passed": True,
    }

    # The student reviews per the test's review mode ("answers": marking and keys).
    review = (await student.get(f"/api/attempts/{attempt['attempt_id']}")).json()
    marking = {
        a["question_id"]: (a["answer"], a["is_correct"], a["correct_answer"]) for a in review["answers"]
    }
    assert marking == {
        mcq_id: ("Paris", True, "Paris"),
        tf_id: ("false", False, "true"),
        short_id: (" au ", True, "Au"),
    }
    assert review["suspicion_score"] is None  # not for students' eyes
    assert [v["type"] for v in review["violations"]] == ["tab_switch"]

    # The teacher's results, the student's history, and the CSV export.
    results = (await teacher.get(f"/api/results/{test['id']}")).json()
    assert len(results) == 1
    assert results[0]["deadline"] == attempt["deadline"]
    assert results[0] | {"started_at": None, "submitted_at": None, "deadline": None} == {
        "attempt_id": attempt["attempt_id"],
        "student_id": student.id,
        "student_name": "Stu Dent",
        "student_email": student.email,
        "status": "submitted",
        "started_at": None,
        "submitted_at": None,
        "deadline": None,
        "score": 2.0,
        "max_score": 3.0,
        "percent": 66.67,
        "passed": True,
        "violation_count": 1,
        "suspicion_score": 3.0,
    }
    history = (await student.get(f"/api/results/student/{student.id}")).json()
    assert [(h["test_title"], h["percent"]) for h in history] == [("Chemistry quiz", 66.67)]

    export = await teacher.get(f"/api/results/export/{test['id']}")
    assert export.status_code == 200
    assert export.headers["content-type"] == "text/csv; charset=utf-8"
    assert "attachment" in export.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(export.text)))
    assert len(rows) == 1
    assert (rows[0]["student_email"], rows[0]["score"], rows[0]["passed"], rows[0]["status"]) == (
        student.email,
        "2.0",
        "true",
        "submitted",
    )


async def test_start_is_idempotent_and_attempts_are_limited(api: Api) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    test = (await teacher.post("/api/tests", json=new_test_payload(is_published=True, max_attempts=2))).json()
    first = await started_attempt(student, test["id"])
    again = await student.get(f"/api/tests/{test['id']}/start")  # GET is accepted too
    assert again.json()["attempt_id"] == first["attempt_id"]
    await student.post(f"/api/tests/{test['id']}/submit", json={"attempt_id": first["attempt_id"]})
    second = await started_attempt(student, test["id"])
    assert second["attempt_id"] != first["attempt_id"]
    await student.post(f"/api/tests/{test['id']}/submit", json={"attempt_id": second["attempt_id"]})
    exhausted = await student.post(f"/api/tests/{test['id']}/start")
    assert exhausted.status_code == 409
    assert "attempt" in exhausted.json()["detail"]


async def test_questions_are_shuffled_per_attempt_when_the_test_asks(api: Api) -> None:
    teacher = await api.user("teacher")
    questions = [
        {"question_text": f"Q{i}", "question_type": "short_answer", "correct_answer": str(i)}
        for i in range(12)
    ]
    test = (
        await teacher.post(
            "/api/tests",
            json=new_test_payload(is_published=True, shuffle_questions=True, questions=questions),
        )
    ).json()
    in_authored_order = [q["id"] for q in test["questions"]]
    orders = []
    for _ in range(4):
        student = await api.user("student")
        orders.append([q["id"] for q in (await started_attempt(student, test["id"]))["questions"]])
    assert all(sorted(order) == sorted(in_authored_order) for order in orders)
    # 12! orders: four identical to the authored one would mean no shuffling at all.
    assert any(order != in_authored_order for order in orders)
    # The order is kept for the attempt: resuming shows the same order.
    last = orders[-1]
    resumed = await started_attempt(api.created[-1], test["id"])
    assert [q["id"] for q in resumed["questions"]] == last


async def test_review_mode_none_hides_scores_from_students_but_not_teachers(api: Api) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    test = (
        await teacher.post("/api/tests", json=new_test_payload(is_published=True, review_mode="none"))
    ).json()
    attempt = await started_attempt(student, test["id"])
    submitted = (
        await student.post(f"/api/tests/{test['id']}/submit", json={"attempt_id": attempt["attempt_id"]})
    ).json()
    assert submitted["status"] == "submitted"
    assert submitted["score"] is None and submitted["passed"] is None
    detail = (await student.get(f"/api/attempts/{attempt['attempt_id']}")).json()
    assert detail["score"] is None
    assert all(
        set(a) == {"question_id", "answer", "is_correct", "points_awarded", "correct_answer"}
        for a in detail["answers"]
    )
    assert all(a["correct_answer"] is None for a in detail["answers"])
    teacher_view = (await teacher.get(f"/api/attempts/{attempt['attempt_id']}")).json()
    assert teacher_view["score"] == 0.0 and teacher_view["max_score"] == 3.0


async def test_a_submitted_attempt_refuses_more_answers(api: Api) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    test = (await teacher.post("/api/tests", json=new_test_payload(is_published=True))).json()
    attempt = await started_attempt(student, test["id"])
    question_id = attempt["questions"][0]["id"]
    await student.post(f"/api/tests/{test['id']}/submit", json={"attempt_id": attempt["attempt_id"]})
    late = await student.put(
        f"/api/attempts/{attempt['attempt_id']}/answers", json={"answers": {question_id: "Paris"}}
    )
    assert late.status_code == 409
    assert late.json()["attempt_status"] == "submitted"
    again = await student.post(f"/api/tests/{test['id']}/submit", json={"attempt_id": attempt["attempt_id"]})
    assert again.status_code == 409
    event = await student.post(
        "/api/violations", json={"attempt_id": attempt["attempt_id"], "type": "tab_switch"}
    )
    assert event.status_code == 409
