"""AI authoring and tutoring over HTTP with the offline provider (the embedded default)."""

from __future__ import annotations

import msgspec
import pymupdf

from protolearn.ai.extraction import MaterialKind
from protolearn.ai.materials import store_material_file
from protolearn.ai.text import matchable
from protolearn.config import Settings
from protolearn.store.database import create_engine, create_sessionmaker
from protolearn.store.materials import LearningMaterial, MaterialStatus
from tests.support.ai_flows import generate, read_upload, ready_material, until_read, upload
from tests.support.ai_material import BIOLOGY, HISTORY, png_of_text, scanned_pdf, text_pdf
from tests.support.api import Api, started_attempt
from tests.support.server import running_server

PDF = ("application/pdf",)


async def test_a_teacher_turns_a_pdf_into_questions_to_review(api: Api) -> None:
    teacher = await api.user("teacher")
    material = await ready_material(teacher, BIOLOGY + HISTORY)
    assert (material["status"], material["page_count"], material["ocr_pages"]) == ("ready", 4, 0)
    assert material["title"] == "Cell biology" and material["content_type"] == PDF[0]
    assert "The cell is the basic unit of life." in material["extracted_text"]

    response = await generate(teacher, material["material_id"], num_questions=10, difficulty="easy")
    assert response.status_code == 201, response.text
    generated = response.json()
    assert (generated["provider"], generated["requested"]) == ("offline", 10)
    questions = generated["questions"]
    assert len(questions) == 10
    assert {q["question_type"] for q in questions} == {"mcq", "true_false", "short_answer"}
    for question in questions:
        assert question["ai_generated"] is True and question["teacher_edited"] is False
        assert matchable(question["source_passage"]) in matchable(material["extracted_text"])

    test = (await teacher.get(f"/api/tests/{generated['test_id']}")).json()
    assert test["is_published"] is False  # drafts: the teacher reviews before publishing
    assert [q["id"] for q in test["questions"]] == [q["id"] for q in questions]
    edited = await teacher.put(f"/api/questions/{questions[0]['id']}", json={"points": 2})
    assert edited.json()["teacher_edited"] is True
    published = await teacher.put(f"/api/tests/{test['id']}", json={"is_published": True})
    assert published.status_code == 200, published.text

    # More questions into another draft test of the teacher's: none repeats one already there.
    draft = await teacher.post("/api/tests", json={"title": "Quiz 2", "time_limit": 10})
    again = await generate(teacher, material["material_id"], num_questions=5, test_id=draft.json()["id"])
    assert again.status_code == 201, again.text
    assert again.json()["test_id"] == draft.json()["id"]


async def test_scans_are_read_in_the_background_with_progress(api: Api, settings: Settings) -> None:
    async with running_server(msgspec.structs.replace(settings, ai_upload_wait_seconds=0.0)) as url:
        api.client.base_url = url  # type: ignore[misc]
        teacher = await api.user("teacher")
        response = await upload(teacher, scanned_pdf(BIOLOGY[:2]), name="scan.pdf")
        assert response.status_code == 202, response.text
        material = response.json()
        assert (material["status"], material["extracted_text"]) == ("processing", "")
        refused = await generate(teacher, material["material_id"])
        assert refused.status_code == 409 and "still being read" in refused.json()["detail"]
        seen: list[float] = []
        material = await until_read(teacher, material["material_id"], seen)
    assert material["status"] == "ready", material
    assert (material["page_count"], material["ocr_pages"]) == (2, 2)
    assert material["ocr_confidence"] > 0.8
    assert seen == sorted(seen) and seen[-1] == 1.0
    first, second = material["extracted_text"].split("\f")
    assert "The cell is the basic unit of life." in first
    assert "Photosynthesis takes place in the chloroplast, an organelle found in plant cells" in second


