"""Where the AI's answers rest: the materials a test or a question came from, and a question as a
draft for the provider. Read-only queries; who may ask is the caller's check.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts.schemas import Principal
from protolearn.ai.provider import DraftQuestion
from protolearn.ai.retrieval import Passage, SourceText
from protolearn.ai.schemas import LearningResource
from protolearn.store.materials import AiGeneratedQuestion, LearningMaterial, MaterialStatus
from protolearn.store.tests import Question, Test
from protolearn.store.users import Role

__all__ = (
    "draft_of",
    "learning_resources",
    "materials_for",
    "origin_of",
    "source_text",
    "sources_of_test",
)

_CONTEXT_MATERIALS = 20  # most recent materials searched for an answer


def source_text(material: LearningMaterial) -> SourceText:
    return SourceText(material.id, material.title, material.extracted_text)


def learning_resources(passages: Sequence[Passage]) -> list[LearningResource]:
    return [
        LearningResource(material_id=p.material_id, title=p.title, page=p.page, passage=p.text)
        for p in passages
    ]


def draft_of(question: Question, origin: AiGeneratedQuestion | None) -> DraftQuestion:
    """A stored question as the provider sees it, with the passage it was generated from."""
    return DraftQuestion(
        question_text=question.question_text,
        type=question.question_type,
        options=list(question.options),
        correct_answer=question.correct_answer,
        explanation=question.explanation or "",
        source_passage=origin.source_passage if origin is not None else "",
    )


async def origin_of(session: AsyncSession, question_id: int) -> AiGeneratedQuestion | None:
    """The latest generation record of a question: its material and source passage."""
    return await session.scalar(
        select(AiGeneratedQuestion)
        .where(AiGeneratedQuestion.question_id == question_id)
        .order_by(AiGeneratedQuestion.id.desc())
        .limit(1)
    )


async def sources_of_test(session: AsyncSession, test: Test) -> list[SourceText]:
    """The materials a test's questions came from, else its teacher's materials of its subject."""
    linked = (
        select(AiGeneratedQuestion.material_id)
        .join(Question, Question.id == AiGeneratedQuestion.question_id)
        .where(Question.test_id == test.id)
    )
    query = select(LearningMaterial).where(
        LearningMaterial.status == MaterialStatus.READY,
        LearningMaterial.teacher_id == test.teacher_id,
    )
    materials = list(await session.scalars(query.where(LearningMaterial.id.in_(linked))))
    if not materials and test.subject:
        materials = list(
            await session.scalars(
                query.where(func.lower(LearningMaterial.subject) == test.subject.lower())
                .order_by(LearningMaterial.id.desc())
                .limit(_CONTEXT_MATERIALS)
            )
        )
    return [source_text(m) for m in materials]


async def materials_for(session: AsyncSession, principal: Principal, subject: str | None) -> list[SourceText]:
    """The read materials a principal may learn from: a teacher's own; for a student, those of the
    teachers whose published tests they can take; for admins and auditors, all."""
    query = select(LearningMaterial).where(LearningMaterial.status == MaterialStatus.READY)
    if principal.role is Role.TEACHER:
        query = query.where(LearningMaterial.teacher_id == principal.user_id)
    elif principal.role is Role.STUDENT:
        teachers = select(Test.teacher_id).where(Test.is_published.is_(True))
        query = query.where(LearningMaterial.teacher_id.in_(teachers))
    if subject:
        query = query.where(func.lower(LearningMaterial.subject) == subject.strip().lower())
    materials = await session.scalars(query.order_by(LearningMaterial.id.desc()).limit(_CONTEXT_MATERIALS))
    return [source_text(m) for m in materials]
