"""Who may publish or watch which live stream. A stream is an attempt's camera and microphone.

A student publishes only their own attempt while it is in progress; a teacher watches the
attempts of their own tests (an admin, any). As everywhere, what a caller may not see is "not
found", so attempt ids cannot be probed.
"""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts.schemas import Principal
from protolearn.assessment.access import ensure_owns_test
from protolearn.assessment.authoring import proctoring_settings
from protolearn.assessment.errors import AttemptClosed, AttemptNotFound
from protolearn.errors import PermissionDenied
from protolearn.proctoring_settings import ProctoringSettings
from protolearn.store.attempts import AttemptStatus, TestAttempt
from protolearn.store.base import utcnow
from protolearn.store.tests import Test
from protolearn.store.users import Role

__all__ = (
    "Publishable",
    "Watchable",
    "publishable_attempt",
    "watchable_attempt",
    "watchable_attempts_of_test",
)


class Publishable(NamedTuple):
    attempt_id: int
    test_id: int
    proctoring: ProctoringSettings


async def publishable_attempt(session: AsyncSession, principal: Principal, attempt_id: int) -> Publishable:
    """The attempt a student may stream (their own, in progress, before its deadline), its
    test and the test's proctoring settings."""
    if principal.role is not Role.STUDENT:
        raise PermissionDenied("only the student taking an attempt publishes its camera")
    attempt = await session.get(TestAttempt, attempt_id)
    if attempt is None or attempt.student_id != principal.user_id:
        raise AttemptNotFound(f"attempt {attempt_id} not found")
    if attempt.status != AttemptStatus.IN_PROGRESS or attempt.deadline <= utcnow():
        raise AttemptClosed(f"attempt {attempt_id} is not in progress", attempt_status=attempt.status)
    test = await session.get(Test, attempt.test_id)
    settings = proctoring_settings(test) if test is not None else ProctoringSettings()
    return Publishable(attempt.id, attempt.test_id, settings)


class Watchable(NamedTuple):
    attempt_id: int
    test_id: int


def _ensure_teacher(principal: Principal) -> None:
    if principal.role not in (Role.TEACHER, Role.ADMIN):
        raise PermissionDenied("only teachers watch students")


async def watchable_attempt(session: AsyncSession, principal: Principal, attempt_id: int) -> Watchable:
    """An attempt of one of the teacher's tests, and that test."""
    _ensure_teacher(principal)
    row = (
        await session.execute(
            select(TestAttempt, Test)
            .join(Test, Test.id == TestAttempt.test_id)
            .where(TestAttempt.id == attempt_id)
        )
    ).first()
    if row is None:
        raise AttemptNotFound(f"attempt {attempt_id} not found")
    attempt, test = row
    try:
        ensure_owns_test(principal, test, test.id)
    except Exception as error:
        raise AttemptNotFound(f"attempt {attempt_id} not found") from error
    return Watchable(int(attempt.id), int(test.id))


async def watchable_attempts_of_test(session: AsyncSession, principal: Principal, test_id: int) -> list[int]:
    """The in-progress attempts of one of the teacher's tests (the class now taking it)."""
    _ensure_teacher(principal)
    ensure_owns_test(principal, await session.get(Test, test_id), test_id)
    attempts = await session.scalars(
        select(TestAttempt.id)
        .where(TestAttempt.test_id == test_id, TestAttempt.status == AttemptStatus.IN_PROGRESS)
        .order_by(TestAttempt.id)
    )
    return list(attempts)
