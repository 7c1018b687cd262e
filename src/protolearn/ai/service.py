"""The AI room's one service for the API: materials, generation and refinement, tutoring, health.

It holds no logic of its own; each concern lives in its module: ``library.py`` (materials),
``generation.py`` (questions generated and refined), ``tutoring.py`` (tutor, explanations),
``health.py``. ``AiTools`` are the long-lived parts the app builds once.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts.schemas import Principal
from protolearn.ai.generation import QuestionWriter
from protolearn.ai.health import health_of
from protolearn.ai.library import MaterialLibrary
from protolearn.ai.limits import ExtractionLimits
from protolearn.ai.materials import MaterialExtractor
from protolearn.ai.provider import QuestionProvider
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
from protolearn.ai.stats import ProviderStats
from protolearn.ai.tutoring import Tutor
from protolearn.pagination import Page

__all__ = ("AiService", "AiTools")


@dataclass(frozen=True, slots=True)
class AiTools:
    """The long-lived parts the service works with, built once by the app."""

    provider: QuestionProvider
    stats: ProviderStats
    extractor: MaterialExtractor
    data_dir: Path
    upload_wait_s: float
    limits: ExtractionLimits


class AiService:
    """Per request: one database session shared by the parts."""

    def __init__(self, session: AsyncSession, tools: AiTools) -> None:
        self._tools = tools
        self._library = MaterialLibrary(
            session,
            tools.extractor,
            data_dir=tools.data_dir,
            upload_wait_s=tools.upload_wait_s,
            limits=tools.limits,
        )
        self._writer = QuestionWriter(session, tools.provider, tools.stats, self._library)
        self._tutor = Tutor(session, tools.provider, tools.stats)

    async def upload_material(
        self, principal: Principal, *, data: bytes, filename: str, subject: str, title: str | None
    ) -> tuple[MaterialOut, bool]:
        """Store and start extracting an upload; the material, and whether extraction has ended."""
        return await self._library.upload_material(
            principal, data=data, filename=filename, subject=subject, title=title
        )

    async def list_materials(
        self, principal: Principal, *, page: int, page_size: int, subject: str | None = None
    ) -> Page[MaterialSummary]:
        return await self._library.list_materials(principal, page=page, page_size=page_size, subject=subject)

    async def get_material(self, principal: Principal, material_id: int) -> MaterialOut:
        return await self._library.get_material(principal, material_id)

    async def generate_questions(self, principal: Principal, request: GenerateRequest) -> GenerateResult:
        return await self._writer.generate_questions(principal, request)

    async def refine_question(self, principal: Principal, request: RefineRequest) -> RefineResult:
        return await self._writer.refine_question(principal, request)

    async def teaching_assist(self, principal: Principal, request: TutorRequest) -> TutorResult:
        return await self._tutor.teaching_assist(principal, request)

    async def explain_answer(self, principal: Principal, request: ExplainRequest) -> ExplainResult:
        return await self._tutor.explain_answer(principal, request)

    async def health(self) -> AiHealth:
        return await health_of(self._tools.provider, self._tools.stats)
