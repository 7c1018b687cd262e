"""Uploaded material: stored under the data dir, extracted in the background, progress kept.

``MaterialExtractor`` runs one extraction at a time on its own thread (OCR is heavy; uploads
queue rather than starve the server), keeps live progress in memory for polling, writes the
result to the row, and on start-up resumes uploads a restart interrupted: nothing is lost.
Its worker never dies silently: a job that fails is logged with its material id, counted and
marked failed, and the worker goes on with the next; the worker itself runs under
``supervise`` (logged, counted, restarted).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protolearn.ai.errors import UnreadableMaterial
from protolearn.ai.extraction import Extraction, MaterialKind, OcrEngine, extract
from protolearn.store.materials import LearningMaterial, MaterialStatus
from protolearn.supervision import TaskFailures, supervise

__all__ = ("JOB_FAILED", "WORKER", "ExtractText", "MaterialExtractor", "store_material_file")

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


ExtractText = Callable[[MaterialKind, bytes, OcrEngine, Callable[[float], None]], Extraction]
"""What reads a material's bytes (``extraction.extract``); runs on the extractor's thread."""

WORKER = "material-extraction"  # the worker's task name, and its key in ``failures``
JOB_FAILED = "material-extraction job"  # key in ``failures``: jobs that raised unexpectedly


class MaterialExtractor:
    def __init__(
        self,
        sessionmaker: async_sessionmaker[AsyncSession],
        data_dir: Path,
        ocr: OcrEngine,
        *,
        extract_text: ExtractText = extract,
        restart_delay_s: float = 0.5,
    ) -> None:
        self._sessionmaker = sessionmaker
        self._data_dir = data_dir
        self._ocr = ocr
        self._extract_text = extract_text
        self._restart_delay_s = restart_delay_s
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="material-extraction")
        # Unbounded on purpose: an entry is the id of a row already stored, counted against its
        # uploader's size limit; dropping one would strand an upload in "processing".
        self._queue: asyncio.Queue[int] = asyncio.Queue()
        self._jobs: dict[int, asyncio.Future[None]] = {}  # queued or running; done when it ends
        self._progress: dict[int, float] = {}
        self._worker: asyncio.Task[None] | None = None
        self.failures: TaskFailures = TaskFailures()

    def progress(self, material_id: int) -> float | None:
        """Live progress (0..1) of a queued or running extraction in this process."""
        return self._progress.get(material_id)

    def submit(self, material_id: int) -> None:
        """Queue the extraction of ``material_id`` (once: again while queued is a no-op)."""
        if material_id in self._jobs:
            return
        self._jobs[material_id] = asyncio.get_running_loop().create_future()
        self._progress[material_id] = 0.0
        self._queue.put_nowait(material_id)
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
                await session.scalars(
                    select(LearningMaterial.id).where(LearningMaterial.status == MaterialStatus.PROCESSING)
                )
            )
        for material_id in pending:
            self.submit(material_id)
        return len(pending)

    async def close(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        for job in self._jobs.values():
            job.cancel()  # waiters return; the rows stay "processing" and resume at the next start
        self._jobs.clear()
        self._progress.clear()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def _work(self) -> None:
        """Extract queued materials one at a time, for ever; one job's failure ends only that job."""
        while True:
            material_id = await self._queue.get()
            try:
                await self._run_job(material_id)
            finally:
                self._finish(material_id)

    async def _run_job(self, material_id: int) -> None:
        try:
            await self._extract(material_id)
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

    def _finish(self, material_id: int) -> None:
        job = self._jobs.pop(material_id, None)
        if job is not None and not job.done():
            job.set_result(None)
        self._progress.pop(material_id, None)

    async def _extract(self, material_id: int) -> None:
        async with self._sessionmaker() as session:
            material = await session.get(LearningMaterial, material_id)
            if material is None:
                return  # deleted meanwhile
            kind, path = MaterialKind(material.content_type), self._data_dir / material.path

        def on_progress(fraction: float) -> None:
            self._progress[material_id] = round(fraction, 3)  # a float store: safe from the worker thread

        def work() -> Extraction:
            return self._extract_text(kind, path.read_bytes(), self._ocr, on_progress)

        try:
            result = await asyncio.get_running_loop().run_in_executor(self._executor, work)
        except UnreadableMaterial as exc:
            await self._store_failure(material_id, exc.detail)
            return
        except OSError as exc:
            log.error("material %d: its file cannot be read: %s", material_id, exc)
            await self._store_failure(material_id, "the stored file is missing; upload it again")
            return
        async with self._sessionmaker() as session:
            material = await session.get(LearningMaterial, material_id)
            if material is None:
                return
            material.extracted_text = result.text
            material.page_count = result.page_count
            material.ocr_pages = result.ocr_pages
            material.ocr_confidence = result.ocr_confidence
            if result.text.strip():
                material.status = MaterialStatus.READY
            else:
                material.status = MaterialStatus.FAILED
                material.error = "no text was found in the material"
            material.progress = 1.0
            await session.commit()
            log.info("material %d: %s", material_id, material.status)

    async def _store_failure(self, material_id: int, error: str) -> None:
        async with self._sessionmaker() as session:
            material = await session.get(LearningMaterial, material_id)
            if material is None:
                return
            material.status = MaterialStatus.FAILED
            material.error = error
            material.progress = 1.0
            await session.commit()
        log.info("material %d: failed: %s", material_id, error)
