"""What a student may see of a test's results: one rule for every route that can show a score,
a key or an explanation (the attempt's page, the results list, the tutor's explanations).

Staff see everything. A student sees their score once the attempt is closed and the review mode
shows it, and the marking with the correct answers once the review mode shows answers; never
anything of the answers while they have an attempt in progress on the same test (a test that
allows several attempts must not hand the key of the first to the second).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.store.attempts import AttemptStatus, TestAttempt
from protolearn.store.tests import ReviewMode, Test

__all__ = ("results_visible", "retaking")


def results_visible(
    test: Test, attempt: TestAttempt, *, to_student: bool, retaking: bool = False
) -> tuple[bool, bool]:
    """Whether the score, and whether per-answer marking with the key, may be shown.
    ``retaking``: the student has an attempt in progress on this test (see ``retaking``)."""
    if not to_student:
        return True, True
    closed = attempt.status != AttemptStatus.IN_PROGRESS
    return (
        closed and test.review_mode != ReviewMode.NONE,
        closed and test.review_mode == ReviewMode.ANSWERS and not retaking,
    )


async def retaking(session: AsyncSession, student_id: int, test_id: int) -> bool:
    """Whether the student has an attempt in progress on this test now."""
    found = await session.scalar(
        select(TestAttempt.id)
        .where(
            TestAttempt.student_id == student_id,
            TestAttempt.test_id == test_id,
            TestAttempt.status == AttemptStatus.IN_PROGRESS,
        )
        .limit(1)
    )
    return found is not None
