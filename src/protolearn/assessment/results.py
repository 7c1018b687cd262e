"""Results per test and per student, and the CSV export of a test's results."""

from __future__ import annotations

import csv
import io
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts.schemas import Principal
from protolearn.assessment.access import ensure_owns_test
from protolearn.assessment.attempts import score_fields
from protolearn.assessment.schemas import ResultRow, StudentHistoryRow
from protolearn.assessment.visibility import results_visible
from protolearn.errors import NotFound
from protolearn.store.attempts import TestAttempt
from protolearn.store.tests import Test
from protolearn.store.users import Role, User

__all__ = ("CSV_COLUMNS", "ResultsService")

CSV_COLUMNS = (
    "attempt_id",
    "student_id",
    "student_name",
    "student_email",
    "status",
    "started_at",
    "submitted_at",
    "score",
    "max_score",
    "percent",
    "passed",
    "violation_count",
    "suspicion_score",
)
# A cell starting with one of these is run as a formula by spreadsheet programs.
_FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(value: object) -> object:
    if isinstance(value, str) and value.startswith(_FORMULA_PREFIXES):
        return "'" + value
    return value


def _summary_fields(attempt: TestAttempt, show_score: bool) -> dict[str, Any]:
    """The fields every result row shares (``_AttemptSummary``)."""
    return {
        "attempt_id": attempt.id,
        "status": attempt.status,
        "started_at": attempt.started_at,
        "submitted_at": attempt.submitted_at,
        "violation_count": attempt.violation_count,
        **score_fields(attempt, show_score),
    }


class ResultsService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def for_test(self, principal: Principal, test_id: int) -> list[ResultRow]:
        ensure_owns_test(principal, await self._session.get(Test, test_id), test_id)
        rows = await self._session.execute(
            select(TestAttempt, User)
            .join(User, User.id == TestAttempt.student_id)
            .where(TestAttempt.test_id == test_id)
            .order_by(User.name, User.id, TestAttempt.started_at)
        )
        return [
            ResultRow(
                **_summary_fields(attempt, show_score=True),
                student_id=student.id,
                student_name=student.name,
                student_email=student.email,
                suspicion_score=attempt.suspicion_score,
                deadline=attempt.deadline,
            )
            for attempt, student in rows
        ]

    async def for_student(self, principal: Principal, student_id: int) -> list[StudentHistoryRow]:
        """A student's history: all of it for themself and admins, a teacher's own tests for a teacher."""
        allowed = principal.role is Role.ADMIN or (
            principal.role is Role.STUDENT and principal.user_id == student_id
        )
        if not allowed and principal.role is not Role.TEACHER:
            raise NotFound(f"student {student_id} not found")
        student = await self._session.get(User, student_id)
        if student is None or student.role != Role.STUDENT:
            raise NotFound(f"student {student_id} not found")
        query = (
            select(TestAttempt, Test)
            .join(Test, Test.id == TestAttempt.test_id)
            .where(TestAttempt.student_id == student_id)
            .order_by(TestAttempt.started_at.desc())
        )
        if principal.role is Role.TEACHER:
            query = query.where(Test.teacher_id == principal.user_id)
        rows = []
        for attempt, test in await self._session.execute(query):
            show_score, _ = results_visible(test, attempt, to_student=principal.role is Role.STUDENT)
            rows.append(
                StudentHistoryRow(
                    **_summary_fields(attempt, show_score), test_id=test.id, test_title=test.title
                )
            )
        if principal.role is Role.TEACHER and not rows:  # teaches none of this student's tests
            raise NotFound(f"student {student_id} not found")
        return rows

    async def export_csv(self, principal: Principal, test_id: int) -> str:
        rows = await self.for_test(principal, test_id)
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(CSV_COLUMNS)
        for row in rows:
            values = (
                row.attempt_id,
                row.student_id,
                row.student_name,
                row.student_email,
                row.status.value,
                row.started_at.isoformat(),
                row.submitted_at.isoformat() if row.submitted_at else "",
                "" if row.score is None else row.score,
                "" if row.max_score is None else row.max_score,
                "" if row.percent is None else row.percent,
                "" if row.passed is None else str(row.passed).lower(),
                row.violation_count,
                row.suspicion_score,
            )
            writer.writerow([_spreadsheet_safe(v) for v in values])
        return buffer.getvalue()
