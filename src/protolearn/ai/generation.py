"""Questions written with AI: generated from a material into a draft test, refined on feedback.

The provider writes, ``validation.py`` checks, ``assessment/``'s authoring service builds the
test and question rows; this module adds the generation record (``ai_gen_questions``). No
database connection is held while a provider works (embedded SQLite has one connection).
"""

from __future__ import annotations

import asyncio
import time

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts import audit
from protolearn.accounts.schemas import Principal
from protolearn.ai.errors import NothingGenerated
from protolearn.ai.library import MaterialLibrary
from protolearn.ai.provider import GenerationSpec, QuestionProvider
from protolearn.ai.retrieval import PassageIndex
from protolearn.ai.schemas import (
    GeneratedQuestion,
    GenerateRequest,
    GenerateResult,
    RefineRequest,
    RefineResult,
)
from protolearn.ai.sources import draft_of, origin_of, source_text, sources_of_test
from protolearn.ai.stats import ProviderStats
from protolearn.ai.validation import Checked, Rejection, SourceMatcher, check_drafts
from protolearn.assessment.access import ensure_owns_test
from protolearn.assessment.authoring import AuthoringService, question_out, rewrite_question
from protolearn.assessment.errors import NotPublishable
from protolearn.assessment.schemas import QuestionIn, TestCreate
from protolearn.store.materials import AiGeneratedQuestion, LearningMaterial
from protolearn.store.tests import Question, QuestionType, Test

__all__ = ("QuestionWriter",)

MARGIN = 1.25  # drafts asked for beyond the wanted number, once: validation drops some
_DRAFT_TIME_LIMIT = 30.0  # minutes, for a draft test made to hold generated questions


def _question_in(checked: Checked) -> QuestionIn:
    return QuestionIn(
        question_text=checked.question_text,
        question_type=checked.question_type,
        correct_answer=checked.correct_answer,
        options=checked.options,
        explanation=checked.explanation,
    )


