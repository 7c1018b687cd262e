"""The retention sweep: evidence clips and uploaded material are deleted once they are older than
their settings' number of days (0 keeps them for ever).

A clip's file is deleted and its row stays, marked ``deleted_at`` (the timeline still shows
the violation; fetching the clip answers 410). A clip whose violation an auditor confirmed is
kept until an admin releases it (``released_at``). A material goes with its file; what was
generated from it stays (its link is cleared).

Several nodes sweep: each takes a batch of rows with ``FOR UPDATE SKIP LOCKED`` on PostgreSQL
(so they do not wait on each other), then claims them with a conditional update or delete whose
RETURNING says which are its own, so each row is handled by one node on any database; its files
are deleted before the commit. A file already gone counts as deleted.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import Select, delete, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protolearn.data_files import delete_data_file
from protolearn.metrics import BACKGROUND_JOBS
from protolearn.store.base import utcnow
from protolearn.store.materials import LearningMaterial, MaterialStatus
from protolearn.store.violations import EvidenceClip, ReviewDecision, Violation, ViolationReview

__all__ = ("RetentionReport", "RetentionSweeper")

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RetentionReport:
    clips_deleted: int = 0
    materials_deleted: int = 0


class RetentionSweeper:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        data_dir: Path,
        *,
        evidence_days: int,
        material_days: int,
        interval_s: float = 3600.0,
        batch: int = 200,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._data_dir = data_dir
        self._evidence_days = evidence_days
        self._material_days = material_days
        self._interval_s = interval_s
        self._batch = batch
        self._clock = clock

    async def run(self) -> None:
        while True:
            try:
                report = await self.sweep()
            except Exception:
                log.exception("retention sweep failed; trying again in %.0f s", self._interval_s)
                BACKGROUND_JOBS.labels("retention", "failed").inc()
            else:
                if report.clips_deleted or report.materials_deleted:
                    log.info(
                        "retention: deleted %d clip(s) and %d material(s)",
                        report.clips_deleted,
                        report.materials_deleted,
                        extra={"event": "retention"},
                    )
            await asyncio.sleep(self._interval_s)

    async def sweep(self) -> RetentionReport:
        now = self._clock()
        clips = materials = 0
        more = bool(self._evidence_days)
        while more:
            deleted, more = await self._clips(now - timedelta(days=self._evidence_days), now)
            clips += deleted
        more = bool(self._material_days)
        while more:
            deleted, more = await self._materials(now - timedelta(days=self._material_days))
            materials += deleted
        BACKGROUND_JOBS.labels("retention", "done").inc(clips + materials)
        return RetentionReport(clips, materials)

    async def _clips(self, cutoff: datetime, now: datetime) -> tuple[int, bool]:
        """Deletes a batch of due clips; how many were this node's, and whether more may be due."""
        confirmed = exists().where(
            Violation.evidence_id == EvidenceClip.id,
            ViolationReview.violation_id == Violation.id,
            ViolationReview.decision == ReviewDecision.CONFIRMED,
        )
        async with self._sessionmaker() as session:
            due = select(EvidenceClip.id).where(
                EvidenceClip.deleted_at.is_(None),
                EvidenceClip.created_at < cutoff,
                or_(~confirmed, EvidenceClip.released_at.is_not(None)),
            )
            ids = await self._take(session, due.order_by(EvidenceClip.id))
            if not ids:
                return 0, False
            # The conditional update is the claim: a row another node marked meanwhile is not ours.
            claimed = await session.execute(
                update(EvidenceClip)
                .where(EvidenceClip.id.in_(ids), EvidenceClip.deleted_at.is_(None))
                .values(deleted_at=now)
                .returning(EvidenceClip.path)
            )
            paths = list(claimed.scalars())
            for path in paths:  # before the commit: a failed commit leaves nothing unmarked behind
                await asyncio.to_thread(delete_data_file, self._data_dir, path)
            await session.commit()
        return len(paths), len(ids) == self._batch

    async def _materials(self, cutoff: datetime) -> tuple[int, bool]:
        async with self._sessionmaker() as session:
            due = select(LearningMaterial.id).where(
                LearningMaterial.created_at < cutoff, LearningMaterial.status != MaterialStatus.PROCESSING
            )
            ids = await self._take(session, due.order_by(LearningMaterial.id))
            if not ids:
                return 0, False
            deleted = await session.execute(
                delete(LearningMaterial).where(LearningMaterial.id.in_(ids)).returning(LearningMaterial.path)
            )
            paths = list(deleted.scalars())
            # Files are content-addressed: the same upload made again later shares its file.
            shared = set(
                await session.scalars(select(LearningMaterial.path).where(LearningMaterial.path.in_(paths)))
            )
            for path in set(paths) - shared:
                await asyncio.to_thread(delete_data_file, self._data_dir, path)
            await session.commit()
        return len(paths), len(ids) == self._batch

    async def _take(self, session: AsyncSession, due: Select[int]) -> list[int]:
        """A batch of the due rows no other node holds (PostgreSQL skips their locked rows)."""
        return list(await session.scalars(due.limit(self._batch).with_for_update(skip_locked=True)))