async def test_bad_uploads_get_clear_errors(api: Api, settings: Settings) -> None:
    teacher = await api.user("teacher")
    document = pymupdf.open()
    document.new_page().insert_text((72, 72), "secret notes")
    encrypted = document.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="pw", owner_pw="pw")
    cases = [
        (await upload(teacher, encrypted), 422, "password"),
        (await upload(teacher, b"%PDF-1.7\n garbage that is no PDF"), 422, "cannot be read"),
        (await upload(teacher, b"plain text pretending", name="notes.pdf"), 422, "upload a PDF"),
        (await upload(teacher, png_of_text("x")[:200], name="photo.png"), 422, "image"),
    ]
    for response, status, detail in cases:
        assert response.status_code == status, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert detail in response.json()["detail"]
    missing = await teacher.post("/api/ai/upload-material", data={"subject": "x"})
    assert missing.status_code == 400 and missing.headers["content-type"].startswith(
        "application/problem+json"
    )
    student = await api.user("student")
    assert (await upload(student, text_pdf(["x"]))).status_code == 403
    assert (await teacher.get("/api/ai/materials")).json()["total"] == 0  # nothing half-stored

    async with running_server(msgspec.structs.replace(settings, ai_max_upload_bytes=20_000)) as url:
        api.client.base_url = url  # type: ignore[misc]
        small = await api.login(teacher.email)
        too_big = await upload(small, text_pdf(BIOLOGY) + b"\0" * 30_000)
        assert too_big.status_code == 413, too_big.text


async def test_a_photo_of_a_page_is_read_by_ocr(api: Api) -> None:
    teacher = await api.user("teacher")
    response = await upload(
        teacher, png_of_text("The nucleus contains the genetic material of the cell."), name="IMG_0042.PNG"
    )
    material = await read_upload(teacher, response)  # 202 when OCR outlasts the upload wait
    assert (material["status"], material["content_type"], material["ocr_pages"]) == ("ready", "image/png", 1)
    assert "The nucleus contains the genetic material of the cell." in material["extracted_text"]


async def test_materials_and_their_questions_stay_with_their_teacher(api: Api) -> None:
    owner, other, student = await api.user("teacher"), await api.user("teacher"), await api.user("student")
    material = await ready_material(owner)
    material_id = material["material_id"]
    assert (await other.get(f"/api/ai/materials/{material_id}")).status_code == 404
    assert (await other.get("/api/ai/materials")).json()["total"] == 0
    assert (await owner.get("/api/ai/materials")).json()["items"][0]["material_id"] == material_id
    assert (await student.get(f"/api/ai/materials/{material_id}")).status_code == 403
    assert (await generate(other, material_id)).status_code == 404
    assert (await generate(student, material_id)).status_code == 403

    others_test = await other.post("/api/tests", json={"title": "Mine", "time_limit": 10})
    assert (await generate(owner, material_id, test_id=others_test.json()["id"])).status_code == 404
    generated = (await generate(owner, material_id, num_questions=3)).json()
    await owner.put(f"/api/tests/{generated['test_id']}", json={"is_published": True})
    into_published = await generate(owner, material_id, test_id=generated["test_id"])
    assert into_published.status_code == 409 and "unpublish" in into_published.json()["detail"]
    question_id = generated["questions"][0]["id"]
    refine = {"question_id": question_id, "feedback": "make it easier"}
    assert (await other.post("/api/ai/refine-question", json=refine)).status_code == 404
    assert (await student.post("/api/ai/refine-question", json=refine)).status_code == 403


async def test_refinement_applies_the_teachers_feedback(api: Api) -> None:
    teacher = await api.user("teacher")
    material = await ready_material(teacher)
    generated = (
        await generate(teacher, material["material_id"], num_questions=4, question_types=["mcq"])
    ).json()
    question = generated["questions"][0]
    response = await teacher.post(
        "/api/ai/refine-question", json={"question_id": question["id"], "feedback": "Make this true/false."}
    )
    assert response.status_code == 200, response.text
    refined = response.json()
    assert refined["refined_question"]["question_type"] == "true_false"
    assert refined["refined_question"]["correct_answer"] == "true"
    assert refined["changes"] and refined["source_passage"] == question["source_passage"]
    stored = (await teacher.get(f"/api/questions/{question['id']}")).json()
    assert stored["question_type"] == "true_false"
    not_understood = await teacher.post(
        "/api/ai/refine-question", json={"question_id": question["id"], "feedback": "more sparkle"}
    )
    assert not_understood.status_code == 422 and "understands" in not_understood.json()["detail"]


