"""Teachers' authoring: tests and questions, the question bank, publishing."""

from __future__ import annotations

from typing import Any

import msgspec
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from protolearn.accounts import audit
from protolearn.accounts.schemas import Principal
from protolearn.assessment.access import ensure_owns_test, ensure_test_visible, owns_test
from protolearn.assessment.errors import InvalidQuestion, NotPublishable, QuestionNotFound, TestHasAttempts
from protolearn.assessment.schemas import (
    QuestionCreate,
    QuestionIn,
    QuestionOut,
    QuestionUpdate,
    StudentQuestion,
    StudentTestOut,
    TestCreate,
    TestOut,
    TestUpdate,
)
from protolearn.assessment.scoring import parse_truth
from protolearn.pagination import Page, count_rows
from protolearn.proctoring_settings import ProctoringSettings, RuleThresholds
from protolearn.store.attempts import TestAttempt
from protolearn.store.tests import Question, QuestionType, ReviewMode, Test
from protolearn.store.users import Role

__all__ = ("AuthoringService", "checked_question_fields", "question_out", "student_question")


def question_out(question: Question) -> QuestionOut:
    return QuestionOut(
        id=question.id,
        test_id=question.test_id,
        position=question.position,
        question_text=question.question_text,
        question_type=QuestionType(question.question_type),
        options=list(question.options),
        correct_answer=question.correct_answer,
        points=question.points,
        ai_generated=question.ai_generated,
        teacher_edited=question.teacher_edited,
        explanation=question.explanation,
    )


def student_question(question: Question) -> StudentQuestion:
    return StudentQuestion(
        id=question.id,
        test_id=question.test_id,
        question_text=question.question_text,
        question_type=QuestionType(question.question_type),
        options=list(question.options),
        points=question.points,
    )


def _test_fields(test: Test, question_count: int) -> dict[str, Any]:
    return {
        "id": test.id,
        "teacher_id": test.teacher_id,
        "title": test.title,
        "subject": test.subject,
        "description": test.description,
        "time_limit": test.time_limit,
        "passing_score": test.passing_score,
        "is_published": test.is_published,
        "shuffle_questions": test.shuffle_questions,
        "max_attempts": test.max_attempts,
        "review_mode": ReviewMode(test.review_mode),
        "proctoring": proctoring_settings(test),
        "question_count": question_count,
        "created_at": test.created_at,
        "updated_at": test.updated_at,
    }


def checked_question_fields(
    question_type: QuestionType, options: list[str], correct_answer: str
) -> tuple[list[str], str]:
    """The options and answer key to store, or ``InvalidQuestion`` saying what is wrong."""
    options = [option.strip() for option in options]
    correct_answer = correct_answer.strip()
    match question_type:
        case QuestionType.MCQ:
            if len(options) < 2:
                raise InvalidQuestion("a multiple-choice question needs at least two options")
            if len({option.casefold() for option in options}) != len(options):
                raise InvalidQuestion("multiple-choice options must be distinct")
            if correct_answer not in options:
                raise InvalidQuestion("correct_answer must be one of the options")
            return options, correct_answer
        case QuestionType.TRUE_FALSE:
            truth = parse_truth(correct_answer)
            if truth is None:
                raise InvalidQuestion("a true/false question's correct_answer must be true or false")
            if options and [o.casefold() for o in options] != ["true", "false"]:
                raise InvalidQuestion("a true/false question takes no options other than true and false")
            return ["true", "false"], "true" if truth else "false"
        case QuestionType.SHORT_ANSWER:
            if options:
                raise InvalidQuestion("a short-answer question takes no options")
            return [], correct_answer


def _new_question(test_id: int, position: int, spec: QuestionIn) -> Question:
    options, correct_answer = checked_question_fields(spec.question_type, spec.options, spec.correct_answer)
    return Question(
        test_id=test_id,
        position=position,
        question_text=spec.question_text.strip(),
        question_type=spec.question_type.value,
        options=options,
        correct_answer=correct_answer,
        points=spec.points,
        explanation=spec.explanation,
    )


def _unset_removed(struct: msgspec.Struct) -> dict[str, Any]:
    return {k: v for k, v in msgspec.structs.asdict(struct).items() if v is not msgspec.UNSET}