class QuestionWriter:
    def __init__(
        self,
        session: AsyncSession,
        provider: QuestionProvider,
        stats: ProviderStats,
        library: MaterialLibrary,
    ) -> None:
        self._session = session
        self._provider = provider
        self._stats = stats
        self._library = library
        self._authoring = AuthoringService(session)

    @property
    def _model_label(self) -> str:
        return f"{self._provider.name}:{self._provider.model}"[:100]

    async def generate_questions(self, principal: Principal, request: GenerateRequest) -> GenerateResult:
        material = await self._library.ready(principal, request.material_id)
        test = None if request.test_id is None else await self._writable_test(principal, request.test_id)
        existing = [] if test is None else await self._question_texts(test.id)
        types = list(dict.fromkeys(request.question_types))
        spec = GenerationSpec(
            material_text=material.extracted_text,
            material_markdown=material.extracted_markdown,
            title=material.title,
            subject=material.subject,
            count=max(request.num_questions, round(request.num_questions * MARGIN)),
            question_types=tuple(t.value for t in types),
            difficulty=request.difficulty,
        )
        await self._session.commit()  # no connection held while the provider works
        started = time.perf_counter()
        with self._stats.track(self._provider.name, "generate"):
            generated = await self._provider.generate(spec)
        matcher = await asyncio.to_thread(SourceMatcher, material.extracted_text, material.extracted_markdown)
        accepted, dropped = await asyncio.to_thread(
            check_drafts, generated.drafts, material=matcher, wanted_types=types, existing_questions=existing
        )
        generation_time = round(time.perf_counter() - started, 3)
        accepted = accepted[: request.num_questions]
        if not accepted:
            raise NothingGenerated(
                "no usable question came out of this material; try other question types or a longer text",
                dropped=[d.reason for d in dropped][:20],
            )
        if test is None:
            test, _ = await self._authoring.add_test(principal, self._draft_test(material))
        else:
            await self._writable_test(principal, test.id)  # again: it may have been published meanwhile
        saved = await self._authoring.add_questions(
            test.id, [_question_in(c) for c in accepted], ai_generated=True
        )
        for question, checked in zip(saved, accepted, strict=True):
            self._session.add(
                AiGeneratedQuestion(
                    teacher_id=principal.user_id,
                    material_id=material.id,
                    question_id=question.id,
                    prompt=generated.prompt,
                    model=self._model_label,
                    difficulty=checked.difficulty,
                    source_passage=checked.source_passage,
                    generation_time=generation_time,
                )
            )
        audit.record(
            self._session,
            actor_id=principal.user_id,
            action="ai.generate",
            object_type="test",
            object_id=test.id,
            material_id=material.id,
            questions=len(saved),
        )
        await self._session.commit()
        if generated.unreadable:
            reason = f"{generated.unreadable} draft(s) from the provider were not question-shaped"
            dropped.append(Rejection(question_text="", reason=reason))
        return GenerateResult(
            test_id=test.id,
            questions=[
                GeneratedQuestion(
                    **msgspec.structs.asdict(question_out(question)),
                    source_passage=checked.source_passage,
                    difficulty=checked.difficulty,
                )
                for question, checked in zip(saved, accepted, strict=True)
            ],
            requested=request.num_questions,
            dropped=dropped,
            generation_time=generation_time,
            provider=self._provider.name,
            model=self._provider.model,
        )

    async def refine_question(self, principal: Principal, request: RefineRequest) -> RefineResult:
        question = await self._authoring.owned_question(principal, request.question_id)
        test = question.test
        origin = await origin_of(self._session, question.id)
        material = (
            None
            if origin is None or origin.material_id is None
            else await self._session.get(LearningMaterial, origin.material_id)
        )
        sources = (
            [source_text(material)] if material is not None else await sources_of_test(self._session, test)
        )
        others = await self._question_texts(test.id, but=question.id)
        draft = draft_of(question, origin)
        await self._session.commit()
        started = time.perf_counter()
        index = await asyncio.to_thread(PassageIndex, sources)
        passages = index.search(f"{question.question_text} {request.feedback}", limit=3)
        with self._stats.track(self._provider.name, "refine"):
            refined = await self._provider.refine(draft, request.feedback, passages)
        corpus = "\n\n".join(s.text for s in sources)
        if not refined.question.source_passage.strip():
            refined.question.source_passage = draft.source_passage
        accepted, dropped = await asyncio.to_thread(
            check_drafts,
            [refined.question],
            material=SourceMatcher(corpus),
            wanted_types=list(QuestionType),
            existing_questions=others,
            require_source=bool(corpus.strip()),
        )
        if not accepted:
            raise NothingGenerated(f"the refined question was not usable: {dropped[0].reason}")
        checked = accepted[0]
        rewrite_question(question, _question_in(checked))
        self._session.add(
            AiGeneratedQuestion(
                teacher_id=principal.user_id,
                material_id=material.id if material is not None else None,
                question_id=question.id,
                prompt=refined.prompt,
                model=self._model_label,
                difficulty=checked.difficulty,
                source_passage=checked.source_passage,
                generation_time=round(time.perf_counter() - started, 3),
            )
        )
        await self._session.commit()
        return RefineResult(
            refined_question=question_out(question),
            changes=[*refined.changes, *checked.repairs],
            source_passage=checked.source_passage or None,
            provider=self._provider.name,
            model=self._provider.model,
        )

    @staticmethod
    def _draft_test(material: LearningMaterial) -> TestCreate:
        return TestCreate(
            title=f"Questions from {material.title}"[:200],
            subject=material.subject,
            description=f"Drafted from the material '{material.title}'. Review before publishing.",
            time_limit=_DRAFT_TIME_LIMIT,
        )

    async def _writable_test(self, principal: Principal, test_id: int) -> Test:
        """The principal's unpublished, untaken test to add generated questions to."""
        test = ensure_owns_test(
            principal, await self._session.get(Test, test_id, populate_existing=True), test_id
        )
        if test.is_published:
            raise NotPublishable(
                "generated questions go to an unpublished test; unpublish it or omit test_id"
            )
        await self._authoring.ensure_not_taken(test.id, "add questions")
        return test

    async def _question_texts(self, test_id: int, *, but: int | None = None) -> list[str]:
        query = select(Question.question_text).where(Question.test_id == test_id)
        if but is not None:
            query = query.where(Question.id != but)
        return list(await self._session.scalars(query))
