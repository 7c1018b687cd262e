"""Server-side violations in the database: opened when a rule fires, closed with its clip.

Each function takes its own short session (SQLite has one connection to share) and commits.
Closing with a clip store keeps the clips on disk within its cap: the oldest files go, their
EvidenceClip rows (size, duration, sha256, times) stay, and review answers 410 for them.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protolearn.media.recorder import Clip, ClipStore
from protolearn.metrics import VIOLATIONS
from protolearn.proctoring.rules import ViolationSpan
from protolearn.proctoring.service import recount
from protolearn.store.attempts import TestAttempt
from protolearn.store.violations import EvidenceClip, Violation, ViolationSource

__all__ = ("close_violation", "open_violation")

log = logging.getLogger(__name__)


def _utc(wall_seconds: float) -> datetime:
    return datetime.fromtimestamp(wall_seconds, UTC)


async def open_violation(
    sessionmaker: async_sessionmaker[AsyncSession], attempt_id: int, span: ViolationSpan, started_wall: float
) -> int:
    async with sessionmaker() as session:
        violation = Violation(
            attempt_id=attempt_id,
            type=span.type,
            severity=span.severity,
            source=ViolationSource.SERVER,
            description=span.detail,
            occurred_at=_utc(started_wall),
        )
        session.add(violation)
        await session.flush()
        attempt = await session.get(TestAttempt, attempt_id)
        if attempt is not None:
            await recount(session, attempt)
        await session.commit()
        VIOLATIONS.labels(span.type, ViolationSource.SERVER.value).inc()
        return violation.id


async def close_violation(
    sessionmaker: async_sessionmaker[AsyncSession],
    violation_id: int,
    span: ViolationSpan,
    ended_wall: float,
    clip: Clip | None,
    data_dir: Path,
    *,
    clip_store: ClipStore | None = None,
) -> int | None:
    """Ends the violation, links its clip; returns the evidence id (None without a clip).

    With a clip store, its cap is enforced once the clip's row is committed, on a worker thread
    (it walks the clips on disk); the new clip itself is never the one deleted.
    """
    async with sessionmaker() as session:
        violation = await session.get(Violation, violation_id)
        if violation is None:
            return None
        violation.ended_at = _utc(ended_wall)
        violation.severity = span.severity
        if clip is not None:
            evidence = EvidenceClip(
                attempt_id=violation.attempt_id,
                path=str(clip.path.relative_to(data_dir)),
                size_bytes=clip.size_bytes,
                duration_seconds=clip.duration_seconds,
                sha256=clip.sha256,
                started_at=_utc(clip.started_at),
                ended_at=_utc(clip.ended_at),
            )
            session.add(evidence)
            await session.flush()
            violation.evidence_id = evidence.id
        attempt = await session.get(TestAttempt, violation.attempt_id)
        if attempt is not None:
            await recount(session, attempt)
        await session.commit()
        evidence_id = violation.evidence_id
    if clip is not None and clip_store is not None:
        await _enforce_cap(clip_store, clip.path)
    return evidence_id


async def _enforce_cap(clip_store: ClipStore, newest: Path) -> None:
    try:
        deleted = await asyncio.to_thread(clip_store.enforce_cap, newest)
    except OSError:
        # The violation is stored either way; a full or unreadable disk is for the operator.
        log.exception("could not keep the clips under %s within their cap", clip_store.directory)
        return
    if deleted:
        log.info("clip store over %d bytes: deleted the %d oldest clips", clip_store.max_bytes, len(deleted))
