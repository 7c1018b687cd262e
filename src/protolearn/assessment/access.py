"""Who may see or change which test and attempt. Every service goes through these checks.

An object the caller may not see is reported as not found, so ids cannot be probed.
"""

from __future__ import annotations

from protolearn.accounts.schemas import Principal
from protolearn.assessment.errors import AttemptNotFound, TestNotFound
from protolearn.store.attempts import TestAttempt
from protolearn.store.tests import Test
from protolearn.store.users import Role

__all__ = ("ensure_attempt_visible", "ensure_owns_test", "ensure_test_visible", "owns_test")


def owns_test(principal: Principal, test: Test) -> bool:
    return principal.role is Role.ADMIN or (
        principal.role is Role.TEACHER and test.teacher_id == principal.user_id
    )


def ensure_owns_test(principal: Principal, test: Test | None, test_id: int) -> Test:
    if test is None or not owns_test(principal, test):
        raise TestNotFound(f"test {test_id} not found")
    return test


def ensure_test_visible(principal: Principal, test: Test | None, test_id: int) -> Test:
    """Owners and admins see a test; students see it once published; auditors see every test."""
    if test is not None and (
        owns_test(principal, test)
        or principal.role is Role.AUDITOR
        or (principal.role is Role.STUDENT and test.is_published)
    ):
        return test
    raise TestNotFound(f"test {test_id} not found")


def ensure_attempt_visible(
    principal: Principal, attempt: TestAttempt | None, test: Test | None, attempt_id: int
) -> TestAttempt:
    """The attempt's student, the test's teacher, auditors and admins see an attempt."""
    if attempt is not None and test is not None:
        if principal.role in (Role.ADMIN, Role.AUDITOR):
            return attempt
        if principal.role is Role.STUDENT and attempt.student_id == principal.user_id:
            return attempt
        if principal.role is Role.TEACHER and test.teacher_id == principal.user_id:
            return attempt
    raise AttemptNotFound(f"attempt {attempt_id} not found")