async def test_the_tutor_and_explanations_never_help_during_a_test(api: Api) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    material = await ready_material(teacher)
    generated = (await generate(teacher, material["material_id"], num_questions=4)).json()
    test_id = generated["test_id"]
    await teacher.put(f"/api/tests/{test_id}", json={"is_published": True, "review_mode": "answers"})
    question = generated["questions"][0]
    ask = {"question": "Where does photosynthesis take place?", "context": {"test_id": test_id}}
    explain = {"question_id": question["id"], "student_answer": "no idea"}

    assert (await student.post("/api/ai/explain-answer", json=explain)).status_code == 403  # not taken yet
    attempt = await started_attempt(student, test_id)
    during = await student.post("/api/ai/teaching-assist", json=ask)
    assert during.status_code == 409 and "taking a test" in during.json()["detail"]
    assert (await student.post("/api/ai/explain-answer", json=explain)).status_code == 403
    submitted = await student.post(f"/api/tests/{test_id}/submit", json={"attempt_id": attempt["attempt_id"]})
    assert submitted.status_code == 200, submitted.text

    tutor = await student.post("/api/ai/teaching-assist", json=ask)
    assert tutor.status_code == 200, tutor.text
    answer = tutor.json()
    assert "chloroplast" in answer["answer"]
    assert answer["sources"][0]["material_id"] == material["material_id"]
    assert answer["follow_up_questions"]
    explained = await student.post("/api/ai/explain-answer", json=explain)
    assert explained.status_code == 200, explained.text
    body = explained.json()
    assert body["is_correct"] is False and body["correct_answer"] == question["correct_answer"]
    assert question["correct_answer"] in body["explanation"]
    right = await student.post(
        "/api/ai/explain-answer",
        json={"question_id": question["id"], "student_answer": question["correct_answer"]},
    )
    assert right.json()["is_correct"] is True

    await teacher.put(f"/api/tests/{test_id}", json={"review_mode": "score"})
    hidden = await student.post("/api/ai/explain-answer", json=explain)
    assert hidden.status_code == 403 and "review setting" in hidden.json()["detail"]
    stranger = await api.user("student")
    assert (await stranger.post("/api/ai/explain-answer", json=explain)).status_code == 403
    assert (await (await api.user("teacher")).post("/api/ai/explain-answer", json=explain)).status_code == 404


async def test_health_reports_the_provider_and_its_calls(api: Api) -> None:
    teacher = await api.user("teacher")
    material = await ready_material(teacher)
    await generate(teacher, material["material_id"], num_questions=2)
    health = (await teacher.get("/api/ai/health")).json()
    assert (health["provider"], health["model"], health["reachable"]) == (
        "offline",
        "offline-extractive-1",
        True,
    )
    assert health["providers"]["offline"]["calls"] == 1 and health["error_rate"] == 0.0
    assert health["last_latency_ms"] is not None
    assert (await (await api.user("student")).get("/api/ai/health")).status_code == 403


async def test_an_extraction_cut_off_by_a_stop_resumes_at_start(settings: Settings, api: Api) -> None:
    teacher = await api.user("teacher")
    data = text_pdf(BIOLOGY)
    path, digest = store_material_file(settings.data_dir, teacher.id, MaterialKind.PDF, data)
    engine = create_engine(settings.database_url)
    try:
        async with create_sessionmaker(engine)() as session:
            material = LearningMaterial(
                teacher_id=teacher.id,
                title="Interrupted",
                filename="notes.pdf",
                content_type=PDF[0],
                path=path,
                size_bytes=len(data),
                sha256=digest,
                status=MaterialStatus.PROCESSING.value,
            )
            session.add(material)
            await session.commit()
            material_id = material.id
    finally:
        await engine.dispose()
    async with running_server(settings) as url:
        api.client.base_url = url  # type: ignore[misc]
        again = await api.login(teacher.email)
        found = await until_read(again, material_id)
    assert (found["status"], found["page_count"]) == ("ready", 3)
    assert found["size_bytes"] == len(data)
    assert "The cell is the basic unit of life." in found["extracted_text"]
