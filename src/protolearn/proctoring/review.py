"""After the exam: the review queue, an attempt's timeline, evidence clips and auditors' verdicts.

Auditors and admins see every attempt; a teacher sees the attempts of their own tests; students
none (their own violations are in GET /api/violations/{attempt_id}). Every viewing of a clip
(one entry per viewer and clip per VIEWING_WINDOW, however many Range requests the player
sends) and every verdict is written to the audit log. A dismissed violation no longer counts
towards the attempt's suspicion score. A clip whose file the clip store's cap deleted keeps its
row and metadata; fetching it raises EvidenceExpired.
"""

from __future__ import annotations

import asyncio
import stat
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts import audit
from protolearn.accounts.schemas import Principal
from protolearn.assessment.access import ensure_owns_test
from protolearn.assessment.errors import AttemptNotFound
from protolearn.data_files import data_file
from protolearn.errors import NotFound, PermissionDenied, ProtoLearnError
from protolearn.media.sealed import Sealer, SealError
from protolearn.proctoring.schemas import EvidenceRelease, FlaggedAttempt, ReviewIn, ViolationOut
from protolearn.proctoring.service import recount, violation_out
from protolearn.store.attempts import TestAttempt
from protolearn.store.audit import AuditEntry
from protolearn.store.base import utcnow
from protolearn.store.tests import Test
from protolearn.store.users import Role, User
from protolearn.store.violations import EvidenceClip, Violation, ViolationReview

__all__ = (
    "VIEWING_WINDOW",
    "VIEW_ACTION",
    "EvidenceExpired",
    "EvidenceFile",
    "EvidenceUnreadable",
    "ReviewService",
    "read_evidence",
)

REVIEWERS = (Role.AUDITOR, Role.ADMIN, Role.TEACHER)
# A player fetches a clip in many Range requests, and replays or seeks with more: an auditor
# reading the log wants "who looked at which clip, when", so the requests of one viewer for one
# clip make one viewing until this long after it was recorded (clips last well under a minute).
VIEWING_WINDOW = timedelta(minutes=10)
VIEW_ACTION = "evidence.view"


class EvidenceNotFound(NotFound):
    pass


class EvidenceExpired(NotFound):
    """The clip's row is there but its file is not: the clip store's cap deleted it."""


class ViolationNotFound(NotFound):
    pass


class EvidenceUnreadable(ProtoLearnError):
    """The clip's file is there but cannot be opened: sealed with a key this server was not
    given, or changed on disk. Nothing is served; an operator must look."""


@dataclass(frozen=True)
class EvidenceFile:
    evidence_id: int
    path: Path
    media_type: str
    size_bytes: int  # of the plain clip, as served
    sealer: Sealer


async def read_evidence(evidence: EvidenceFile, first: int, last: int) -> bytes:
    """Bytes first..last (inclusive) of the clip, read on a worker thread, and only those (a
    sealed clip's chunks that hold them are opened, nothing else)."""
    try:
        data = await asyncio.to_thread(evidence.sealer.read, evidence.path, first, last - first + 1)
    except FileNotFoundError as error:  # deleted by the cap since it was looked at
        raise EvidenceExpired(f"the clip of evidence {evidence.evidence_id} has expired") from error
    except SealError as error:
        raise EvidenceUnreadable(str(error), evidence_id=evidence.evidence_id) from error
    if len(data) != last - first + 1:  # clips are written whole and renamed: it was replaced
        raise EvidenceExpired(f"the clip of evidence {evidence.evidence_id} has changed; fetch it again")
    return data


def _clip_file(data_dir: Path, relative: str, sealer: Sealer) -> tuple[Path, int | None] | None:
    """The clip's path and plain size (None when its file is gone); None for a path outside the
    data dir, which no row of ours holds."""
    path = data_file(data_dir, relative)
    if path is None:
        return None
    try:
        if not stat.S_ISREG(path.stat().st_mode):
            return path, None
        return path, sealer.size(path)
    except FileNotFoundError:
        return path, None


