"""The tutor and answer explanations, citing passages of the teachers' materials.

The tutor is closed to a student while they take a test; an explanation (which gives the answer)
opens once they have submitted it and its review mode shows answers (``results_visible``).
"""

from __future__ import annotations

import asyncio

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts.schemas import Principal
from protolearn.ai.errors import ExplanationHidden, TutorUnavailable
from protolearn.ai.provider import QuestionProvider
from protolearn.ai.retrieval import PassageIndex
from protolearn.ai.schemas import ExplainRequest, ExplainResult, TutorRequest, TutorResult
from protolearn.ai.sources import draft_of, learning_resources, materials_for, origin_of, sources_of_test
from protolearn.ai.stats import ProviderStats
from protolearn.ai.text import key_terms, split_sentences
from protolearn.assessment.access import ensure_test_visible, owns_test
from protolearn.assessment.errors import QuestionNotFound
from protolearn.assessment.scoring import answer_text, is_correct
from protolearn.assessment.visibility import results_visible
from protolearn.store.attempts import Answer, AttemptStatus, TestAttempt
from protolearn.store.tests import Question, Test
from protolearn.store.users import Role

__all__ = ("Tutor",)

_IN_PROGRESS = AttemptStatus.IN_PROGRESS.value


class Tutor:
    def __init__(self, session: AsyncSession, provider: QuestionProvider, stats: ProviderStats) -> None:
        self._session = session
        self._provider = provider
        self._stats = stats

    async def teaching_assist(self, principal: Principal, request: TutorRequest) -> TutorResult:
        weak_topics: list[str] = []
        if principal.role is Role.STUDENT:
            if await self._taking_a_test(principal.user_id):
                raise TutorUnavailable("the tutor is closed while you are taking a test; submit it first")
            weak_topics = await self._weak_topics(principal.user_id)
        test_id = request.context.test_id
        if test_id is not None:
            test = ensure_test_visible(principal, await self._session.get(Test, test_id), test_id)
            sources = await sources_of_test(self._session, test)
        else:
            sources = await materials_for(self._session, principal, request.context.subject)
        await self._session.commit()  # no connection held while the provider works
        index = await asyncio.to_thread(PassageIndex, sources)
        passages = index.search(request.question, limit=3)
        with self._stats.track(self._provider.name, "tutor"):
            reply = await self._provider.tutor(request.question, passages, weak_topics)
        return TutorResult(
            answer=reply.answer,
            follow_up_questions=reply.follow_up_questions[:5],
            related_topics=reply.related_topics[:8],
            sources=learning_resources(passages),
            provider=self._provider.name,
            model=self._provider.model,
        )

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
        draft = draft_of(question, await origin_of(self._session, question.id))
        sources = await sources_of_test(self._session, test)
        given = answer_text(request.student_answer) or ""
        correct = is_correct(question.question_type, question.correct_answer, given)
        await self._session.commit()
        index = await asyncio.to_thread(PassageIndex, sources)
        passages = index.search(f"{question.question_text} {question.correct_answer}", limit=2)
        with self._stats.track(self._provider.name, "explain"):
            explanation = await self._provider.explain(draft, given, correct, passages)
        return ExplainResult(
            explanation=explanation,
            is_correct=correct,
            correct_answer=question.correct_answer,
            learning_resources=learning_resources(passages),
            provider=self._provider.name,
            model=self._provider.model,
        )

    async def _taking_a_test(self, student_id: int) -> bool:
        found = await self._session.scalar(
            select(TestAttempt.id)
            .where(TestAttempt.student_id == student_id, TestAttempt.status == _IN_PROGRESS)
            .limit(1)
        )
        return found is not None

    async def _ensure_may_see_answers(self, student_id: int, test: Test) -> None:
        """Answers show as assessment shows them: after submission, when the review mode allows."""
        attempts = list(
            await self._session.scalars(
                select(TestAttempt).where(
                    TestAttempt.test_id == test.id, TestAttempt.student_id == student_id
                )
            )
        )
        again = any(a.status == _IN_PROGRESS for a in attempts)
        if not attempts or again:
            raise ExplanationHidden("explanations open once you have submitted this test")
        if not any(results_visible(test, a, to_student=True, retaking=again)[1] for a in attempts):
            raise ExplanationHidden("this test's review setting does not show answers to students")

    async def _weak_topics(self, student_id: int) -> list[str]:
        """Key terms of the questions a student got wrong in closed attempts (never the answers)."""
        wrong = await self._session.scalars(
            select(Question.question_text)
            .join(Answer, Answer.question_id == Question.id)
            .join(TestAttempt, and_(TestAttempt.id == Answer.attempt_id, TestAttempt.status != _IN_PROGRESS))
            .where(TestAttempt.student_id == student_id, Answer.is_correct.is_(False))
            .order_by(Answer.id.desc())
            .limit(50)
        )
        sentences = split_sentences("\n\n".join(wrong))
        return [t.text for t in key_terms(sentences)[:5]]
