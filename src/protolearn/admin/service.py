"""``GET /api/admin/stats``: counts from the database, live load from the media and proctoring
services, and the health of the database and the AI provider."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.admin.schemas import AdminStats, LiveStats, TestCounts, UserCounts
from protolearn.ai.health import health_of
from protolearn.ai.service import AiTools
from protolearn.media.relay import ForwardingUnit
from protolearn.proctoring.supervisor import ProctoringSupervisor
from protolearn.store.attempts import AttemptStatus, TestAttempt
from protolearn.store.base import utcnow
from protolearn.store.tests import Test
from protolearn.store.users import Role, User
from protolearn.store.violations import Violation

__all__ = ("AdminStatsService",)

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class _Counts:
    users: UserCounts
    tests: TestCounts
    attempts: int
    violations: int


class AdminStatsService:
    def __init__(
        self,
        session: AsyncSession,
        *,
        media: ForwardingUnit,
        proctoring: ProctoringSupervisor,
        ai_tools: AiTools,
    ) -> None:
        self._session = session
        self._media = media
        self._proctoring = proctoring
        self._ai_tools = ai_tools

    async def stats(self) -> AdminStats:
        counts, ai = await asyncio.gather(
            self._counts(), health_of(self._ai_tools.provider, self._ai_tools.stats)
        )
        return AdminStats(
            users=counts.users if counts else None,
            tests=counts.tests if counts else None,
            attempts_in_progress=counts.attempts if counts else None,
            violations_last_hour=counts.violations if counts else None,
            live=self._live(),
            database="ok" if counts else "unavailable",
            ai=ai,
        )

    def _live(self) -> LiveStats:
        meter = self._proctoring.analysis
        return LiveStats(
            publishers=self._media.publisher_count,
            viewers=self._media.viewer_count,
            proctored_attempts=len(self._proctoring.attempts),
            frames_per_second=meter.rate(),
            inference_latency_ms=meter.latency_ms(),
            frames_forwarded=self._media.stats.forwarded,
            frames_held_back=self._media.stats.held_back,
        )

    async def _counts(self) -> _Counts | None:
        """The database's counts; None when it does not answer a ``SELECT 1``."""
        session = self._session
        try:
            await session.execute(text("SELECT 1"))
        except Exception as exc:  # any driver's failure: reported as a state, not raised
            log.warning("database unavailable for stats: %s", type(exc).__name__)
            return None
        by_role = dict.fromkeys((role.value for role in Role), 0)
        for role, count in await session.execute(select(User.role, func.count()).group_by(User.role)):
            by_role[str(role)] = count
        active = await session.scalar(select(func.count()).select_from(User).where(User.is_active)) or 0
        tests_total = await session.scalar(select(func.count()).select_from(Test)) or 0
        published = await session.scalar(select(func.count()).select_from(Test).where(Test.is_published)) or 0
        attempts = (
            await session.scalar(
                select(func.count())
                .select_from(TestAttempt)
                .where(TestAttempt.status == AttemptStatus.IN_PROGRESS)
            )
            or 0
        )
        violations = (
            await session.scalar(
                select(func.count())
                .select_from(Violation)
                .where(Violation.occurred_at >= utcnow() - timedelta(hours=1))
            )
            or 0
        )
        await session.commit()  # ends the read transaction: SQLite has one pooled connection
        return _Counts(
            UserCounts(total=sum(by_role.values()), active=active, by_role=by_role),
            TestCounts(total=tests_total, published=published),
            attempts,
            violations,
        )
