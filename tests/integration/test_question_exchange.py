"""Question exchange over HTTP: importing Moodle XML, GIFT and CSV into a test, exporting a test."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.api import Actor, Api, mcq, new_test_payload, short_answer, started_attempt, true_false

EXCHANGE_FILES = Path(__file__).parents[1] / "unit" / "assessment" / "exchange_files"
QUESTION_FIELDS = ("question_text", "question_type", "options", "correct_answer", "points", "explanation")
GIFT = b"""// points: 2
::Capital::What is the capital of France? {=Paris ~Lyon ~Nice ####Since 987.}

Water is wet. {T}

::Essay::Describe Paris. {}
"""


async def _new_test(teacher: Actor, questions: list[dict[str, Any]] | None = None, **fields: Any) -> int:
    payload = new_test_payload(questions=[] if questions is None else questions, **fields)
    response = await teacher.post("/api/tests", json=payload)
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _import(
    actor: Actor, test_id: int, name: str, data: bytes, **form: str
) -> tuple[int, dict[str, Any]]:
    response = await actor.post(
        f"/api/tests/{test_id}/import", files={"file": (name, data, "application/octet-stream")}, data=form
    )
    return response.status_code, response.json()


async def _questions(actor: Actor, test_id: int) -> list[dict[str, Any]]:
    response = await actor.get(f"/api/tests/{test_id}")
    assert response.status_code == 200, response.text
    return list(response.json()["questions"])


def _fields(question: dict[str, Any]) -> dict[str, Any]:
    return {name: question[name] for name in QUESTION_FIELDS}


async def test_a_dry_run_shows_what_would_be_imported_and_stores_nothing(api: Api) -> None:
    teacher = await api.user("teacher")
    test_id = await _new_test(teacher, [mcq()])
    status, body = await _import(teacher, test_id, "bank.gift", GIFT, dry_run="true")
    assert status == 200, body
    assert (body["dry_run"], body["format"], body["test_id"]) == (True, "gift", test_id)
    assert [_fields(q) for q in body["imported"]] == [
        {
            "question_text": "What is the capital of France?",
            "question_type": "mcq",
            "options": ["Paris", "Lyon", "Nice"],
            "correct_answer": "Paris",
            "points": 2.0,
            "explanation": "Since 987.",
        },
        {
            "question_text": "Water is wet.",
            "question_type": "true_false",
            "options": ["true", "false"],
            "correct_answer": "true",
            "points": 1.0,
            "explanation": None,
        },
    ]
    assert all(q["id"] is None for q in body["imported"])
    assert body["skipped"] == [
        {
            "item": "question 3 (GIFT essay): 'Essay'",
            "reason": "Essay questions (empty braces {}) cannot be held in ProtoLearn.",
        }
    ]
    assert [q["question_text"] for q in await _questions(teacher, test_id)] == ["Capital of France?"]


async def test_an_import_appends_the_questions_in_file_order_and_lists_what_was_skipped(api: Api) -> None:
    teacher = await api.user("teacher")
    test_id = await _new_test(teacher, [mcq(), true_false()], is_published=True)
    status, body = await _import(
        teacher, test_id, "moodle-export.xml", (EXCHANGE_FILES / "moodle_export.xml").read_bytes()
    )
    assert status == 200, body
    assert (body["dry_run"], body["format"]) == (False, "moodle-xml")
    assert [q["question_type"] for q in body["imported"]] == [
        "mcq",
        "true_false",
        "true_false",
        "short_answer",
    ]
    assert len(body["skipped"]) == 7
    assert body["skipped"][0]["item"] == "question 5 (Moodle type matching): 'Match the capitals'"
    assert all(entry["reason"].endswith(".") for entry in body["skipped"])

    questions = await _questions(teacher, test_id)
    assert [q["position"] for q in questions] == [0, 1, 2, 3, 4, 5]
    assert [q["id"] for q in questions[2:]] == [q["id"] for q in body["imported"]]
    assert [_fields(q) for q in questions[2:]] == [_fields(q) for q in body["imported"]]
    assert questions[2]["question_text"] == "What is the capital of France?"
    assert questions[2]["points"] == 2.0
    assert not any(q["ai_generated"] for q in questions)
    # Students see the imported questions of a published test, without the answer key.
    student = await api.user("student")
    seen = (await student.get(f"/api/tests/{test_id}")).json()["questions"]
    assert len(seen) == 6 and "correct_answer" not in seen[2]


async def test_csv_rows_that_are_not_questions_are_skipped_and_the_rest_imported(api: Api) -> None:
    teacher = await api.user("teacher")
    test_id = await _new_test(teacher)
    csv = (
        "\ufeffQuestion,Type,Points,Correct_Answer,Explanation,Option_1,Option_2\r\n"
        '"Two, or three?",mcq,1,Two,"Count: one, two.",Two,Three\r\n'
        "Missing answer,short_answer,1,,,,\r\n"
        'Boiling,true_false,2,"false",,,\r\n'
    ).encode()
    status, body = await _import(teacher, test_id, "bank.csv", csv)
    assert status == 200, body
    assert [q["question_text"] for q in body["imported"]] == ["Two, or three?", "Boiling"]
    assert body["skipped"] == [{"item": "row 3", "reason": "The correct answer is empty."}]
    assert len(await _questions(teacher, test_id)) == 2


@pytest.mark.parametrize(
    ("file_format", "media_type", "filename"),
    [
        ("moodle-xml", "application/xml", "test-{id}.xml"),
        ("gift", "text/plain; charset=utf-8", "test-{id}.gift.txt"),
        ("csv", "text/csv; charset=utf-8", "test-{id}.csv"),
    ],
)
async def test_an_exported_test_imports_into_another_as_the_same_questions(
    api: Api, file_format: str, media_type: str, filename: str
) -> None:
    teacher = await api.user("teacher")
    original = [
        mcq("Capital of France?\nPick one: {a} = #b ~c", points=2.5, explanation="Since 987; see \\map."),
        mcq("=SUM(A1:A2) means?", "-1", options=["-1", "+2", "@3", "Paris"], points=0),
        true_false("Water is wet.", "false", explanation="It makes things wet."),
        short_answer("Symbol of gold? <b>two</b> letters", "Au", points=1000),
    ]
    source = await _new_test(teacher, original, title="Chemistry / week 1")
    exported = await teacher.get(f"/api/tests/{source}/export", params={"format": file_format})
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"] == media_type
    expected_name = filename.format(id=source)
    assert exported.headers["content-disposition"] == f'attachment; filename="{expected_name}"'

    target = await _new_test(teacher, [short_answer("Already here", "yes")])
    status, body = await _import(teacher, target, expected_name, exported.content)
    assert status == 200, body
    assert body["format"] == file_format and body["skipped"] == []
    questions = await _questions(teacher, target)
    assert [_fields(q) for q in questions[1:]] == [_fields(q) for q in await _questions(teacher, source)]
    assert questions[1]["options"] == ["Paris", "Lyon", "Nice", "Lille"]
    assert questions[1]["points"] == 2.5


async def test_who_may_import_and_export(api: Api, client: httpx.AsyncClient) -> None:
    teacher, other_teacher = await api.user("teacher"), await api.user("teacher")
    student, admin = await api.user("student"), await api.user("admin")
    test_id = await _new_test(teacher, [mcq()], is_published=True)
    url = f"/api/tests/{test_id}"
    upload = {"file": ("bank.gift", GIFT, "text/plain")}

    assert (await other_teacher.post(f"{url}/import", files=upload)).status_code == 404
    assert (await other_teacher.get(f"{url}/export")).status_code == 404
    assert (await student.post(f"{url}/import", files=upload)).status_code == 403
    assert (await student.get(f"{url}/export")).status_code == 403
    assert (await admin.post(f"{url}/import", files=upload)).status_code == 403  # the owner's, alone
    assert (await client.post(f"{url}/import", files=upload)).status_code == 401
    assert (await client.get(f"{url}/export")).status_code == 401
    admin_export = await admin.get(f"{url}/export", params={"format": "csv"})
    assert admin_export.status_code == 200
    assert admin_export.text.startswith("\ufeffquestion_text,question_type,points")
    assert len(await _questions(teacher, test_id)) == 1


async def test_a_test_students_have_taken_takes_no_imported_questions(api: Api) -> None:
    teacher, student = await api.user("teacher"), await api.user("student")
    test_id = await _new_test(teacher, [mcq()], is_published=True)
    await started_attempt(student, test_id)
    status, body = await _import(teacher, test_id, "bank.gift", GIFT)
    assert status == 409
    assert "already taken" in body["detail"]


@pytest.mark.parametrize(
    ("name", "data", "form", "status", "detail"),
    [
        ("bank.xml", b"<quiz><question type='truefalse'>", {}, 422, "not well-formed XML"),
        (
            "bank.xml",
            b'<!DOCTYPE quiz [<!ENTITY a "aaaa">]><quiz><question type="essay">&a;</question></quiz>',
            {},
            422,
            "entities",
        ),
        ("bank.csv", b"first,second\n1,2\n", {}, 422, "names its columns"),
        ("bank.gift", b"\xff\xfe not text", {}, 422, "UTF-8"),
        ("bank.gift", b"   ", {}, 422, "empty"),
        ("bank.gift", b"// nothing but a comment\n", {}, 422, "no questions"),
        ("bank.gift", GIFT, {"dry_run": "perhaps"}, 400, "dry_run"),
        ("bank.gift", GIFT, {"format": "docx"}, 400, "format"),
        ("bank.gift", b"x" * (2 * 1024 * 1024 + 1), {}, 422, "at most 2097152"),
    ],
)
async def test_files_that_cannot_be_imported_answer_problem_details(
    api: Api, name: str, data: bytes, form: dict[str, str], status: int, detail: str
) -> None:
    teacher = await api.user("teacher")
    test_id = await _new_test(teacher, [mcq()])
    response = await teacher.post(
        f"/api/tests/{test_id}/import", files={"file": (name, data, "application/octet-stream")}, data=form
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert detail in response.json()["detail"]
    assert len(await _questions(teacher, test_id)) == 1


async def test_bodies_past_the_limit_and_missing_files_are_refused(api: Api) -> None:
    teacher = await api.user("teacher")
    test_id = await _new_test(teacher, [mcq()])
    too_big = await teacher.post(
        f"/api/tests/{test_id}/import", files={"file": ("big.gift", b"x" * (3 * 1024 * 1024), "text/plain")}
    )
    assert too_big.status_code == 413
    assert too_big.headers["content-type"] == "application/problem+json"
    no_file = await teacher.post(f"/api/tests/{test_id}/import", data={"dry_run": "1"})
    assert no_file.status_code == 400
    assert no_file.headers["content-type"] == "application/problem+json"


async def test_an_unknown_export_format_is_a_problem(api: Api) -> None:
    teacher = await api.user("teacher")
    test_id = await _new_test(teacher, [mcq()])
    response = await teacher.get(f"/api/tests/{test_id}/export", params={"format": "docx"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "application/problem+json"
    assert "format" in response.json()["detail"]


async def test_the_openapi_document_describes_both_routes(client: httpx.AsyncClient) -> None:
    spec = (await client.get("/schema/openapi.json")).json()
    upload = spec["paths"]["/api/tests/{test_id}/import"]["post"]
    form = upload["requestBody"]["content"]["multipart/form-data"]["schema"]
    if "$ref" in form:
        form = spec["components"]["schemas"][form["$ref"].rsplit("/", 1)[-1]]
    assert {"file", "dry_run", "format"} <= set(form["properties"])
    assert "200" in upload["responses"]
    export = spec["paths"]["/api/tests/{test_id}/export"]["get"]
    [format_parameter] = [p for p in export["parameters"] if p["name"] == "format"]
    assert format_parameter["in"] == "query"
    assert "200" in export["responses"]
