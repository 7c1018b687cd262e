"""The outside tester's uploads over HTTP: bombs and odd packages answer 422 problem details at
upload (nothing stored), and what can only be found by reading ends the material ``failed``
with a clear error; never a 500."""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec
import pytest

from protolearn.config import Settings
from tests.support.ai_material import (
    BIOLOGY,
    blank_pdf,
    docx_bomb,
    docx_of,
    docx_with_document,
    patch_zip_entry,
    png_bomb,
    scanned_pdf,
)
from tests.support.api import Actor, Api
from tests.support.server import running_server

READ_BOUND_S = 120.0  # a safety net for a hung extraction, not a timing assertion


async def upload(teacher: Actor, data: bytes, name: str) -> Any:
    return await teacher.post(
        "/api/ai/upload-material",
        files={"file": (name, data, "application/octet-stream")},
        data={"subject": "Biology"},
    )


async def read(teacher: Actor, response: Any) -> dict[str, Any]:
    """The uploaded material once its extraction has ended."""
    assert response.status_code in (201, 202), response.text
    material = dict(response.json())
    deadline = asyncio.get_running_loop().time() + READ_BOUND_S
    while material["status"] == "processing":
        assert asyncio.get_running_loop().time() < deadline, f"still being read: {material}"
        await asyncio.sleep(0.1)
        material = (await teacher.get(f"/api/ai/materials/{material['material_id']}")).json()
    return material


def refused(response: Any, title: str, detail: str) -> None:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert (body["status"], body["title"]) == (422, title)
    assert detail in body["detail"], body["detail"]


async def test_bombs_and_odd_packages_are_refused_at_upload(api: Api) -> None:
    teacher = await api.user("teacher")
    word = docx_of(BIOLOGY[:1])
    over, unreadable = "Material over a limit", "Unreadable material"
    cases = [
        ("huge.png", png_bomb(60000, 60000), over, "60000 x 60000 pixels (3600 Mpx)"),
        ("zeros.png", png_bomb(30000, 30000), over, "30000 x 30000 pixels (900 Mpx)"),
        ("notes.docx", docx_bomb(300_000_000), over, "300 MB of XML; at most 50 MB"),
        ("notes.docx", patch_zip_entry(word, "word/document.xml", method=9), unreadable, "method 9"),
        ("notes.docx", patch_zip_entry(word, "word/document.xml", flag_bits=1), unreadable, "encrypted"),
        ("poster.pdf", blank_pdf(1, width=3600, height=3600), over, "50 x 50 in"),
        ("blank.pdf", blank_pdf(3000), over, "3000 pages; at most 300"),
    ]
    for name, data, title, detail in cases:
        refused(await upload(teacher, data, name), title, detail)
    assert (await teacher.get("/api/ai/materials")).json()["total"] == 0  # nothing stored


async def test_broken_xml_ends_the_material_failed_saying_why(api: Api) -> None:
    teacher = await api.user("teacher")
    broken = docx_with_document([b"<w:document><w:body><w:p>"])
    material = await read(teacher, await upload(teacher, broken, "notes.docx"))
    assert material["status"] == "failed"
    assert "the Word document's text is not well-formed XML" in material["error"]


@pytest.fixture
def tight_ocr(settings: Settings) -> Settings:
    """OCR of one small render spends the budget; small renders keep the test quick."""
    return msgspec.structs.replace(settings, ai_ocr_budget_seconds=1e-6, ai_ocr_max_pixels=300_000)


async def test_ocr_past_the_budget_ends_the_material_failed(api: Api, tight_ocr: Settings) -> None:
    async with running_server(tight_ocr) as url:
        api.client.base_url = url  # type: ignore[misc]
        teacher = await api.user("teacher")
        material = await read(teacher, await upload(teacher, scanned_pdf(BIOLOGY), "scan.pdf"))
    assert material["status"] == "failed"
    assert "took longer than the 1e-06 s allowed for one material" in material["error"]
    assert "stopped before page 2 of 3" in material["error"]
