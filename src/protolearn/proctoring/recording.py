"""Violations of one attempt into the database, in order, with their clips.

A RuleEngine's on_start/on_end become jobs on the attempt's own queue, run one at a time by a
supervised worker: a violation is written when its rule fires and completed, with a clip from
the stream's ring buffer (a few seconds before its start to a few after its end), when it
ends; then it is announced. A test may end the attempt after N critical violations: that goes
through the attempt lifecycle like any other end.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protolearn.assessment.lifecycle import AttemptLifecycle
from protolearn.media.recorder import Clip, ClipStore, ClipUnavailable, SegmentRecorder
from protolearn.proctoring.announcements import Announcer, wall_time
from protolearn.proctoring.evidence import close_violation, open_violation
from protolearn.proctoring.rules import ViolationSpan
from protolearn.store.attempts import AttemptStatus
from protolearn.store.violations import Severity
from protolearn.supervision import TaskFailures, supervise

__all__ = ("SessionReport", "ViolationRecorder")

log = logging.getLogger(__name__)

PRE_ROLL_S = 3.0
POST_ROLL_S = 2.0
JOB_ATTEMPTS = 3  # tries of a database write before a violation job is given up (logged, counted)

Job = Callable[[], Awaitable[None]]


@dataclass(slots=True)
class SessionReport:
    """What a session did, for tests and the admin's stats."""

    frames_analysed: int = 0
    violations_opened: int = 0
    violations_closed: int = 0
    clips: int = 0


class ViolationRecorder:
    """One attempt's violations. Use its opened/closed as the RuleEngine's on_start/on_end."""

    def __init__(
        self,
        attempt_id: int,
        segments: SegmentRecorder,
        *,
        sessionmaker: async_sessionmaker[AsyncSession],
        data_dir: Path,
        announcer: Announcer,
        lifecycle: AttemptLifecycle,
        auto_terminate_after_critical: int | None,
        clock: Callable[[], float],
        failures: TaskFailures,
        clip_store: ClipStore | None = None,
    ) -> None:
        self.attempt_id = attempt_id
        self.segments = segments
        self.report = SessionReport()
        self._sessionmaker = sessionmaker
        self._data_dir = data_dir
        self._announcer = announcer
        self._lifecycle = lifecycle
        self._auto_terminate = auto_terminate_after_critical
        self._clock = clock
        self._clip_store = clip_store
        self._failures = failures
        self._critical = 0
        self._open_rows: dict[str, int] = {}  # rule -> violation id
        self._jobs: asyncio.Queue[Job] = asyncio.Queue()
        self._worker = asyncio.create_task(
            supervise("violation-recorder", self._run, failures=failures, context=f"attempt {attempt_id}"),
            name=f"proctoring-{attempt_id}",
        )

    def opened(self, span: ViolationSpan) -> None:
        self._jobs.put_nowait(lambda: self._opened(span))

    def closed(self, span: ViolationSpan) -> None:
        self._jobs.put_nowait(lambda: self._closed(span))

    async def close(self, within: float = 30.0) -> None:
        """Finishes the queued jobs (clips included), for `within` seconds at most, then stops
        the worker."""
        try:
            await asyncio.wait_for(self._jobs.join(), within)
        except TimeoutError:
            log.error("attempt %s: violations still being recorded after %.0f s", self.attempt_id, within)
        self._worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._worker

    async def _run(self) -> None:
        while True:
            job = await self._jobs.get()
            try:
                await self._attempt(job)
            finally:
                self._jobs.task_done()

    async def _attempt(self, job: Job) -> None:
        """Runs a job, again after a pause when it fails (the database may be back): a
        violation is not given up on at the first error."""
        for attempt in range(1, JOB_ATTEMPTS + 1):
            try:
                await job()
                return
            except Exception:
                last = attempt == JOB_ATTEMPTS
                log.exception(
                    "recording a violation of attempt %s failed (try %d of %d)%s",
                    self.attempt_id,
                    attempt,
                    JOB_ATTEMPTS,
                    "; giving up" if last else "",
                )
                self._failures["violation-job"] += 1
                if not last:
                    await asyncio.sleep(0.5 * 2**attempt)

    async def _opened(self, span: ViolationSpan) -> None:
        row = await open_violation(self._sessionmaker, self.attempt_id, span, wall_time(span.started))
        self._open_rows[span.type] = row  # only once stored: a retried job cannot store it twice
        self.report.violations_opened += 1
        log.info(
            "attempt %s: %s violation %d opened",
            self.attempt_id,
            span.type,
            row,
            extra={
                "event": "violation_opened",
                "attempt_id": self.attempt_id,
                "violation_id": row,
                "violation_type": span.type,
            },
        )
        self._announcer.violation(self.attempt_id, row, span, None, None)

    async def _closed(self, span: ViolationSpan) -> None:
        opened = self._open_rows.get(span.type)
        if opened is None:
            return
        ended = span.ended if span.ended is not None else self._clock()
        clip = await self._clip(opened, span, ended)
        evidence_id = await close_violation(
            self._sessionmaker,
            opened,
            span,
            wall_time(ended),
            clip,
            self._data_dir,
            clip_store=self._clip_store,
        )
        del self._open_rows[span.type]  # only once stored: a failure above is tried again
        self.report.violations_closed += 1
        log.info(
            "attempt %s: %s violation %d closed%s",
            self.attempt_id,
            span.type,
            opened,
            "" if clip is None else " with its clip",
            extra={
                "event": "violation_closed",
                "attempt_id": self.attempt_id,
                "violation_id": opened,
                "violation_type": span.type,
                "evidence_id": evidence_id,
            },
        )
        self._announcer.violation(self.attempt_id, opened, span, ended, evidence_id)
        if span.severity is Severity.CRITICAL:
            self._critical += 1
            if self._auto_terminate is not None and self._critical >= self._auto_terminate:
                reason = f"{self._critical} critical violations"
                # The lifecycle publishes AttemptEnded; the supervisor stops this session on it.
                await self._lifecycle.end(self.attempt_id, AttemptStatus.TERMINATED, reason)

    async def _clip(self, violation_id: int, span: ViolationSpan, ended: float) -> Clip | None:
        path = self._data_dir / "clips" / f"attempt-{self.attempt_id}" / f"{span.type}-{violation_id}.webm"
        try:
            clip = await self.segments.clip(
                span.started - PRE_ROLL_S, ended + POST_ROLL_S, path, post_roll_timeout=POST_ROLL_S + 3
            )
        except ClipUnavailable as error:
            log.warning("no clip for %s of attempt %s: %s", span.type, self.attempt_id, error)
            return None
        self.report.clips += 1
        return clip
