"""AI authoring and tutoring: materials, question generation, refinement, tutor, explanations.

The provider writes, ``validation.py`` checks, this service decides who may ask and stores.
No database connection is held while a provider works (embedded SQLite has one connection).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import msgspec
from sqlalchemy import and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts import audit
from protolearn.accounts.schemas import Principal
from protolearn.ai.errors import (
    ExplanationHidden,
    MaterialNotFound,
    MaterialNotReady,
    NothingGenerated,
    TutorUnavailable,
)
from protolearn.ai.extraction import check_readable, sniff
from protolearn.ai.materials import MaterialExtractor, store_material_file
from protolearn.ai.provider import DraftQuestion, GenerationSpec, QuestionProvider
from protolearn.ai.retrieval import Passage, PassageIndex, SourceText
from protolearn.ai.schemas import (
    AiHealth,
    ExplainRequest,
    ExplainResult,
    GeneratedQuestion,
    GenerateRequest,
    GenerateResult,
    LearningResource,
    MaterialOut,
    MaterialSummary,
    RefineRequest,
    RefineResult,
    TutorRequest,
    TutorResult,
)
from protolearn.ai.stats import ProviderStats
from protolearn.ai.text import key_terms, split_sentences
from protolearn.ai.validation import Rejection, SourceMatcher, check_drafts
from protolearn.assessment.access import ensure_owns_test, ensure_test_visible, owns_test
from protolearn.assessment.authoring import question_out
from protolearn.assessment.errors import NotPublishable, QuestionNotFound, TestHasAttempts
from protolearn.assessment.scoring import answer_text, is_correct
from protolearn.pagination import Page, count_rows
from protolearn.store.attempts import Answer, AttemptStatus, TestAttempt
from protolearn.store.materials import AiGeneratedQuestion, LearningMaterial, MaterialStatus
from protolearn.store.tests import Question, QuestionType, ReviewMode, Test
from protolearn.store.users import Role

__all__ = ("AiService", "AiTools")

_MARGIN = 1.25  # drafts asked for beyond the wanted number: validation drops some
_CONTEXT_MATERIALS = 20  # most recent materials searched for a tutor's answer
_CLOSED = (AttemptStatus.SUBMITTED.value, AttemptStatus.AUTO_SUBMITTED.value, AttemptStatus.TERMINATED.value)
_DRAFT_TIME_LIMIT = 30.0  # minutes, for a draft test made to hold generated questions


@dataclass(frozen=True, slots=True)
class AiTools:
    """The long-lived parts the service works with, built once by the app."""

    provider: QuestionProvider
    stats: ProviderStats
    extractor: MaterialExtractor
    data_dir: Path
    upload_wait_s: float


def _summary_fields(material: LearningMaterial, live_progress: float | None) -> dict[str, object]:
    return {
        "material_id": material.id,
        "title": material.title,
        "subject": material.subject,
        "filename": material.filename,
        "content_type": material.content_type,
        "size_bytes": material.size_bytes,
        "status": MaterialStatus(material.status),
        "progress": live_progress if live_progress is not None else material.progress,
        "error": material.error,
        "page_count": material.page_count,
        "ocr_pages": material.ocr_pages,
        "ocr_confidence": material.ocr_confidence,
        "text_chars": len(material.extracted_text),
        "created_at": material.created_at,
    }


def _resources(passages: Sequence[Passage]) -> list[LearningResource]:
    return [
        LearningResource(material_id=p.material_id, title=p.title, page=p.page, passage=p.text)
        for p in passages
    ]


def _draft_of(question: Question, source_passage: str) -> DraftQuestion:
    return DraftQuestion(
        question_text=question.question_text,
        type=question.question_type,
        options=list(question.options),
        correct_answer=question.correct_answer,
        explanation=question.explanation or "",
        source_passage=source_passage,
    )


class AiService:
    def __init__(self, session: AsyncSession, tools: AiTools) -> None:
        self._session = session
        self._tools = tools
        self._provider = tools.provider

    # --- materials ------------------------------------------------------------------------

    async def upload_material(
        self, principal: Principal, *, data: bytes, filename: str, subject: str, title: str | None
    ) -> tuple[MaterialOut, bool]:
        """Store and start extracting an upload; the material, and whether extraction has ended."""
        kind = sniff(data)
        page_count = await asyncio.to_thread(check_readable, kind, data)
        path, digest = await asyncio.to_thread(
            store_material_file, self._tools.data_dir, principal.user_id, kind, data
        )
        name = Path(filename.replace("\\", "/")).name[:255] or f"material.{kind.extension}"
        material = LearningMaterial(
            teacher_id=principal.user_id,
            title=(title or Path(name).stem or "Untitled material").strip()[:200],
            subject=subject.strip()[:100],
            filename=name,
            content_type=kind.value,
            path=path,
            size_bytes=len(data),
            sha256=digest,
            page_count=page_count,
            status=MaterialStatus.PROCESSING.value,
            progress=0.0,
        )
        self._session.add(material)
        await self._session.flush()
        audit.record(
            self._session,
            actor_id=principal.user_id,
            action="material.upload",
            object_type="material",
            object_id=material.id,
            sha256=digest,
        )
        await self._session.commit()
        extractor = self._tools.extractor
        extractor.submit(material.id)
        finished = await extractor.wait(material.id, self._tools.upload_wait_s)
        if finished:
            await self._session.refresh(material)
        return self._material_out(material), finished

    async def list_materials(
        self, principal: Principal, *, page: int, page_size: int, subject: str | None = None
    ) -> Page[MaterialSummary]:
        query = select(LearningMaterial)
        if principal.role is not Role.ADMIN:
            query = query.where(LearningMaterial.teacher_id == principal.user_id)
        if subject:
            query = query.where(func.lower(LearningMaterial.subject) == subject.strip().lower())
        total = await count_rows(self._session, query)
        materials = await self._session.scalars(
            query.order_by(LearningMaterial.created_at.desc(), LearningMaterial.id.desc())
            .offset(Page.offset(page, page_size))
            .limit(page_size)
        )
        extractor = self._tools.extractor
        return Page(
            items=[MaterialSummary(**_summary_fields(m, extractor.progress(m.id))) for m in materials],  # type: ignore[arg-type]
            total=total,
            page=page,
            page_size=page_size,
        )

    async def get_material(self, principal: Principal, material_id: int) -> MaterialOut:
        return self._material_out(await self._owned_material(principal, material_id))

    def _material_out(self, material: LearningMaterial) -> MaterialOut:
        fields = _summary_fields(material, self._tools.extractor.progress(material.id))
        return MaterialOut(**fields, extracted_text=material.extracted_text)  # type: ignore[arg-type]

    async def _owned_material(self, principal: Principal, material_id: int) -> LearningMaterial:
        material = await self._session.get(LearningMaterial, material_id)
        if material is None or (
            principal.role is not Role.ADMIN and material.teacher_id != principal.user_id
        ):
            raise MaterialNotFound(f"material {material_id} not found")
        return material

    # --- generation -----------------------------------------------------------------------

    async def generate_questions(self, principal: Principal, request: GenerateRequest) -> GenerateResult:
        material = await self._owned_material(principal, request.material_id)
        if material.status != MaterialStatus.READY.value:
            state = "is still being read" if material.status == MaterialStatus.PROCESSING.value else "failed"
            raise MaterialNotReady(f"material {material.id} {state}; it cannot be used yet")
        test = await self._target_test(principal, request.test_id)
        existing = [] if test is None else [q.question_text for q in await self._questions_of(test.id)]
        types = list(dict.fromkeys(request.question_types))
        spec = GenerationSpec(
            material_text=material.extracted_text,
            title=material.title,
            subject=material.subject,
            count=max(request.num_questions, round(request.num_questions * _MARGIN)),
            question_types=tuple(t.value for t in types),
            difficulty=request.difficulty,
        )
        await self._session.commit()  # no connection held while the provider works
        started = time.perf_counter()
        with self._tools.stats.track(self._provider.name, "generate"):
            generated = await self._provider.generate(spec)
        matcher = await asyncio.to_thread(SourceMatcher, material.extracted_text)
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
            test = Test(
                teacher_id=principal.user_id,
                title=f"Questions from {material.title}"[:200],
                subject=material.subject,
                description=f"Drafted from the material '{material.title}'. Review before publishing.",
                time_limit=_DRAFT_TIME_LIMIT,
            )
            self._session.add(test)
            await self._session.flush()
        else:
            await self._target_test(principal, test.id)  # again: it may have been published meanwhile
        last = await self._session.scalar(
            select(func.max(Question.position)).where(Question.test_id == test.id)
        )
        position = -1 if last is None else last
        saved: list[tuple[Question, str, str]] = []
        for checked in accepted:
            position += 1
            question = Question(
                test_id=test.id,
                position=position,
                question_text=checked.question_text,
                question_type=checked.question_type.value,
                options=checked.options,
                correct_answer=checked.correct_answer,
                explanation=checked.explanation,
                ai_generated=True,
            )
            self._session.add(question)
            saved.append((question, checked.source_passage, checked.difficulty))
        await self._session.flush()
        for question, source_passage, difficulty in saved:
            self._session.add(
                AiGeneratedQuestion(
                    teacher_id=principal.user_id,
                    material_id=material.id,
                    question_id=question.id,
                    prompt=generated.prompt,
                    model=f"{self._provider.name}:{self._provider.model}"[:100],
                    difficulty=difficulty,
                    source_passage=source_passage,
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
                    **msgspec.structs.asdict(question_out(q)), source_passage=source, difficulty=difficulty
                )
                for q, source, difficulty in saved
            ],
            requested=request.num_questions,
            dropped=dropped,
            generation_time=generation_time,
            provider=self._provider.name,
            model=self._provider.model,
        )

    async def _target_test(self, principal: Principal, test_id: int | None) -> Test | None:
        if test_id is None:
            return None
        test = ensure_owns_test(
            principal, await self._session.get(Test, test_id, populate_existing=True), test_id
        )
        if test.is_published:
            raise NotPublishable(
                "generated questions go to an unpublished test; unpublish it or omit test_id"
            )
        if await self._session.scalar(select(TestAttempt.id).where(TestAttempt.test_id == test.id).limit(1)):
            raise TestHasAttempts("students have already taken this test; cannot add questions")
        return test

    async def _questions_of(self, test_id: int) -> list[Question]:
        return list(await self._session.scalars(select(Question).where(Question.test_id == test_id)))

    # --- refinement -----------------------------------------------------------------------

    async def refine_question(self, principal: Principal, request: RefineRequest) -> RefineResult:
        question = await self._session.get(Question, request.question_id)
        test = None if question is None else await self._session.get(Test, question.test_id)
        if question is None or test is None or not owns_test(principal, test):
            raise QuestionNotFound(f"question {request.question_id} not found")
        origin = await self._origin(question.id)
        material = (
            None
            if origin is None or origin.material_id is None
            else (await self._session.get(LearningMaterial, origin.material_id))
        )
        sources = [self._source_text(material)] if material is not None else await self._teacher_sources(test)
        others = [q.question_text for q in await self._questions_of(test.id) if q.id != question.id]
        draft = _draft_of(question, origin.source_passage if origin else "")
        await self._session.commit()
        started = time.perf_counter()
        index = await asyncio.to_thread(PassageIndex, sources)
        passages = index.search(f"{question.question_text} {request.feedback}", limit=3)
        with self._tools.stats.track(self._provider.name, "refine"):
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
        question.question_text = checked.question_text
        question.question_type = checked.question_type.value
        question.options = checked.options
        question.correct_answer = checked.correct_answer
        question.explanation = checked.explanation
        self._session.add(
            AiGeneratedQuestion(
                teacher_id=principal.user_id,
                material_id=material.id if material is not None else None,
                question_id=question.id,
                prompt=refined.prompt,
                model=f"{self._provider.name}:{self._provider.model}"[:100],
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

    async def _origin(self, question_id: int) -> AiGeneratedQuestion | None:
        """The latest generation record of a question: its material and source passage."""
        return await self._session.scalar(
            select(AiGeneratedQuestion)
            .where(AiGeneratedQuestion.question_id == question_id)
            .order_by(AiGeneratedQuestion.id.desc())
            .limit(1)
        )

    @staticmethod
    def _source_text(material: LearningMaterial) -> SourceText:
        return SourceText(material.id, material.title, material.extracted_text)

    async def _teacher_sources(self, test: Test) -> list[SourceText]:
        """The materials a test's questions came from, else its teacher's materials of its subject."""
        linked = (
            select(AiGeneratedQuestion.material_id)
            .join(Question, Question.id == AiGeneratedQuestion.question_id)
            .where(Question.test_id == test.id)
        )
        query = select(LearningMaterial).where(
            LearningMaterial.status == MaterialStatus.READY.value,
            LearningMaterial.teacher_id == test.teacher_id,
        )
        materials = list(await self._session.scalars(query.where(LearningMaterial.id.in_(linked))))
        if not materials and test.subject:
            materials = list(
                await self._session.scalars(
                    query.where(func.lower(LearningMaterial.subject) == test.subject.lower())
                    .order_by(LearningMaterial.id.desc())
                    .limit(_CONTEXT_MATERIALS)
                )
            )
        return [self._source_text(m) for m in materials]

    # --- tutoring -------------------------------------------------------------------------

    async def teaching_assist(self, principal: Principal, request: TutorRequest) -> TutorResult:
        weak_topics: list[str] = []
        if principal.role is Role.STUDENT:
            if await self._session.scalar(
                select(TestAttempt.id)
                .where(
                    TestAttempt.student_id == principal.user_id,
                    TestAttempt.status == AttemptStatus.IN_PROGRESS.value,
                )
                .limit(1)
            ):
                raise TutorUnavailable("the tutor is closed while you are taking a test; submit it first")
            weak_topics = await self._weak_topics(principal.user_id)
        sources = await self._tutor_sources(principal, request)
        await self._session.commit()
        index = await asyncio.to_thread(PassageIndex, sources)
        passages = index.search(request.question, limit=3)
        with self._tools.stats.track(self._provider.name, "tutor"):
            reply = await self._provider.tutor(request.question, passages, weak_topics)
        return TutorResult(
            answer=reply.answer,
            follow_up_questions=reply.follow_up_questions[:5],
            related_topics=reply.related_topics[:8],
            sources=_resources(passages),
            provider=self._provider.name,
            model=self._provider.model,
        )

    async def _tutor_sources(self, principal: Principal, request: TutorRequest) -> list[SourceText]:
        test_id, subject = request.context.test_id, request.context.subject
        if test_id is not None:
            test = ensure_test_visible(principal, await self._session.get(Test, test_id), test_id)
            return await self._teacher_sources(test)
        query = select(LearningMaterial).where(LearningMaterial.status == MaterialStatus.READY.value)
        if principal.role is Role.TEACHER:
            query = query.where(LearningMaterial.teacher_id == principal.user_id)
        elif principal.role is Role.STUDENT:
            # The materials of teachers whose published tests the student can take.
            teachers = select(Test.teacher_id).where(Test.is_published.is_(True))
            query = query.where(LearningMaterial.teacher_id.in_(teachers))
        if subject:
            query = query.where(func.lower(LearningMaterial.subject) == subject.strip().lower())
        materials = await self._session.scalars(
            query.order_by(LearningMaterial.id.desc()).limit(_CONTEXT_MATERIALS)
        )
        return [self._source_text(m) for m in materials]

    async def _weak_topics(self, student_id: int) -> list[str]:
        """Key terms of the questions a student got wrong in closed attempts (never the answers)."""
        wrong = await self._session.scalars(
            select(Question.question_text)
            .join(Answer, Answer.question_id == Question.id)
            .join(TestAttempt, and_(TestAttempt.id == Answer.attempt_id, TestAttempt.status.in_(_CLOSED)))
            .where(TestAttempt.student_id == student_id, Answer.is_correct.is_(False))
            .order_by(Answer.id.desc())
            .limit(50)
        )
        sentences = split_sentences("\n\n".join(wrong))
        return [t.text for t in key_terms(sentences)[:5]]

    # --- explanations ---------------------------------------------------------------------

    async def explain_answer(self, principal: Principal, request: ExplainRequest) -> ExplainResult:
        question = await self._session.get(Question, request.question_id)
        test = None if question is None else await self._session.get(Test, question.test_id)
        if question is None or test is None:
            raise QuestionNotFound(f"question {request.question_id} not found")
        if principal.role is Role.STUDENT:
            ensure_test_visible(principal, test, test.id)
            await self._ensure_may_see_answers(principal.user_id, test)
        elif not owns_test(principal, test):
            raise QuestionNotFound(f"question {request.question_id} not found")
        origin = await self._origin(question.id)
        sources = await self._teacher_sources(test)
        given = answer_text(request.student_answer) or ""
        correct = is_correct(QuestionType(question.question_type), question.correct_answer, given)
        draft = _draft_of(question, origin.source_passage if origin else "")
        await self._session.commit()
        index = await asyncio.to_thread(PassageIndex, sources)
        passages = index.search(f"{question.question_text} {question.correct_answer}", limit=2)
        with self._tools.stats.track(self._provider.name, "explain"):
            explanation = await self._provider.explain(draft, given, correct, passages)
        return ExplainResult(
            explanation=explanation,
            is_correct=correct,
            correct_answer=question.correct_answer,
            learning_resources=_resources(passages),
            provider=self._provider.name,
            model=self._provider.model,
        )

    async def _ensure_may_see_answers(self, student_id: int, test: Test) -> None:
        statuses = set(
            await self._session.scalars(
                select(TestAttempt.status).where(
                    TestAttempt.test_id == test.id, TestAttempt.student_id == student_id
                )
            )
        )
        if AttemptStatus.IN_PROGRESS.value in statuses or not statuses & set(_CLOSED):
            raise ExplanationHidden("explanations open once you have submitted this test")
        if test.review_mode != ReviewMode.ANSWERS.value:
            raise ExplanationHidden("this test's review setting does not show answers to students")

    # --- health ---------------------------------------------------------------------------

    async def health(self) -> AiHealth:
        provider = self._provider
        reachable = await provider.probe()
        providers = self._tools.stats.snapshot()
        mine = providers.get(provider.name)
        return AiHealth(
            provider=provider.name,
            model=provider.model,
            reachable=reachable,
            last_latency_ms=mine.last_latency_ms if mine else None,
            error_rate=mine.error_rate if mine else 0.0,
            providers=providers,
        )
