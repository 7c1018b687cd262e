"""Recording violations against attempts and listing them."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts.schemas import Principal
from protolearn.assessment.access import ensure_attempt_visible
from protolearn.assessment.errors import AttemptClosed, AttemptNotFound
from protolearn.metrics import VIOLATIONS
from protolearn.proctoring.schemas import BrowserEvent, BrowserEventIn, ReviewOut, ViolationOut
from protolearn.proctoring.suspicion import suspicion_score
from protolearn.store.attempts import AttemptStatus, TestAttempt
from protolearn.store.base import utcnow
from protolearn.store.tests import Test
from protolearn.store.violations import ReviewDecision, Severity, Violation, ViolationReview, ViolationSource

__all__ = ("BROWSER_EVENT_SEVERITY", "ProctoringService", "recount")

BROWSER_EVENT_SEVERITY: dict[BrowserEvent, Severity] = {
    BrowserEvent.TAB_SWITCH: Severity.MEDIUM,
    BrowserEvent.WINDOW_BLUR: Severity.LOW,
    BrowserEvent.FULLSCREEN_EXIT: Severity.MEDIUM,
    BrowserEvent.COPY_PASTE: Severity.MEDIUM,
    BrowserEvent.DEVTOOLS: Severity.HIGH,
    BrowserEvent.CONTEXT_MENU: Severity.LOW,
    BrowserEvent.PRINT_SCREEN: Severity.HIGH,
}
# A browser's clock may be off; its timestamp is kept only when this close to ours.
_CLOCK_SKEW = timedelta(minutes=2)


def violation_out(violation: Violation, review: ViolationReview | None) -> ViolationOut:
    return ViolationOut(
        id=violation.id,
        attempt_id=violation.attempt_id,
        type=violation.type,
        severity=violation.severity,
        source=violation.source,
        description=violation.description,
        timestamp=violation.occurred_at,
        ended_at=violation.ended_at,
        evidence_id=violation.evidence_id,
        review=None
        if review is None
        else ReviewOut(
            decision=review.decision,
            note=review.note,
            reviewer_id=review.reviewer_id,
            reviewed_at=review.created_at,
        ),
    )


class ProctoringService:
    def __init__(self, session: AsyncSession) -> None:
        self._session = session

    async def record_browser_event(self, principal: Principal, event: BrowserEventIn) -> ViolationOut:
        attempt = await self._session.get(TestAttempt, event.attempt_id)
        if attempt is None or attempt.student_id != principal.user_id:
            raise AttemptNotFound(f"attempt {event.attempt_id} not found")
        if attempt.status != AttemptStatus.IN_PROGRESS:
            raise AttemptClosed(f"the attempt is already {attempt.status}", attempt_status=attempt.status)
        now = utcnow()
        violation = Violation(
            attempt_id=attempt.id,
            type=event.type.value,
            severity=BROWSER_EVENT_SEVERITY[event.type].value,
            source=ViolationSource.BROWSER,
            description=event.description.strip(),
            occurred_at=_trusted_time(event.occurred_at, attempt.started_at, now),
        )
        self._session.add(violation)
        await self._session.flush()
        await self._recount(attempt)
        await self._session.commit()
        VIOLATIONS.labels(violation.type, ViolationSource.BROWSER.value).inc()
        return violation_out(violation, None)

    async def list_for_attempt(self, principal: Principal, attempt_id: int) -> list[ViolationOut]:
        attempt = await self._session.get(TestAttempt, attempt_id)
        test = await self._session.get(Test, attempt.test_id) if attempt else None
        ensure_attempt_visible(principal, attempt, test, attempt_id)
        rows = await self._session.execute(
            select(Violation, ViolationReview)
            .outerjoin(ViolationReview, ViolationReview.violation_id == Violation.id)
            .where(Violation.attempt_id == attempt_id)
            .order_by(Violation.occurred_at, Violation.id)
        )
        return [violation_out(violation, review) for violation, review in rows]

    async def _recount(self, attempt: TestAttempt) -> None:
        await recount(self._session, attempt)


async def recount(session: AsyncSession, attempt: TestAttempt) -> None:
    """Refresh the attempt's violation count and suspicion score from its violations."""
    rows = await session.execute(
        select(Violation.severity, ViolationReview.decision)
        .outerjoin(ViolationReview, ViolationReview.violation_id == Violation.id)
        .where(Violation.attempt_id == attempt.id)
    )
    counted = [Severity(severity) for severity, decision in rows if decision != ReviewDecision.DISMISSED]
    attempt.violation_count = len(counted)
    attempt.suspicion_score = suspicion_score(counted)


def _trusted_time(reported: datetime | None, started_at: datetime, now: datetime) -> datetime:
    if reported is None or reported.tzinfo is None:
        return now
    if started_at - _CLOCK_SKEW <= reported <= now + _CLOCK_SKEW:
        return min(reported, now)
    return now
