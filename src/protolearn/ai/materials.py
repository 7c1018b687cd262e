"""Uploaded material: stored under the data dir, extracted in the background, progress kept.

``MaterialExtractor`` runs one extraction at a time in the extraction process
(``extraction_worker``: a bomb's memory never reaches the server), taking uploads in turn by
teacher (``extraction_queue``), keeps live progress in memory for polling, writes the result to
the row, and on start-up resumes uploads a restart interrupted. Each start of a material's
extraction is counted on its row: one that was started too often without ending (server stops,
process crashes) is marked failed instead of being tried for ever. Its worker never dies
silently: a job that fails is logged with its material id, counted and marked failed, and the
worker goes on with the next; the worker itself runs under ``supervise`` (logged, counted,
restarted).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protolearn.ai.extraction import Extraction, MaterialKind
from protolearn.ai.extraction_queue import UploaderQueue
from protolearn.ai.extraction_worker import ExtractionProcess, WorkerDied, WorkerOutOfMemory, WorkerTimedOut
from protolearn.errors import InvalidInput
from protolearn.metrics import BACKGROUND_JOBS
from protolearn.store.base import utcnow
from protolearn.store.materials import LearningMaterial, MaterialStatus
from protolearn.supervision import TaskFailures, supervise

__all__ = ("JOB_FAILED", "PROCESS_DIED", "WORKER", "MaterialExtractor", "store_material_file")

log = logging.getLogger(__name__)


def store_material_file(data_dir: Path, teacher_id: int, kind: MaterialKind, data: bytes) -> tuple[str, str]:
    """Write the upload (content-addressed, atomically); its path relative to the data dir, and sha256."""
    digest = hashlib.sha256(data).hexdigest()
    relative = Path("materials") / str(teacher_id) / f"{digest}.{kind.extension}"
    target = data_dir / relative
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(data)
        partial.replace(target)
    return relative.as_posix(), digest


WORKER = "material-extraction"  # the worker's task name, and its key in ``failures``
JOB_FAILED = "material-extraction job"  # key in ``failures``: jobs that raised unexpectedly
PROCESS_DIED = "material-extraction process"  # key in ``failures``: the process ended mid-job


class MaterialExtractor:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        data_dir: Path,
        process: ExtractionProcess,
        *,
        max_attempts: int = 3,
        restart_delay_s: float = 0.5,
        node: str = "",
        lease_s: float = 60.0,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._data_dir = data_dir
        self._process = process
        self._max_attempts = max_attempts
        self._restart_delay_s = restart_delay_s
        # Several nodes: a material being read is claimed by its node for lease_s, renewed.
        self._node = node or f"pid-{os.getpid()}"
        self._lease_s = lease_s
        # One thread waits on the process while a job runs (the process does the work).
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="material-extraction")
        self._queue = UploaderQueue()
        self._jobs: dict[int, asyncio.Future[None]] = {}  # queued or running; done when it ends
        self._uploaders: dict[int, int] = {}  # material -> its uploader, while it has a job
        self._progress: dict[int, float] = {}
        self._worker: asyncio.Task[None] | None = None
        self.failures: TaskFailures = TaskFailures()

    @property
    def queued(self) -> int:
        """Extractions queued or running in this process."""
        return len(self._jobs)

    def progress(self, material_id: int) -> float | None:
        """Live progress (0..1) of a queued or running extraction in this process."""
        return self._progress.get(material_id)

    def submit(self, material_id: int, uploader_id: int) -> None:
        """Queue the extraction of ``material_id`` (once: again while queued is a no-op)."""
        if material_id in self._jobs:
            return
        self._jobs[material_id] = asyncio.get_running_loop().create_future()
        self._uploaders[material_id] = uploader_id
        self._progress[material_id] = 0.0
        self._queue.put(uploader_id, material_id)
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(
                supervise(WORKER, self._work, failures=self.failures, restart_delay_s=self._restart_delay_s),
                name=WORKER,
            )

    async def wait(self, material_id: int, timeout_s: float) -> bool:
        """Whether the extraction of ``material_id`` ended within ``timeout_s``."""
        job = self._jobs.get(material_id)
        if job is None:
            return True
        done, _ = await asyncio.wait({job}, timeout=timeout_s)
        return bool(done)

    async def resume_pending(self) -> int:
        """Start again every extraction a stop interrupted; how many."""
        async with self._sessionmaker() as session:
            pending = list(
                await session.execute(
                    select(LearningMaterial.id, LearningMaterial.teacher_id)
                    .where(LearningMaterial.status == MaterialStatus.PROCESSING)
                    .order_by(LearningMaterial.id)
                )
            )
        for material_id, teacher_id in pending:
            self.submit(material_id, teacher_id)
        return len(pending)

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        for job in self._jobs.values():
            job.cancel()  # waiters return; the rows stay "processing" and resume at the next start
        self._jobs.clear()
        self._uploaders.clear()
        self._progress.clear()
        self._process.close()  # a job in flight ends with it
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _work(self) -> None:
        """Extract queued materials one at a time, for ever; one job's failure ends only that job."""
        while True:
            material_id = await self._queue.get()
            again = False
            try:
                again = await self._run_job(material_id)
            finally:
                if again:
                    self._queue.put(self._uploaders[material_id], material_id)
                else:
                    self._finish(material_id)

    async def _run_job(self, material_id: int) -> bool:
        """Whether the job is to be tried again."""
        try:
            return await self._extract(material_id)
        except asyncio.CancelledError:
            raise
        except Exception:
            self.failures[JOB_FAILED] += 1
            log.exception(
                "material %d: extraction job failed (%d so far); marking it failed, going on with the next",
                material_id,
                self.failures[JOB_FAILED],
            )
            # Should this raise too (the database is gone), the worker is restarted by supervise.
            await self._store_failure(material_id, "the material could not be processed")
            return False

    def _finish(self, material_id: int) -> None:
        job = self._jobs.pop(material_id, None)
        if job is not None and not job.done():
            job.set_result(None)
        self._uploaders.pop(material_id, None)
        self._progress.pop(material_id, None)

    async def _extract(self, material_id: int) -> bool:
        async with self._sessionmaker() as session:
            material = await session.get(LearningMaterial, material_id)
            if material is None or material.status != MaterialStatus.PROCESSING:
                return False  # deleted meanwhile, or read by another node
            attempts = material.extraction_attempts
            kind, path = MaterialKind(material.content_type), self._data_dir / material.path
            if attempts < self._max_attempts and not await self._claim(session, material_id, attempts):
                return False  # another node is reading it
        if attempts >= self._max_attempts:
            await self._store_failure(
                material_id,
                f"reading it was started {attempts} times and never finished (the server stopped "
                "or its extraction process failed each time); upload a smaller or simpler copy",
            )
            return False
        attempts += 1

        def on_progress(fraction: float) -> None:
            self._progress[material_id] = round(fraction, 3)  # a float store: safe from the waiting thread

        renewing = asyncio.create_task(self._keep_claim(material_id))
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                self._executor, self._process.run, kind, path, on_progress
            )
        except InvalidInput as exc:
            await self._store_failure(material_id, exc.detail)
            return False
        except OSError as exc:
            log.error("material %d: its file cannot be read: %s", material_id, exc)
            await self._store_failure(material_id, "the stored file is missing; upload it again")
            return False
        except (WorkerOutOfMemory, WorkerTimedOut) as exc:
            log.warning("material %d: %s", material_id, exc.detail)
            await self._store_failure(material_id, exc.detail)
            return False
        except WorkerDied as exc:
            self.failures[PROCESS_DIED] += 1
            if attempts < self._max_attempts:
                log.warning(
                    "material %d: %s; trying again (%d of %d)",
                    material_id,
                    exc.detail,
                    attempts + 1,
                    self._max_attempts,
                )
                return True
            await self._store_failure(
                material_id, f"{exc.detail} ({attempts} times); upload a smaller or simpler copy"
            )
            return False
        finally:
            renewing.cancel()
        await self._store_result(material_id, result)
        return False

    async def _claim(self, session: AsyncSession, material_id: int, attempts: int) -> bool:
        """Take the material for this node, counting the start (before the work: a start that
        takes the server down still counts). A conditional update, so of several nodes resuming
        it one gets it; one whose claim is alive (its node extracting it) is left alone."""
        now = utcnow()
        taken = await session.execute(
            update(LearningMaterial)
            .where(
                LearningMaterial.id == material_id,
                LearningMaterial.status == MaterialStatus.PROCESSING,
                LearningMaterial.extraction_attempts == attempts,
                or_(
                    LearningMaterial.claimed_until.is_(None),
                    LearningMaterial.claimed_until < now,
                    LearningMaterial.claimed_by == self._node,
                ),
            )
            .values(
                extraction_attempts=attempts + 1,
                claimed_by=self._node,
                claimed_until=now + timedelta(seconds=self._lease_s),
            )
        )
        await session.commit()
        return bool(taken.rowcount)  # type: ignore[attr-defined]

    async def _keep_claim(self, material_id: int) -> None:
        """While the job runs: its claim renewed, so no other node takes it over."""
        while True:
            await asyncio.sleep(self._lease_s / 3)
            try:
                async with self._sessionmaker() as session:
                    await session.execute(
                        update(LearningMaterial)
                        .where(LearningMaterial.id == material_id, LearningMaterial.claimed_by == self._node)
                        .values(claimed_until=utcnow() + timedelta(seconds=self._lease_s))
                    )
                    await session.commit()
            except Exception:  # the database is away: the job goes on; it is renewed next time
                log.warning("material %d: its claim could not be renewed", material_id, exc_info=True)

    async def adopt_orphans(self) -> None:
        """For ever, every lease: extractions another node began and stopped renewing (it died),
        or queued and never began, are taken up here."""
        while True:
            await asyncio.sleep(self._lease_s)
            now = utcnow()
            async with self._sessionmaker() as session:
                orphans = list(
                    await session.execute(
                        select(LearningMaterial.id, LearningMaterial.teacher_id).where(
                            LearningMaterial.status == MaterialStatus.PROCESSING,
                            or_(
                                LearningMaterial.claimed_until < now,
                                LearningMaterial.claimed_until.is_(None)
                                & (LearningMaterial.created_at < now - timedelta(seconds=5 * self._lease_s)),
                            ),
                        )
                    )
                )
            for material_id, teacher_id in orphans:
                if material_id not in self._jobs:
                    log.info("material %d: taken over from a node that stopped reading it", material_id)
                    self.submit(material_id, teacher_id)

    async def _store_result(self, material_id: int, result: Extraction) -> None:
        async with self._sessionmaker() as session:
            material = await session.get(LearningMaterial, material_id)
            if material is None:
                return
            material.extracted_text = result.text
            material.extracted_markdown = result.markdown
            material.page_sources = [dataclasses.asdict(p) for p in result.pages]
            material.page_count = result.page_count
            material.ocr_pages = result.ocr_pages
            material.ocr_confidence = result.ocr_confidence
            if result.text.strip():
                material.status = MaterialStatus.READY
            else:
                material.status = MaterialStatus.FAILED
                material.error = "no text was found in the material"
            material.progress = 1.0
            material.claimed_by = material.claimed_until = None
            await session.commit()
            log.info("material %d: %s", material_id, material.status)
            outcome = "done" if material.status == MaterialStatus.READY else "failed"
            BACKGROUND_JOBS.labels("extraction", outcome).inc()

    async def _store_failure(self, material_id: int, error: str) -> None:
        async with self._sessionmaker() as session:
            material = await session.get(LearningMaterial, material_id)
            if material is None:
                return
            material.status = MaterialStatus.FAILED
            material.error = error
            material.progress = 1.0
            material.claimed_by = material.claimed_until = None
            await session.commit()
        log.info("material %d: failed: %s", material_id, error)
        BACKGROUND_JOBS.labels("extraction", "failed").inc()