def _expired(clip: EvidenceClip) -> EvidenceExpired:
    why = (
        "it was deleted when its retention period ended"
        if clip.deleted_at is not None
        else "the clip store deleted it to make room for newer clips"
    )
    return EvidenceExpired(
        f"the clip of evidence {clip.id} has expired: {why} (its record stays)",
        evidence_id=clip.id,
        size_bytes=clip.size_bytes,
        sha256=clip.sha256,
    )


class ReviewService:
    def __init__(self, session: AsyncSession, data_dir: Path, sealer: Sealer) -> None:
        self._session = session
        self._data_dir = data_dir
        self._sealer = sealer

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

    async def ensure_can_view(self, principal: Principal, evidence_id: int) -> None:
        """Raises EvidenceNotFound unless the clip exists and the principal may see it (before
        signing a link to it; the viewing itself is audited when the link is used)."""
        clip = await self._session.get(EvidenceClip, evidence_id)
        if clip is None:
            raise EvidenceNotFound(f"evidence {evidence_id} not found")
        try:
            await self._reviewable_attempt(principal, clip.attempt_id)
        except AttemptNotFound as error:
            raise EvidenceNotFound(f"evidence {evidence_id} not found") from error

    async def evidence(self, principal: Principal, evidence_id: int, address: str) -> EvidenceFile:
        """The clip's file, after checking access. The first request of a viewing is written to
        the audit log (see VIEWING_WINDOW); the file is looked at on a worker thread."""
        clip = await self._session.get(EvidenceClip, evidence_id)
        if clip is None:
            raise EvidenceNotFound(f"evidence {evidence_id} not found")
        try:
            await self._reviewable_attempt(principal, clip.attempt_id)
        except AttemptNotFound as error:
            raise EvidenceNotFound(f"evidence {evidence_id} not found") from error
        found = await asyncio.to_thread(_clip_file, self._data_dir, clip.path, self._sealer)
        if found is None:
            raise EvidenceNotFound(f"evidence {evidence_id} not found")
        path, size = found
        if size is None:
            raise _expired(clip)
        if not await self._viewing_recorded(principal.user_id, clip.id):
            audit.record(
                self._session,
                actor_id=principal.user_id,
                action=VIEW_ACTION,
                object_type="evidence_clip",
                object_id=clip.id,
                address=address,
                attempt_id=clip.attempt_id,
            )
            await self._session.commit()
        return EvidenceFile(clip.id, path, clip.media_type, size, self._sealer)

    async def _viewing_recorded(self, viewer_id: int, evidence_id: int) -> bool:
        """Whether this viewer's viewing of this clip is already in the audit log."""
        recent = await self._session.scalar(
            select(AuditEntry.id)
            .where(
                AuditEntry.object_type == "evidence_clip",
                AuditEntry.object_id == evidence_id,
                AuditEntry.actor_id == viewer_id,
                AuditEntry.action == VIEW_ACTION,
                AuditEntry.created_at >= utcnow() - VIEWING_WINDOW,
            )
            .limit(1)
        )
        return recent is not None

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
        review.decision = verdict.decision
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

    async def release(self, principal: Principal, evidence_id: int, address: str) -> EvidenceRelease:
        """An admin lets a confirmed violation's clip go: from now on the retention period applies
        to it (a clip already older goes at the next sweep)."""
        if principal.role is not Role.ADMIN:
            raise PermissionDenied("only admins release evidence")
        clip = await self._session.get(EvidenceClip, evidence_id)
        if clip is None:
            raise EvidenceNotFound(f"evidence {evidence_id} not found")
        if clip.released_at is None:
            clip.released_at = utcnow()
            audit.record(
                self._session,
                actor_id=principal.user_id,
                action="evidence.release",
                object_type="evidence_clip",
                object_id=clip.id,
                address=address,
                attempt_id=clip.attempt_id,
            )
            await self._session.commit()
        return EvidenceRelease(evidence_id=clip.id, released_at=clip.released_at, deleted_at=clip.deleted_at)

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
