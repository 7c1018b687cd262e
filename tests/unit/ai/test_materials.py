"""The extraction worker is supervised: a job that fails is logged, counted and marked failed, and
the next upload is still read; a worker that fails itself is restarted."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protolearn.ai.extraction import Extraction, MaterialKind, OcrEngine, extract
from protolearn.ai.materials import JOB_FAILED, WORKER, MaterialExtractor, store_material_file
from protolearn.store.database import create_engine, create_sessionmaker
from protolearn.store.materials import LearningMaterial, MaterialStatus
from protolearn.store.users import Role, User
from tests.support.ai_material import BIOLOGY, HISTORY, text_pdf

Sessions = async_sessionmaker[AsyncSession]


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(database_url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


@pytest.fixture
async def teacher_id(sessions: Sessions) -> int:
    async with sessions() as session:
        teacher = User(email="teacher@school.test", password_hash="-", name="T", role=Role.TEACHER.value)
        session.add(teacher)
        await session.commit()
        return teacher.id


async def stored_material(sessions: Sessions, data_dir: Path, teacher_id: int, pages: list[str]) -> int:
    """A PDF upload as the library leaves it: file stored, row waiting in "processing"."""
    data = text_pdf(pages)
    path, digest = store_material_file(data_dir, teacher_id, MaterialKind.PDF, data)
    async with sessions() as session:
        material = LearningMaterial(
            teacher_id=teacher_id,
            title="Notes",
            filename="notes.pdf",
            content_type=MaterialKind.PDF.value,
            path=path,
            size_bytes=len(data),
            sha256=digest,
            status=MaterialStatus.PROCESSING.value,
        )
        session.add(material)
        await session.commit()
        return material.id


async def row(sessions: Sessions, material_id: int) -> LearningMaterial:
    async with sessions() as session:
        material = await session.get(LearningMaterial, material_id)
        assert material is not None
        return material


def failing_on(marker: str) -> Callable[..., Extraction]:
    """The real extraction, except that it raises (as a library bug would) on PDFs holding ``marker``."""

    def extract_text(
        kind: MaterialKind, data: bytes, ocr: OcrEngine, on_progress: Callable[[float], None]
    ) -> Extraction:
        found = extract(kind, data, ocr, on_progress)
        if marker in found.text:
            raise RuntimeError("a bug deep in a PDF library")
        return found

    return extract_text


async def test_a_failing_job_is_logged_and_counted_and_the_next_is_read(
    sessions: Sessions, teacher_id: int, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    extract_text = failing_on("French Revolution")
    extractor = MaterialExtractor(sessions, tmp_path, OcrEngine(), extract_text=extract_text)
    broken = await stored_material(sessions, tmp_path, teacher_id, HISTORY)
    fine = await stored_material(sessions, tmp_path, teacher_id, BIOLOGY)
    try:
        with caplog.at_level(logging.ERROR, logger="protolearn.ai.materials"):
            extractor.submit(broken)
            extractor.submit(fine)
            assert await extractor.wait(fine, 120.0)
    finally:
        await extractor.close()
    failed, read = await row(sessions, broken), await row(sessions, fine)
    assert failed.status == MaterialStatus.FAILED.value
    assert failed.error == "the material could not be processed"
    assert read.status == MaterialStatus.READY.value
    assert "The cell is the basic unit of life." in read.extracted_text
    assert extractor.failures[JOB_FAILED] == 1 and extractor.failures[WORKER] == 0
    [record] = [r for r in caplog.records if r.exc_info]
    assert f"material {broken}:" in record.getMessage()
    assert record.exc_info is not None and "a bug deep in a PDF library" in str(record.exc_info[1])


async def test_a_worker_that_fails_itself_is_restarted(
    sessions: Sessions, teacher_id: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    extractor = MaterialExtractor(
        sessions, tmp_path, OcrEngine(), extract_text=failing_on("French Revolution"), restart_delay_s=0.01
    )

    async def database_gone(material_id: int, error: str) -> None:
        raise ConnectionError("the database went away while recording a failure")

    broken = await stored_material(sessions, tmp_path, teacher_id, HISTORY)
    fine = await stored_material(sessions, tmp_path, teacher_id, BIOLOGY)
    monkeypatch.setattr(extractor, "_store_failure", database_gone)
    try:
        extractor.submit(broken)
        extractor.submit(fine)
        assert await extractor.wait(broken, 120.0)
        assert await extractor.wait(fine, 120.0)
    finally:
        await extractor.close()
    assert extractor.failures[WORKER] == 1  # restarted once, by supervise
    assert (await row(sessions, fine)).status == MaterialStatus.READY.value
    # The broken one could not be marked: it stays "processing" and is resumed at the next start.
    assert (await row(sessions, broken)).status == MaterialStatus.PROCESSING.value
