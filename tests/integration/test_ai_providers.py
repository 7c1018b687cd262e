"""Groq and OpenAI-compatible providers against a real HTTP server on loopback speaking their wire
protocol: well-formed answers, malformed JSON, a wrong answer key, 429 with retry-after, timeouts."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest

from protolearn.config import Settings
from tests.support.ai_flows import read_upload, upload
from tests.support.ai_material import BIOLOGY, scanned_pdf, table_pdf, text_pdf
from tests.support.api import Actor, Api
from tests.support.llm_server import FakeLlm, Reply, fake_llm
from tests.support.server import running_server
from tests.unit.ai.test_markdown import DEEPSEEK_OCR_PAGE

SOURCE = " ".join(
    [
        "Photosynthesis takes place in the chloroplast,",
        "an organelle found in plant cells but not in animal cells.",
    ]
)


def question(**fields: Any) -> dict[str, Any]:
    return {
        "question_text": "Where does photosynthesis take place?",
        "type": "mcq",
        "options": ["the chloroplast", "the nucleus", "the ribosome", "the mitochondrion"],
        "correct_answer": "the chloroplast",
        "explanation": "The chloroplast holds chlorophyll.",
        "difficulty": "medium",
        "source_passage": SOURCE,
    } | fields


GOOD = [
    question(),
    question(
        question_text="Photosynthesis produces glucose and oxygen.",
        type="true_false",
        options=[],
        correct_answer="true",
        source_passage=(
            "During photosynthesis, plants take in carbon dioxide and water and produce glucose and oxygen."
        ),
    ),
    question(
        question_text="What is the name of the green pigment that absorbs light?",
        type="short_answer",
        options=[],
        correct_answer="chlorophyll",
        source_passage="The chloroplast contains chlorophyll, a green pigment that absorbs light.",
    ),
]


@pytest.fixture
async def llm() -> AsyncIterator[FakeLlm]:
    async with fake_llm() as server:
        yield server


# An upload answers 201 once its text is read; these tests are about the provider, not about how
# fast a loaded machine reads a PDF, so the upload waits as long as it takes.
PATIENT_UPLOAD = {"ai_upload_wait_seconds": 600.0}


def groq_settings(settings: Settings, llm: FakeLlm, **overrides: Any) -> Settings:
    groq = {"ai_provider": "groq", "groq_api_key": "gsk_test", "groq_base_url": llm.url, "ai_max_retries": 2}
    return msgspec.structs.replace(
        settings, **(groq | {"ai_timeout_seconds": 2.0} | PATIENT_UPLOAD | overrides)
    )


def questions_asked_for(llm: FakeLlm) -> int:
    """How many questions the provider was asked to write, over every chunk it was sent."""
    asked = [re.match(r"Write (\d+) questions", r["messages"][1]["content"]) for r in llm.requests]
    return sum(int(m.group(1)) for m in asked if m)


async def teacher_with_material(api: Api, url: str) -> tuple[Actor, int]:
    api.client.base_url = url  # type: ignore[misc]
    teacher = await api.user("teacher")
    response = await teacher.post(
        "/api/ai/upload-material", files={"file": ("bio.pdf", text_pdf(BIOLOGY), "application/pdf")}
    )
    assert response.status_code == 201, response.text
    return teacher, int(response.json()["material_id"])


async def generate(teacher: Actor, material_id: int, count: int = 3) -> Any:
    return await teacher.post(
        "/api/ai/generate-questions", json={"material_id": material_id, "num_questions": count}
    )


async def test_groq_questions_are_checked_and_saved(api: Api, settings: Settings, llm: FakeLlm) -> None:
    wrong_key = question(question_text="Which organelle holds DNA?", correct_answer="the Golgi body")
    llm.script(Reply.json({"questions": [*GOOD, wrong_key]}))
    async with running_server(groq_settings(settings, llm)) as url:
        teacher, material_id = await teacher_with_material(api, url)
        response = await generate(teacher, material_id)
        health = (await teacher.get("/api/ai/health")).json()
    assert response.status_code == 201, response.text
    body = response.json()
    assert (body["provider"], body["model"]) == ("groq", "openai/gpt-oss-120b")
    assert [q["question_type"] for q in body["questions"]] == ["mcq", "true_false", "short_answer"]
    assert body["questions"][0]["correct_answer"] == "the chloroplast"
    assert body["questions"][0]["source_passage"] == SOURCE
    assert [d["reason"] for d in body["dropped"]] == ["the answer key is not one of the options"]
    [sent] = llm.requests
    assert sent["model"] == "openai/gpt-oss-120b"
    assert sent["response_format"] == {"type": "json_object"}
    assert "Photosynthesis takes place in the chloroplast" in sent["messages"][1]["content"]
    assert '"source_passage"' in sent["messages"][0]["content"]
    assert (health["provider"], health["reachable"], health["providers"]["groq"]["calls"]) == (
        "groq",
        True,
        1,
    )


async def test_the_provider_is_asked_for_a_quarter_more_once(
    api: Api, settings: Settings, llm: FakeLlm
) -> None:
    llm.script(Reply.json({"questions": GOOD}))
    async with running_server(groq_settings(settings, llm)) as url:
        teacher, material_id = await teacher_with_material(api, url)
        response = await generate(teacher, material_id, count=8)
    assert response.status_code == 201, response.text
    assert response.json()["requested"] == 8
    assert questions_asked_for(llm) == 10  # 8 wanted, 1.25x for what validation drops: not 1.25x twice


async def test_malformed_json_is_asked_again_then_refused(api: Api, settings: Settings, llm: FakeLlm) -> None:
    fenced = "```json\n" + json.dumps({"questions": GOOD}) + "\n```"
    llm.script(Reply(content="Here are your questions: {questions: [oops"), Reply(content=fenced))
    async with running_server(groq_settings(settings, llm)) as url:
        teacher, material_id = await teacher_with_material(api, url)
        repaired = await generate(teacher, material_id)
        assert repaired.status_code == 201, repaired.text
        assert len(repaired.json()["questions"]) == 3
        assert "not the JSON object asked for" in llm.requests[1]["messages"][-1]["content"]

        llm.script(*[Reply(content="not json")] * 3)
        refused = await generate(teacher, material_id)
        health = (await teacher.get("/api/ai/health")).json()
    assert refused.status_code == 502, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert "did not answer with the JSON" in refused.json()["detail"]
    assert len(llm.requests) == 5
    assert health["providers"]["groq"]["errors"] == 1 and health["error_rate"] == 0.5


async def test_a_429_waits_for_retry_after(api: Api, settings: Settings, llm: FakeLlm) -> None:
    llm.script(Reply(status=429, headers={"retry-after": "1"}), Reply.json({"questions": GOOD}))
    async with running_server(groq_settings(settings, llm)) as url:
        teacher, material_id = await teacher_with_material(api, url)
        response = await generate(teacher, material_id)
    assert response.status_code == 201, response.text
    assert len(llm.requests) == 2
    assert llm.received_at[1] - llm.received_at[0] >= 0.95  # the server's retry-after, honoured


async def test_timeouts_and_5xx_end_in_a_503_after_retries(
    api: Api, settings: Settings, llm: FakeLlm
) -> None:
    # The time-out is generous beside the replies' delay: on a loaded machine a 0.5 s time-out
    # could pass before a request even reached the stand-in server, shifting the script.
    llm.script(Reply(delay_s=12.0), Reply(status=503), Reply(delay_s=12.0))
    async with running_server(groq_settings(settings, llm, ai_timeout_seconds=2.0)) as url:
        teacher, material_id = await teacher_with_material(api, url)
        response = await generate(teacher, material_id)
        llm.script(Reply(status=429, headers={"retry-after": "120"}))
        busy = await generate(teacher, material_id)
        still_serving = await teacher.get("/api/ai/materials")
    assert response.status_code == 503, response.text
    assert "failed 3 time(s): timed out" in response.json()["detail"]
    assert len(llm.requests) == 4  # three tries, then the 429
    assert busy.status_code == 503 and busy.headers["retry-after"] == "120"
    assert still_serving.status_code == 200


async def test_an_openai_compatible_server_tutors_and_explains(
    api: Api, settings: Settings, llm: FakeLlm
) -> None:
    compatible = msgspec.structs.replace(
        settings,
        ai_provider="openai_compatible",
        ai_base_url=f"{llm.url}/openai/v1",
        ai_model="llama-3.1-8b-instruct",
        ai_api_key="local-key",
        **PATIENT_UPLOAD,
    )
    llm.script(
        Reply.json(
            {
                "answer": "In the chloroplast, which holds chlorophyll.",
                "follow_up_questions": ["What does chlorophyll absorb?"],
                "related_topics": ["photosynthesis"],
            }
        ),
        Reply.json(
            {
                "question": question(type="short_answer", options=[], correct_answer="chloroplast"),
                "changes": ["made it short answer"],
            }
        ),
    )
    async with running_server(compatible) as url:
        teacher, material_id = await teacher_with_material(api, url)
        tutor = await teacher.post(
            "/api/ai/teaching-assist", json={"question": "Where does photosynthesis take place?"}
        )
        draft = await teacher.post("/api/tests", json={"title": "Quiz", "time_limit": 10})
        made = await teacher.post(
            "/api/questions",
            json={
                "test_id": draft.json()["id"],
                "question_text": "Where does photosynthesis take place?",
                "question_type": "mcq",
                "options": ["chloroplast", "nucleus", "ribosome"],
                "correct_answer": "chloroplast",
            },
        )
        refined = await teacher.post(
            "/api/ai/refine-question",
            json={"question_id": made.json()["id"], "feedback": "no options please"},
        )
    assert tutor.status_code == 200, tutor.text
    assert tutor.json()["answer"] == "In the chloroplast, which holds chlorophyll."
    assert tutor.json()["sources"][0]["material_id"] == material_id
    assert refined.status_code == 200, refined.text
    assert refined.json()["refined_question"]["question_type"] == "short_answer"
    tutor_request, refine_request = llm.requests
    assert tutor_request["model"] == "llama-3.1-8b-instruct"
    assert "chloroplast" in tutor_request["messages"][1]["content"]  # the retrieved passage went along
    assert "no options please" in refine_request["messages"][1]["content"]


async def test_a_vision_model_reads_scans_keeping_formulas_and_tables(
    api: Api, settings: Settings, llm: FakeLlm
) -> None:
    llm.script(Reply(DEEPSEEK_OCR_PAGE, logprobs=[-0.01, -0.03]))
    vision = {"ocr_provider": "vision", "ocr_base_url": f"{llm.url}/v1"} | PATIENT_UPLOAD
    async with running_server(msgspec.structs.replace(settings, **vision)) as url:
        api.client.base_url = url  # type: ignore[misc]
        teacher = await api.user("teacher")
        scan = await read_upload(
            teacher, await upload(teacher, scanned_pdf(["v^2 = u^2 + 2as"]), name="scan.pdf")
        )
        handout = await read_upload(teacher, await upload(teacher, table_pdf(), name="acids.pdf"))
    assert scan["status"] == "ready", scan
    assert "$$v^2 = u^2 + 2as$$" in scan["extracted_markdown"]
    assert "| Velocity | v | m/s |" in scan["extracted_markdown"]
    assert "Velocity | v | m/s" in scan["extracted_text"]
    assert scan["pages"] == [
        {
            "page": 1,
            "provider": "vision",
            "model": "deepseek-ai/DeepSeek-OCR",
            "ocr_confidence": 0.9802,
            "note": "",
        }
    ]
    assert (scan["ocr_pages"], scan["ocr_confidence"]) == (1, 0.9802)
    [sent] = llm.requests  # the handout's text layer needs no OCR
    assert sent["messages"][0]["content"][0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert "|Acetic acid|CH3COOH|4.76|" in handout["extracted_markdown"]
    assert handout["pages"] == [
        {"page": 1, "provider": "text_layer", "model": "", "ocr_confidence": None, "note": ""}
    ]


async def test_questions_come_from_the_structured_text_and_may_quote_a_table_row(
    api: Api, settings: Settings, llm: FakeLlm
) -> None:
    row = question(
        question_text="What is the pKa of acetic acid?",
        options=["4.76", "-6.3", "6.35", "2.15"],
        correct_answer="4.76",
        source_passage="| Acetic acid | CH3COOH | 4.76 |",
    )
    heading = question(
        question_text="A strong acid dissociates completely in water.",
        type="true_false",
        options=[],
        correct_answer="true",
        source_passage="Strong and weak acids",
    )
    llm.script(Reply.json({"questions": [row, heading]}))
    async with running_server(groq_settings(settings, llm)) as url:
        api.client.base_url = url  # type: ignore[misc]
        teacher = await api.user("teacher")
        material = await read_upload(teacher, await upload(teacher, table_pdf(), name="acids.pdf"))
        response = await generate(teacher, material["material_id"], count=2)
    assert response.status_code == 201, response.text
    kept = response.json()["questions"]
    assert [q["source_passage"] for q in kept] == [
        "| Acetic acid | CH3COOH | 4.76 |",
        "Strong and weak acids",
    ]
    [sent] = llm.requests
    assert "|Acetic acid|CH3COOH|4.76|" in sent["messages"][1]["content"]
    assert "# Acids and Bases" in sent["messages"][1]["content"]
    assert "tables" in sent["messages"][0]["content"]
