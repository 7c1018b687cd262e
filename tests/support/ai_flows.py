"""A teacher's steps of AI authoring over HTTP: upload a material, wait for its text, generate."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.support.ai_material import BIOLOGY, text_pdf
from tests.support.api import Actor

__all__ = ("generate", "read_upload", "ready_material", "until_read", "upload")

# Only a safety net for a hung extraction: the tests wait for the text, however slow the machine.
READ_BOUND_S = 120.0


async def upload(teacher: Actor, data: bytes, name: str = "notes.pdf", **fields: str) -> Any:
    return await teacher.post(
        "/api/ai/upload-material",
        files={"file": (name, data, "application/octet-stream")},
        data={"subject": "Biology", **fields},
    )


async def until_read(actor: Actor, material_id: int, progress: list[float] | None = None) -> dict[str, Any]:
    """The material once its extraction has ended, polled; each progress seen goes to ``progress``."""
    deadline = asyncio.get_running_loop().time() + READ_BOUND_S
    while True:
        response = await actor.get(f"/api/ai/materials/{material_id}")
        assert response.status_code == 200, response.text
        material = dict(response.json())
        if progress is not None:
            progress.append(material["progress"])
        if material["status"] != "processing":
            return material
        assert asyncio.get_running_loop().time() < deadline, f"still being read: {material}"
        await asyncio.sleep(0.1)


async def read_upload(teacher: Actor, response: Any) -> dict[str, Any]:
    """The uploaded material with its text: 201 when read within the upload wait, else 202 and poll."""
    assert response.status_code in (201, 202), response.text
    material = dict(response.json())
    if response.status_code == 202:
        material = await until_read(teacher, material["material_id"])
    return material


async def ready_material(teacher: Actor, pages: list[str] = BIOLOGY) -> dict[str, Any]:
    material = await read_upload(teacher, await upload(teacher, text_pdf(pages), title="Cell biology"))
    assert material["status"] == "ready", material
    return material


async def generate(teacher: Actor, material_id: int, **fields: Any) -> Any:
    return await teacher.post("/api/ai/generate-questions", json={"material_id": material_id, **fields})
