"""Importing a question file into a test and exporting a test's questions, for its owner.

Imports go through authoring's building blocks, so an imported question is checked, placed and
protected (no new questions once students took the test) like one added by hand.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from protolearn.accounts import audit
from protolearn.accounts.schemas import Principal
from protolearn.assessment.access import ensure_owns_test
from protolearn.assessment.authoring import AuthoringService
from protolearn.assessment.exchange import (
    ExchangeFormat,
    export_filename,
    media_type,
    read_questions,
    render_questions,
)
from protolearn.assessment.exchange.schemas import ImportedQuestion, ImportResult
from protolearn.assessment.schemas import QuestionIn
from protolearn.store.tests import Question, Test

__all__ = ("ExchangeService", "ExportedFile")


@dataclass(frozen=True, slots=True)
class ExportedFile:
    filename: str
    media_type: str
    content: bytes


class ExchangeService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session
        self._authoring = AuthoringService(session)

    async def import_file(
        self,
        principal: Principal,
        test_id: int,
        *,
        content: bytes,
        filename: str = "",
        file_format: ExchangeFormat | None = None,
        dry_run: bool = False,
    ) -> ImportResult:
        """The file's questions appended to the test in file order, in one transaction (none on a
        dry run), with what was skipped and why."""
        test = ensure_owns_test(principal, await self._session.get(Test, test_id), test_id)
        await self._authoring.ensure_not_taken(test.id, "add questions")
        # Up to 2 MiB of someone else's markup: read in a worker thread, off the event loop.
        parsed = await asyncio.to_thread(read_questions, content, filename=filename, file_format=file_format)
        if dry_run or not parsed.drafts:
            imported = [_imported(draft) for draft in parsed.drafts]
        else:
            created = await self._authoring.add_questions(test.id, parsed.drafts)
            imported = [
                _imported(draft, question.id) for draft, question in zip(parsed.drafts, created, strict=True)
            ]
            audit.record(
                self._session,
                actor_id=principal.user_id,
                action="test.import",
                object_type="test",
                object_id=test.id,
                format=parsed.format.value,
                imported=len(created),
                skipped=len(parsed.skipped),
            )
            await self._session.commit()
        return ImportResult(
            test_id=test.id,
            format=parsed.format,
            dry_run=dry_run,
            imported=imported,
            skipped=parsed.skipped,
        )

    async def export_file(
        self, principal: Principal, test_id: int, file_format: ExchangeFormat
    ) -> ExportedFile:
        test = ensure_owns_test(
            principal,
            await self._session.scalar(
                select(Test).where(Test.id == test_id).options(selectinload(Test.questions))
            ),
            test_id,
        )
        content = render_questions([_draft(q) for q in test.questions], file_format, category=test.title)
        return ExportedFile(export_filename(test.id, file_format), media_type(file_format), content)


def _imported(draft: QuestionIn, question_id: int | None = None) -> ImportedQuestion:
    return ImportedQuestion(
        question_text=draft.question_text,
        question_type=draft.question_type,
        options=draft.options,
        correct_answer=draft.correct_answer,
        points=draft.points,
        explanation=draft.explanation,
        id=question_id,
    )


def _draft(question: Question) -> QuestionIn:
    return QuestionIn(
        question_text=question.question_text,
        question_type=question.question_type,
        options=list(question.options),
        correct_answer=question.correct_answer,
        points=question.points,
        explanation=question.explanation,
    )
