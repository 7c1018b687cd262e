"""``/api/ai``: material uploads, question generation and refinement, tutor, explanations, health."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.params import Body, FromQuery, JSONBody
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED, HTTP_202_ACCEPTED

from protolearn.ai.schemas import (
    AiHealth,
    ExplainRequest,
    ExplainResult,
    GenerateRequest,
    GenerateResult,
    MaterialOut,
    MaterialSummary,
    RefineRequest,
    RefineResult,
    TutorRequest,
    TutorResult,
)
from protolearn.api.dependencies import Ai, Caller, WithPaging
from protolearn.api.params import PathId
from protolearn.api.security import limited, requires
from protolearn.pagination import Page
from protolearn.store.users import Role

__all__ = ("AiController", "MaterialUploadController")

AUTHORS = (Role.TEACHER, Role.ADMIN)


@dataclass
class MaterialUpload:
    file: UploadFile
    subject: str = ""
    title: str | None = None


class MaterialUploadController(Controller):
    """The one route with a large body; the app mounts it under a router with the upload limit."""

    path = "/api/ai"
    tags = ["ai"]
    guards = [requires(Role.TEACHER)]

    @post(
        "/upload-material",
        guards=[limited("ai")],
        status_code=HTTP_201_CREATED,
        responses={
            HTTP_202_ACCEPTED: ResponseSpec(
                data_container=MaterialOut, description="stored; extraction still running"
            )
        },
    )
    async def upload_material(
        self,
        data: Annotated[MaterialUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
        principal: Caller,
        ai: Ai,
    ) -> Response[MaterialOut]:
        """Store a PDF, PNG/JPEG or DOCX and read its text: 201 when done, 202 while it runs (poll the
        material's ``status`` and ``progress``)."""
        content = await data.file.read()
        material, finished = await ai.upload_material(
            principal, data=content, filename=data.file.filename or "", subject=data.subject, title=data.title
        )
        return Response(material, status_code=HTTP_201_CREATED if finished else HTTP_202_ACCEPTED)


class AiController(Controller):
    path = "/api/ai"
    tags = ["ai"]

    @get("/materials", guards=[requires(*AUTHORS)])
    async def list_materials(
        self, principal: Caller, ai: Ai, paging: WithPaging, subject: FromQuery[str | None] = None
    ) -> Page[MaterialSummary]:
        return await ai.list_materials(
            principal, page=paging.page, page_size=paging.page_size, subject=subject
        )

    @get("/materials/{material_id:int}", guards=[requires(*AUTHORS)])
    async def get_material(self, material_id: PathId, principal: Caller, ai: Ai) -> MaterialOut:
        return await ai.get_material(principal, material_id)

    @post("/generate-questions", guards=[requires(Role.TEACHER), limited("ai")], status_code=HTTP_201_CREATED)
    async def generate_questions(
        self, data: JSONBody[GenerateRequest], principal: Caller, ai: Ai
    ) -> GenerateResult:
        """Draft questions from a material into an unpublished test, each with its source passage."""
        return await ai.generate_questions(principal, data)

    @post("/refine-question", guards=[requires(*AUTHORS), limited("ai")], status_code=HTTP_200_OK)
    async def refine_question(self, data: JSONBody[RefineRequest], principal: Caller, ai: Ai) -> RefineResult:
        return await ai.refine_question(principal, data)

    @post(
        "/teaching-assist", guards=[requires(Role.STUDENT, *AUTHORS), limited("ai")], status_code=HTTP_200_OK
    )
    async def teaching_assist(self, data: JSONBody[TutorRequest], principal: Caller, ai: Ai) -> TutorResult:
        """The tutor; closed to a student while they are taking a test."""
        return await ai.teaching_assist(principal, data)

    @post(
        "/explain-answer", guards=[requires(Role.STUDENT, *AUTHORS), limited("ai")], status_code=HTTP_200_OK
    )
    async def explain_answer(
        self, data: JSONBody[ExplainRequest], principal: Caller, ai: Ai
    ) -> ExplainResult:
        """Why an answer is right or wrong; for students only after submission, if the test shows answers."""
        return await ai.explain_answer(principal, data)

    @get("/health", guards=[requires(*AUTHORS)])
    async def health(self, ai: Ai) -> AiHealth:
        return await ai.health()
