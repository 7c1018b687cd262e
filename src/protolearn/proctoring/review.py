"""After the exam: the review queue, an attempt's timeline, evidence clips and auditors' verdicts.

Auditors and admins see every attempt; a teacher sees the attempts of their own tests; students
none (their own violations are in GET /api/violations/{attempt_id}). Every clip view and every
verdict is written to the audit log. A dismissed violation no longer counts towards the
attempt's suspicion score.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts import audit
from protolearn.accounts.schemas import Principal
from protolearn.assessment.access import ensure_owns_test
from protolearn.assessment.errors import AttemptNotFound
from protolearn.errors import NotFound, PermissionDenied
from protolearn.proctoring.schemas import FlaggedAttempt, ReviewIn, ViolationOut
from protolearn.proctoring.service import recount, violation_out
from protolearn.store.attempts import TestAttempt
from protolearn.store.tests import Test
from protolearn.store.users import Role, User
from protolearn.store.violations import EvidenceClip, Violation, ViolationReview

__all__ = ("EvidenceFile", "ReviewService")

REVIEWERS = (Role.AUDITOR, Role.ADMIN, Role.TEACHER)


class EvidenceNotFound(NotFound):
    pass


class ViolationNotFound(NotFound):
    pass


@dataclass(frozen=True)
class EvidenceFile:
    path: Path
    media_type: str
    size_bytes: int


class ReviewService:
    def __init__(self, session: AsyncSession, data_dir: Path) -> None:
        self._session = session
        self._data_dir = data_dir

    async def flagged(self, principal: Principal, test_id: int | None) -> list[FlaggedAttempt]:
        _ensure_reviewer(principal)
        query = (
            select(TestAttempt, Test, User)
            .join(Test, Test.id == TestAttempt.test_id)
            .join(User, User.id == TestAttempt.student_id)
            .where(TestAttempt.violation_count > 0)
        )
        if test_id is not None:
            test = await self._session.get(Test, test_id)
            if principal.role is Role.TEACHER:
                ensure_owns_test(principal, test, test_id)
            query = query.where(TestAttempt.test_id == test_id)
        if principal.role is Role.TEACHER:
            query = query.where(Test.teacher_id == principal.user_id)
        rows = (
            await self._session.execute(query.order_by(TestAttempt.suspicion_score.desc(), TestAttempt.id))
        ).all()
        unreviewed = await self._unreviewed([attempt.id for attempt, _, _ in rows])
        return [
            FlaggedAttempt(
                attempt_id=attempt.id,
                test_id=test.id,
                test_title=test.title,
                student_id=student.id,
                student_name=student.name,
                status=attempt.status,
                violation_count=attempt.violation_count,
                suspicion_score=attempt.suspicion_score,
                unreviewed=unreviewed.get(attempt.id, 0),
            )
            for attempt, test, student in rows
        ]

    async def timeline(self, principal: Principal, attempt_id: int) -> list[ViolationOut]:
        await self._reviewable_attempt(principal, attempt_id)
        rows = await self._session.execute(
            select(Violation, ViolationReview)
            .outerjoin(ViolationReview, ViolationReview.violation_id == Violation.id)
            .where(Violation.attempt_id == attempt_id)
            .order_by(Violation.occurred_at, Violation.id)
        )
        return [violation_out(violation, review) for violation, review in rows]

    async def evidence(self, principal: Principal, evidence_id: int, address: str) -> EvidenceFile:
        """The clip's file, after checking access; the view is written to the audit log."""
        clip = await self._session.get(EvidenceClip, evidence_id)
        if clip is None:
            raise EvidenceNotFound(f"evidence {evidence_id} not found")
        try:
            await self._reviewable_attempt(principal, clip.attempt_id)
        except AttemptNotFound as error:
            raise EvidenceNotFound(f"evidence {evidence_id} not found") from error
        path = (self._data_dir / clip.path).resolve()
        if not path.is_relative_to(self._data_dir.resolve()) or not path.is_file():
            raise EvidenceNotFound(f"the file of evidence {evidence_id} is gone")
        audit.record(
            self._session,
            actor_id=principal.user_id,
            action="evidence.view",
            object_type="evidence_clip",
            object_id=clip.id,
            address=address,
            attempt_id=clip.attempt_id,
        )
        await self._session.commit()
        return EvidenceFile(path=path, media_type=clip.media_type, size_bytes=path.stat().st_size)

    async def review(
        self, principal: Principal, violation_id: int, verdict: ReviewIn, address: str
    ) -> ViolationOut:
        if principal.role is not Role.AUDITOR:
            raise PermissionDenied("only auditors review violations")
        violation = await self._session.get(Violation, violation_id)
        if violation is None:
            raise ViolationNotFound(f"violation {violation_id} not found")
        review = await self._session.scalar(
            select(ViolationReview).where(ViolationReview.violation_id == violation_id)
        )
        if review is None:
            review = ViolationReview(violation_id=violation_id, reviewer_id=principal.user_id)
            self._session.add(review)
        review.decision = verdict.decision.value
        review.note = verdict.note.strip()
        review.reviewer_id = principal.user_id
        await self._session.flush()
        attempt = await self._session.get(TestAttempt, violation.attempt_id)
        if attempt is not None:
            await recount(self._session, attempt)
        audit.record(
            self._session,
            actor_id=principal.user_id,
            action=f"violation.{verdict.decision.value}",
            object_type="violation",
            object_id=violation_id,
            address=address,
            note=review.note,
        )
        await self._session.commit()
        await self._session.refresh(review)
        return violation_out(violation, review)

    async def _reviewable_attempt(self, principal: Principal, attempt_id: int) -> TestAttempt:
        _ensure_reviewer(principal)
        row = (
            await self._session.execute(
                select(TestAttempt, Test)
                .join(Test, Test.id == TestAttempt.test_id)
                .where(TestAttempt.id == attempt_id)
            )
        ).first()
        if row is None or (principal.role is Role.TEACHER and row[1].teacher_id != principal.user_id):
            raise AttemptNotFound(f"attempt {attempt_id} not found")
        return row[0]

    async def _unreviewed(self, attempt_ids: list[int]) -> dict[int, int]:
        if not attempt_ids:
            return {}
        rows = await self._session.execute(
            select(Violation.attempt_id, func.count())
            .outerjoin(ViolationReview, ViolationReview.violation_id == Violation.id)
            .where(Violation.attempt_id.in_(attempt_ids), ViolationReview.id.is_(None))
            .group_by(Violation.attempt_id)
        )
        return {int(row[0]): int(row[1]) for row in rows}


def _ensure_reviewer(principal: Principal) -> None:
    if principal.role not in REVIEWERS:
        raise PermissionDenied("only auditors, teachers and admins review proctoring")
