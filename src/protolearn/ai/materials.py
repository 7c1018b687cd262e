"""Uploaded material: stored under the data dir, extracted in the background, progress kept.

``MaterialExtractor`` runs one extraction at a time on its own thread (OCR is heavy; uploads
queue rather than starve the server), keeps live progress in memory for polling, writes the
result to the row, and on start-up resumes uploads a restart interrupted: nothing is lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protolearn.ai.errors import UnreadableMaterial
from protolearn.ai.extraction import Extraction, MaterialKind, OcrEngine, extract
from protolearn.store.materials import LearningMaterial, MaterialStatus

__all__ = ("MaterialExtractor", "store_material_file")

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


class MaterialExtractor:
    def __init__(
        self, sessionmaker: async_sessionmaker[AsyncSession], data_dir: Path, ocr: OcrEngine
    ) -> None:
        self._sessionmaker = sessionmaker
        self._data_dir = data_dir
        self._ocr = ocr
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="material-extraction")
        self._jobs: dict[int, asyncio.Task[None]] = {}
        self._progress: dict[int, float] = {}

    def progress(self, material_id: int) -> float | None:
        """Live progress (0..1) of a running extraction in this process."""
        return self._progress.get(material_id)

    def submit(self, material_id: int) -> asyncio.Task[None]:
        job = self._jobs.get(material_id)
        if job is None:
            job = asyncio.create_task(self._run(material_id), name=f"extract-material-{material_id}")
            self._jobs[material_id] = job
            self._progress[material_id] = 0.0
            job.add_done_callback(lambda _: self._forget(material_id))
        return job

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
                    select(LearningMaterial.id).where(
                        LearningMaterial.status == MaterialStatus.PROCESSING.value
                    )
                )
            )
        for material_id in pending:
            self.submit(material_id)
        return len(pending)

    async def close(self) -> None:
        for job in list(self._jobs.values()):
            job.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await job
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _forget(self, material_id: int) -> None:
        self._jobs.pop(material_id, None)
        self._progress.pop(material_id, None)

    async def _run(self, material_id: int) -> None:
        async with self._sessionmaker() as session:
            material = await session.get(LearningMaterial, material_id)
            if material is None:
                return
            kind, path = MaterialKind(material.content_type), self._data_dir / material.path
        loop = asyncio.get_running_loop()

        def on_progress(fraction: float) -> None:
            self._progress[material_id] = round(fraction, 3)  # a float store: safe from the worker thread

        def work() -> Extraction:
            return extract(kind, path.read_bytes(), self._ocr, on_progress)

        try:
            result: Extraction | None = await loop.run_in_executor(self._executor, work)
            error = None
        except UnreadableMaterial as exc:
            result, error = None, exc.detail
        except OSError as exc:
            log.error("material %d: its file cannot be read: %s", material_id, exc)
            result, error = None, "the stored file is missing; upload it again"
        except Exception:
            log.exception("material %d: extraction failed", material_id)
            result, error = None, "the material could not be processed"
        async with self._sessionmaker() as session:
            material = await session.get(LearningMaterial, material_id)
            if material is None:
                return
            if result is not None:
                material.extracted_text = result.text
                material.page_count = result.page_count
                material.ocr_pages = result.ocr_pages
                material.ocr_confidence = result.ocr_confidence
                material.status = MaterialStatus.READY.value
                if not result.text.strip():
                    material.status = MaterialStatus.FAILED.value
                    material.error = "no text was found in the material"
            else:
                material.status = MaterialStatus.FAILED.value
                material.error = error
            material.progress = 1.0
            await session.commit()
        log.info("material %d: %s", material_id, material.status)
