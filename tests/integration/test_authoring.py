"""Teachers' authoring: the question bank, edits, deletes, and what attempts protect."""

from __future__ import annotations

from tests.support.api import Api, mcq, new_test_payload, short_answer, started_attempt, true_false


async def test_question_bank_search_filter_and_pagination(api: Api) -> None:
    teacher = await api.user("teacher")
    algebra = (await teacher.post("/api/tests", json=new_test_payload(title="Algebra", questions=[]))).json()
    chemistry = (await teacher.post("/api/tests", json=new_test_payload(title="Chemistry"))).json()
    for i in range(5):
        created = await teacher.post(
            "/api/questions", json=short_answer(f"Solve x + {i} = {i + 2}", "2") | {"test_id": algebra["id"]}
        )
        assert created.status_code == 201
        assert created.json()["position"] == i
    bank = (await teacher.get("/api/questions", params={"page_size": 3})).json()
    assert bank["total"] == 8 and len(bank["items"]) == 3
    by_test = (await teacher.get("/api/questions", params={"test_id": chemistry["id"]})).json()
    assert by_test["total"] == 3
    by_type = (await teacher.get("/api/questions", params={"question_type": "true_false"})).json()
    assert [q["question_type"] for q in by_type["items"]] == ["true_false"]
    found = (await teacher.get("/api/questions", params={"search": "SOLVE X + 3"})).json()
    assert [q["question_text"] for q in found["items"]] == ["Solve x + 3 = 5"]


async def test_tests_list_search_and_pages(api: Api) -> None:
    teacher = await api.user("teacher")
    for title in ("Algebra I", "Algebra II", "Biology"):
        await teacher.post("/api/tests", json=new_test_payload(title=title, subject=title.split()[0]))
    page = (await teacher.get("/api/tests", params={"search": "algebra", "page_size": 1})).json()
    assert page["total"] == 2 and len(page["items"]) == 1
    assert (await teacher.get("/api/tests", params={"subject": "Biology"})).json()["total"] == 1


async def test_editing_a_question_revalidates_it(api: Api) -> None:
    teacher = await api.user("teacher")
    test = (await teacher.post("/api/tests", json=new_test_payload(questions=[mcq()]))).json()
    question_id = test["questions"][0]["id"]
    bad = await teacher.put(f"/api/questions/{question_id}", json={"options": ["Lyon", "Nice"]})
    assert bad.status_code == 422  # the answer key Paris would no longer be an option
    good = await teacher.put(
        f"/api/questions/{question_id}",
        json={"options": ["Lyon", "Nice"], "correct_answer": "Nice", "points": 2.5},
    )
    assert good.status_code == 200
    assert (good.json()["correct_answer"], good.json()["points"]) == ("Nice", 2.5)
    to_tf = await teacher.put(
        f"/api/questions/{question_id}",
        json={"question_type": "true_false", "options": [], "correct_answer": "F"},
    )
    assert (to_tf.json()["options"], to_tf.json()["correct_answer"]) == (["true", "false"], "false")


async def test_taken_tests_keep_their_questions_and_results(api: Api) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    test = (await teacher.post("/api/tests", json=new_test_payload(is_published=True))).json()
    await started_attempt(student, test["id"])
    assert (await teacher.delete(f"/api/tests/{test['id']}")).status_code == 409
    assert (await teacher.delete(f"/api/questions/{test['questions'][0]['id']}")).status_code == 409
    added = await teacher.post("/api/questions", json=true_false() | {"test_id": test["id"]})
    assert added.status_code == 409
    # Fixing a typo stays possible.
    fixed = await teacher.put(
        f"/api/questions/{test['questions'][0]['id']}", json={"question_text": "Capital of France?"}
    )
    assert fixed.status_code == 200


async def test_deleting_an_untaken_test_removes_its_questions(api: Api) -> None:
    teacher = await api.user("teacher")
    test = (await teacher.post("/api/tests", json=new_test_payload())).json()
    assert (await teacher.delete(f"/api/tests/{test['id']}")).status_code == 204
    assert (await teacher.get(f"/api/tests/{test['id']}")).status_code == 404
    assert (await teacher.get("/api/questions")).json()["total"] == 0


async def test_the_last_question_of_a_published_test_stays(api: Api) -> None:
    teacher = await api.user("teacher")
    test = (
        await teacher.post("/api/tests", json=new_test_payload(is_published=True, questions=[mcq()]))
    ).json()
    response = await teacher.delete(f"/api/questions/{test['questions'][0]['id']}")
    assert response.status_code == 409
    assert "unpublish" in response.json()["detail"]


async def test_publishing_is_audited(api: Api) -> None:
    teacher, admin = await api.user("teacher"), await api.user("admin")
    test = (await teacher.post("/api/tests", json=new_test_payload())).json()
    await teacher.put(f"/api/tests/{test['id']}", json={"is_published": True})
    await teacher.put(f"/api/tests/{test['id']}", json={"is_published": False})
    log = (await admin.get("/api/audit-log", params={"object_type": "test", "object_id": test["id"]})).json()
    assert [e["action"] for e in log["items"]] == ["test.unpublish", "test.publish", "test.create"]
    assert {e["actor_id"] for e in log["items"]} == {teacher.id}


async def test_a_test_carries_its_proctoring_rules(api: Api) -> None:
    teacher = await api.user("teacher")
    proctoring = {
        "analysis_fps": 3,
        "rules": {"no_face_seconds": 5, "voice_level": 30},
        "auto_terminate_after_critical": 2,
    }
    created = await teacher.post("/api/tests", json=new_test_payload(proctoring=proctoring))
    assert created.status_code == 201, created.text
    settings = created.json()["proctoring"]
    assert (settings["rules"]["no_face_seconds"], settings["rules"]["voice_level"]) == (5, 30)
    assert settings["rules"]["multiple_faces_seconds"] == 2  # the defaults for the rest
    assert settings["auto_terminate_after_critical"] == 2

    test_id = created.json()["id"]
    reread = (await teacher.get(f"/api/tests/{test_id}")).json()["proctoring"]
    assert reread == settings
    relaxed = await teacher.put(
        f"/api/tests/{test_id}", json={"proctoring": {"rules": {"looking_away_seconds": 10}}}
    )
    assert relaxed.status_code == 200, relaxed.text
    assert relaxed.json()["proctoring"]["rules"]["no_face_seconds"] == 3  # a whole new set: back to default
    assert relaxed.json()["proctoring"]["auto_terminate_after_critical"] is None

    for bad in (
        {"rules": {"no_face_seconds": -1}},
        {"rules": {"sleepiness": 3}},
        {"auto_terminate_after_critical": 0},
    ):
        response = await teacher.put(f"/api/tests/{test_id}", json={"proctoring": bad})
        assert response.status_code == 400, (bad, response.text)