class AuthoringService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    # --- tests ----------------------------------------------------------------------------

    async def list_tests(
        self,
        principal: Principal,
        *,
        page: int,
        page_size: int,
        search: str | None = None,
        subject: str | None = None,
    ) -> Page[TestOut] | Page[StudentTestOut]:
        query = self._visible_tests(principal)
        if search:
            pattern = f"%{search.strip().lower()}%"
            query = query.where(
                or_(func.lower(Test.title).like(pattern), func.lower(Test.description).like(pattern))
            )
        if subject:
            query = query.where(Test.subject == subject)
        total = await count_rows(self._session, query)
        counts = (
            select(Question.test_id, func.count(Question.id).label("n")).group_by(Question.test_id).subquery()
        )
        rows = await self._session.execute(
            query.add_columns(func.coalesce(counts.c.n, 0))
            .outerjoin(counts, counts.c.test_id == Test.id)
            .order_by(Test.created_at.desc(), Test.id.desc())
            .offset(Page.offset(page, page_size))
            .limit(page_size)
        )
        if principal.role is Role.STUDENT:
            return Page(
                items=[StudentTestOut(**_test_fields(test, n)) for test, n in rows],
                total=total,
                page=page,
                page_size=page_size,
            )
        return Page(
            items=[TestOut(**_test_fields(test, n)) for test, n in rows],
            total=total,
            page=page,
            page_size=page_size,
        )

    async def create_test(self, principal: Principal, request: TestCreate) -> TestOut:
        if request.is_published and not request.questions:
            raise NotPublishable("a test needs at least one question to be published")
        fields = _unset_removed(request)
        proctoring: ProctoringSettings = fields.pop("proctoring")
        fields.pop("questions")
        test = Test(
            teacher_id=principal.user_id,
            **fields,
        )
        _apply_proctoring(test, proctoring)
        test.title = test.title.strip()
        self._session.add(test)
        await self._session.flush()
        questions = [
            _new_question(test.id, position, spec) for position, spec in enumerate(request.questions)
        ]
        self._session.add_all(questions)
        audit.record(
            self._session,
            actor_id=principal.user_id,
            action="test.create",
            object_type="test",
            object_id=test.id,
        )
        await self._session.commit()
        return TestOut(**_test_fields(test, len(questions)), questions=[question_out(q) for q in questions])

    async def get_test(self, principal: Principal, test_id: int) -> TestOut | StudentTestOut:
        test = ensure_test_visible(principal, await self._load_test(test_id), test_id)
        if principal.role is Role.STUDENT:
            return StudentTestOut(
                **_test_fields(test, len(test.questions)),
                questions=[student_question(q) for q in test.questions],
            )
        return TestOut(
            **_test_fields(test, len(test.questions)), questions=[question_out(q) for q in test.questions]
        )

    async def update_test(self, principal: Principal, test_id: int, request: TestUpdate) -> TestOut:
        test = ensure_owns_test(principal, await self._load_test(test_id), test_id)
        changes = _unset_removed(request)
        proctoring = changes.pop("proctoring", None)
        if proctoring is not None:
            _apply_proctoring(test, proctoring)
        if changes.get("is_published") and not test.questions:
            raise NotPublishable("a test needs at least one question to be published")
        if "is_published" in changes and changes["is_published"] != test.is_published:
            action = "test.publish" if changes["is_published"] else "test.unpublish"
            audit.record(
                self._session,
                actor_id=principal.user_id,
                action=action,
                object_type="test",
                object_id=test.id,
            )
        for name, value in changes.items():
            setattr(test, name, value.strip() if name == "title" else value)
        await self._session.commit()
        return TestOut(
            **_test_fields(test, len(test.questions)), questions=[question_out(q) for q in test.questions]
        )

    async def delete_test(self, principal: Principal, test_id: int) -> None:
        test = ensure_owns_test(principal, await self._load_test(test_id), test_id)
        await self._refuse_if_attempted(test.id, "delete it")
        await self._session.delete(test)
        audit.record(
            self._session,
            actor_id=principal.user_id,
            action="test.delete",
            object_type="test",
            object_id=test_id,
            title=test.title,
        )
        await self._session.commit()

    # --- questions ------------------------------------------------------------------------

    async def list_questions(
        self,
        principal: Principal,
        *,
        page: int,
        page_size: int,
        test_id: int | None = None,
        question_type: QuestionType | None = None,
        search: str | None = None,
    ) -> Page[QuestionOut]:
        query = select(Question).join(Test, Test.id == Question.test_id)
        if principal.role is not Role.ADMIN:
            query = query.where(Test.teacher_id == principal.user_id)
        if test_id is not None:
            query = query.where(Question.test_id == test_id)
        if question_type is not None:
            query = query.where(Question.question_type == question_type.value)
        if search:
            query = query.where(func.lower(Question.question_text).like(f"%{search.strip().lower()}%"))
        total = await count_rows(self._session, query)
        questions = await self._session.scalars(
            query.order_by(Question.test_id, Question.position, Question.id)
            .offset(Page.offset(page, page_size))
            .limit(page_size)
        )
        return Page(items=[question_out(q) for q in questions], total=total, page=page, page_size=page_size)

    async def create_question(self, principal: Principal, request: QuestionCreate) -> QuestionOut:
        test = ensure_owns_test(principal, await self._session.get(Test, request.test_id), request.test_id)
        await self._refuse_if_attempted(test.id, "add questions")
        last = await self._session.scalar(
            select(func.max(Question.position)).where(Question.test_id == test.id)
        )
        question = _new_question(test.id, 0 if last is None else last + 1, request)
        self._session.add(question)
        await self._session.commit()
        return question_out(question)

    async def get_question(self, principal: Principal, question_id: int) -> QuestionOut:
        return question_out(await self._owned_question(principal, question_id))

    async def update_question(
        self, principal: Principal, question_id: int, request: QuestionUpdate
    ) -> QuestionOut:
        question = await self._owned_question(principal, question_id)
        changes = _unset_removed(request)
        question_type = changes.get("question_type", QuestionType(question.question_type))
        options, correct_answer = checked_question_fields(
            question_type,
            changes.get("options", question.options),
            changes.get("correct_answer", question.correct_answer),
        )
        if "question_text" in changes:
            question.question_text = changes["question_text"].strip()
        for name in ("points", "explanation", "position"):
            if name in changes:
                setattr(question, name, changes[name])
        question.question_type = question_type.value
        question.options = options
        question.correct_answer = correct_answer
        if question.ai_generated and changes:
            question.teacher_edited = True
        await self._session.commit()
        return question_out(question)

    async def delete_question(self, principal: Principal, question_id: int) -> None:
        question = await self._owned_question(principal, question_id)
        await self._refuse_if_attempted(question.test_id, "remove questions")
        test = await self._session.get(Test, question.test_id)
        remaining = await self._session.scalar(
            select(func.count(Question.id)).where(Question.test_id == question.test_id)
        )
        if test is not None and test.is_published and remaining == 1:
            raise NotPublishable("a published test keeps at least one question; unpublish it first")
        await self._session.delete(question)
        await self._session.commit()

    # --- internals ------------------------------------------------------------------------

    def _visible_tests(self, principal: Principal) -> Select[Test]:
        query = select(Test)
        if principal.role is Role.STUDENT:
            return query.where(Test.is_published.is_(True))
        if principal.role is Role.TEACHER:
            return query.where(Test.teacher_id == principal.user_id)
        return query

    async def _load_test(self, test_id: int) -> Test | None:
        return await self._session.scalar(
            select(Test).where(Test.id == test_id).options(selectinload(Test.questions))
        )

    async def _owned_question(self, principal: Principal, question_id: int) -> Question:
        question = await self._session.scalar(
            select(Question).where(Question.id == question_id).options(selectinload(Question.test))
        )
        if question is None or not owns_test(principal, question.test):
            raise QuestionNotFound(f"question {question_id} not found")
        return question

    async def _refuse_if_attempted(self, test_id: int, what: str) -> None:
        if await self._session.scalar(select(exists().where(TestAttempt.test_id == test_id))):
            raise TestHasAttempts(f"students have already taken this test; cannot {what}")


def proctoring_settings(test: Test) -> ProctoringSettings:
    """A test's proctoring settings; its stored rules are the thresholds that differ from the defaults."""
    return ProctoringSettings(
        camera_required=test.camera_required,
        microphone_required=test.microphone_required,
        analysis_fps=test.analysis_fps,
        rules=msgspec.convert(test.proctoring_rules or {}, RuleThresholds),
        auto_terminate_after_critical=test.auto_terminate_after_critical,
    )


def _apply_proctoring(test: Test, proctoring: ProctoringSettings) -> None:
    test.camera_required = proctoring.camera_required
    test.microphone_required = proctoring.microphone_required
    test.analysis_fps = proctoring.analysis_fps
    defaults = msgspec.structs.asdict(RuleThresholds())
    chosen = msgspec.structs.asdict(proctoring.rules)
    test.proctoring_rules = {name: value for name, value in chosen.items() if value != defaults[name]}
    test.auto_terminate_after_critical = proctoring.auto_terminate_after_critical
