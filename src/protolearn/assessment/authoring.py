"""Teachers' authoring: tests and questions, the question bank, publishing.

Also the building blocks other rooms use to write tests (``ai/`` adds generated questions with
them), so a test and its questions are built and checked in one place.
"""

from __future__ import annotations

from collections.abc import Sequence
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
from protolearn.store.tests import Question, QuestionType, Test
from protolearn.store.users import Role

__all__ = (
    "AuthoringService",
    "checked_question_fields",
    "question_out",
    "rewrite_question",
    "student_question",
)


def question_out(question: Question) -> QuestionOut:
    return msgspec.convert(question, QuestionOut, from_attributes=True)


def student_question(question: Question) -> StudentQuestion:
    """The question without its answer key or explanation: the struct has no such fields."""
    return msgspec.convert(question, StudentQuestion, from_attributes=True)


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
        "review_mode": test.review_mode,
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


def _new_question(test_id: int, position: int, spec: QuestionIn, *, ai_generated: bool) -> Question:
    options, correct_answer = checked_question_fields(spec.question_type, spec.options, spec.correct_answer)
    return Question(
        test_id=test_id,
        position=position,
        question_text=spec.question_text.strip(),
        question_type=spec.question_type,
        options=options,
        correct_answer=correct_answer,
        points=spec.points,
        explanation=spec.explanation,
        ai_generated=ai_generated,
    )


def rewrite_question(question: Question, spec: QuestionIn) -> None:
    """Replace a question's text, type, options, answer key and explanation (checked); keeps its points."""
    options, correct_answer = checked_question_fields(spec.question_type, spec.options, spec.correct_answer)
    question.question_text = spec.question_text.strip()
    question.question_type = spec.question_type
    question.options = options
    question.correct_answer = correct_answer
    question.explanation = spec.explanation


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
    ) -> Page[TestOut | StudentTestOut]:
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
        view = StudentTestOut if principal.role is Role.STUDENT else TestOut
        items: list[TestOut | StudentTestOut] = [view(**_test_fields(test, n)) for test, n in rows]
        return Page(items=items, total=total, page=page, page_size=page_size)

    async def create_test(self, principal: Principal, request: TestCreate) -> TestOut:
        test, questions = await self.add_test(principal, request)
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
        await self.ensure_not_taken(test.id, "delete it")
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
            query = query.where(Question.question_type == question_type)
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
        await self.ensure_not_taken(test.id, "add questions")
        [question] = await self.add_questions(test.id, [request])
        await self._session.commit()
        return question_out(question)

    async def get_question(self, principal: Principal, question_id: int) -> QuestionOut:
        return question_out(await self.owned_question(principal, question_id))

    async def update_question(
        self, principal: Principal, question_id: int, request: QuestionUpdate
    ) -> QuestionOut:
        question = await self.owned_question(principal, question_id)
        changes = _unset_removed(request)
        question_type = changes.get("question_type", question.question_type)
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
        question.question_type = question_type
        question.options = options
        question.correct_answer = correct_answer
        if question.ai_generated and changes:
            question.teacher_edited = True
        await self._session.commit()
        return question_out(question)

    async def delete_question(self, principal: Principal, question_id: int) -> None:
        question = await self.owned_question(principal, question_id)
        await self.ensure_not_taken(question.test_id, "remove questions")
        test = await self._session.get(Test, question.test_id)
        remaining = await self._session.scalar(
            select(func.count(Question.id)).where(Question.test_id == question.test_id)
        )
        if test is not None and test.is_published and remaining == 1:
            raise NotPublishable("a published test keeps at least one question; unpublish it first")
        await self._session.delete(question)
        await self._session.commit()

    # --- building blocks, also for ai/ (the caller commits) -------------------------------

    async def add_test(self, principal: Principal, request: TestCreate) -> tuple[Test, list[Question]]:
        """A new test of the principal's with its questions, flushed and audited; the caller commits."""
        if request.is_published and not request.questions:
            raise NotPublishable("a test needs at least one question to be published")
        fields = _unset_removed(request)
        proctoring: ProctoringSettings = fields.pop("proctoring")
        fields.pop("questions")
        test = Test(teacher_id=principal.user_id, **fields)
        _apply_proctoring(test, proctoring)
        test.title = test.title.strip()
        self._session.add(test)
        await self._session.flush()
        questions = await self.add_questions(test.id, request.questions)
        audit.record(
            self._session,
            actor_id=principal.user_id,
            action="test.create",
            object_type="test",
            object_id=test.id,
        )
        return test, questions

    async def add_questions(
        self, test_id: int, specs: Sequence[QuestionIn], *, ai_generated: bool = False
    ) -> list[Question]:
        """Questions appended to a test (checked, after its last one), flushed; the caller commits.

        Who may write to the test is the caller's check (``ensure_owns_test``, ``ensure_not_taken``).
        """
        last = await self._session.scalar(
            select(func.max(Question.position)).where(Question.test_id == test_id)
        )
        first = 0 if last is None else last + 1
        questions = [
            _new_question(test_id, first + offset, spec, ai_generated=ai_generated)
            for offset, spec in enumerate(specs)
        ]
        self._session.add_all(questions)
        await self._session.flush()
        return questions

    async def owned_question(self, principal: Principal, question_id: int) -> Question:
        """A question of a test the principal owns (its ``test`` loaded), else ``QuestionNotFound``."""
        question = await self._session.scalar(
            select(Question).where(Question.id == question_id).options(selectinload(Question.test))
        )
        if question is None or not owns_test(principal, question.test):
            raise QuestionNotFound(f"question {question_id} not found")
        return question

    async def ensure_not_taken(self, test_id: int, what: str) -> None:
        """``TestHasAttempts`` once any student has started the test: its questions are then fixed."""
        if await self._session.scalar(select(exists().where(TestAttempt.test_id == test_id))):
            raise TestHasAttempts(f"students have already taken this test; cannot {what}")

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
