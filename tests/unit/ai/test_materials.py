"""The extraction worker is supervised: a job that fails is logged, counted and marked failed, and
the next upload is still read; a worker that fails itself is restarted. A process that dies in
the middle of a job is replaced and the job tried again, up to the attempts allowed; uploads are
taken in turn by teacher."""

from __future__ import annotations

import asyncio
import logging
import os
import signal
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from protolearn.ai.extraction import Extraction, MaterialKind, extract
from protolearn.ai.extraction_worker import ExtractionProcess, ExtractText
from protolearn.ai.limits import ExtractionLimits
from protolearn.ai.materials import JOB_FAILED, PROCESS_DIED, WORKER, MaterialExtractor, store_material_file
from protolearn.ai.ocr import RapidOcr
from protolearn.config import Settings
from protolearn.store.base import utcnow
from protolearn.store.database import create_engine, create_sessionmaker
from protolearn.store.materials import LearningMaterial, MaterialStatus
from protolearn.store.users import Role, User
from tests.support.ai_material import BIOLOGY, HISTORY, text_pdf

Sessions = async_sessionmaker[AsyncSession]
LIMITS = ExtractionLimits.from_settings(Settings.from_env({}))


def extractor_of(
    sessions: Sessions, data_dir: Path, extract_text: ExtractText = extract, **options: float | str
) -> MaterialExtractor:
    process = ExtractionProcess(
        LIMITS, memory_limit_bytes=3 * 1024**3, timeout_s=120.0, extract_text=extract_text
    )
    return MaterialExtractor(sessions, data_dir, process, **options)  # type: ignore[arg-type]


@pytest.fixture
async def sessions(database_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(database_url)
    try:
        yield create_sessionmaker(engine)
    finally:
        await engine.dispose()


async def new_teacher(sessions: Sessions, email: str) -> int:
    async with sessions() as session:
        teacher = User(email=email, password_hash="-", name="T", role=Role.TEACHER.value)
        session.add(teacher)
        await session.commit()
        return teacher.id


@pytest.fixture
async def teacher_id(sessions: Sessions) -> int:
    return await new_teacher(sessions, "teacher@school.test")


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


@dataclass(frozen=True)
class FailingOn:
    """The real extraction, except that it raises (as a library bug would) on PDFs holding
    ``marker``. A module-level class: it travels to the extraction process by reference."""

    marker: str

    def __call__(
        self,
        kind: MaterialKind,
        data: bytes,
        ocr: RapidOcr,
        limits: ExtractionLimits,
        on_progress: Callable[[float], None],
    ) -> Extraction:
        found = extract(kind, data, ocr, limits, on_progress)
        if self.marker in found.text:
            raise RuntimeError("a bug deep in a PDF library")
        return found


@dataclass(frozen=True)
class DyingOn:
    """The real extraction, except that the process is killed (as the kernel's OOM killer or a
    crash in a library would) the first ``times`` times it reads a PDF holding ``marker``;
    ``tally`` is a file that counts them across processes."""

    marker: str
    times: int
    tally: Path

    def __call__(
        self,
        kind: MaterialKind,
        data: bytes,
        ocr: RapidOcr,
        limits: ExtractionLimits,
        on_progress: Callable[[float], None],
    ) -> Extraction:
        found = extract(kind, data, ocr, limits, on_progress)
        deaths = len(self.tally.read_bytes()) if self.tally.exists() else 0
        if self.marker in found.text and deaths < self.times:
            with self.tally.open("ab") as tally:
                tally.write(b"x")
            os.kill(os.getpid(), signal.SIGKILL)
        return found


async def test_a_failing_job_is_logged_and_counted_and_the_next_is_read(
    sessions: Sessions, teacher_id: int, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    extractor = extractor_of(sessions, tmp_path, FailingOn("French Revolution"))
    broken = await stored_material(sessions, tmp_path, teacher_id, HISTORY)
    fine = await stored_material(sessions, tmp_path, teacher_id, BIOLOGY)
    try:
        with caplog.at_level(logging.ERROR, logger="protolearn.ai.materials"):
            extractor.submit(broken, teacher_id)
            extractor.submit(fine, teacher_id)
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
    extractor = extractor_of(sessions, tmp_path, FailingOn("French Revolution"), restart_delay_s=0.01)

    async def database_gone(material_id: int, error: str) -> None:
        raise ConnectionError("the database went away while recording a failure")

    broken = await stored_material(sessions, tmp_path, teacher_id, HISTORY)
    fine = await stored_material(sessions, tmp_path, teacher_id, BIOLOGY)
    monkeypatch.setattr(extractor, "_store_failure", database_gone)
    try:
        extractor.submit(broken, teacher_id)
        extractor.submit(fine, teacher_id)
        assert await extractor.wait(broken, 120.0)
        assert await extractor.wait(fine, 120.0)
    finally:
        await extractor.close()
    assert extractor.failures[WORKER] == 1  # restarted once, by supervise
    assert (await row(sessions, fine)).status == MaterialStatus.READY.value
    # The broken one could not be marked: it stays "processing" and is resumed at the next start.
    assert (await row(sessions, broken)).status == MaterialStatus.PROCESSING.value


async def test_a_job_whose_process_dies_is_tried_again_in_a_fresh_one(
    sessions: Sessions, teacher_id: int, tmp_path: Path
) -> None:
    extractor = extractor_of(sessions, tmp_path, DyingOn("French Revolution", 1, tmp_path / "tally"))
    material_id = await stored_material(sessions, tmp_path, teacher_id, HISTORY)
    try:
        extractor.submit(material_id, teacher_id)
        assert await extractor.wait(material_id, 120.0)
    finally:
        await extractor.close()
    material = await row(sessions, material_id)
    assert (material.status, material.extraction_attempts) == (MaterialStatus.READY.value, 2)
    assert "French Revolution" in material.extracted_text
    assert extractor.failures[PROCESS_DIED] == 1 and extractor.failures[JOB_FAILED] == 0


async def test_a_material_that_kills_its_process_every_time_fails_after_the_attempts_allowed(
    sessions: Sessions, teacher_id: int, tmp_path: Path
) -> None:
    tally = tmp_path / "tally"
    extractor = extractor_of(sessions, tmp_path, DyingOn("French Revolution", 99, tally), max_attempts=2)
    deadly = await stored_material(sessions, tmp_path, teacher_id, HISTORY)
    fine = await stored_material(sessions, tmp_path, teacher_id, BIOLOGY)
    try:
        extractor.submit(deadly, teacher_id)
        extractor.submit(fine, teacher_id)
        assert await extractor.wait(deadly, 120.0)
        assert await extractor.wait(fine, 120.0)
    finally:
        await extractor.close()
    failed = await row(sessions, deadly)
    assert (failed.status, failed.extraction_attempts) == (MaterialStatus.FAILED.value, 2)
    assert failed.error is not None
    assert "extraction process was killed by signal 9" in failed.error and "(2 times)" in failed.error
    assert len(tally.read_bytes()) == 2  # tried twice, never a third time
    assert (await row(sessions, fine)).status == MaterialStatus.READY.value


async def test_a_material_started_too_often_is_not_read_again(
    sessions: Sessions, teacher_id: int, tmp_path: Path
) -> None:
    """Each start counts before the work: a material that took the server down with it at every
    start (the counter says 3) is marked failed at the next start instead of read a 4th time."""
    material_id = await stored_material(sessions, tmp_path, teacher_id, BIOLOGY)
    async with sessions() as session:
        material = await session.get(LearningMaterial, material_id)
        assert material is not None
        material.extraction_attempts = 3
        await session.commit()
    extractor = extractor_of(sessions, tmp_path, max_attempts=3)
    try:
        assert await extractor.resume_pending() == 1
        assert await extractor.wait(material_id, 120.0)
    finally:
        await extractor.close()
    material = await row(sessions, material_id)
    assert (material.status, material.extraction_attempts, material.extracted_text) == ("failed", 3, "")
    assert material.error is not None and "started 3 times and never finished" in material.error


async def test_teachers_take_turns(
    sessions: Sessions, teacher_id: int, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """One teacher's three uploads queued before another teacher's one: the other's is read second."""
    other_id = await new_teacher(sessions, "other@school.test")
    first, second, third = [
        await stored_material(sessions, tmp_path, teacher_id, [f"{page} (copy {n})"])
        for n, page in enumerate(BIOLOGY)
    ]
    others = await stored_material(sessions, tmp_path, other_id, HISTORY)
    extractor = extractor_of(sessions, tmp_path)
    try:
        with caplog.at_level(logging.INFO, logger="protolearn.ai.materials"):
            for material_id, uploader_id in ((first, teacher_id), (second, teacher_id), (third, teacher_id)):
                extractor.submit(material_id, uploader_id)
            extractor.submit(others, other_id)
            for material_id in (first, second, third, others):
                assert await extractor.wait(material_id, 120.0)
    finally:
        await extractor.close()
    done = [r.args[0] for r in caplog.records if r.getMessage().endswith(": ready")]  # type: ignore[index]
    assert done == [first, others, second, third]


@dataclass(frozen=True)
class Counted:
    """The real extraction, each run counted in ``tally`` (a file: runs are in other processes)."""

    tally: Path

    def __call__(
        self,
        kind: MaterialKind,
        data: bytes,
        ocr: RapidOcr,
        limits: ExtractionLimits,
        on_progress: Callable[[float], None],
    ) -> Extraction:
        with self.tally.open("ab") as tally:
            tally.write(b"x")
        return extract(kind, data, ocr, limits, on_progress)


async def test_two_nodes_resuming_the_same_uploads_read_each_once(
    sessions: Sessions, teacher_id: int, tmp_path: Path
) -> None:
    tally = tmp_path / "tally"
    materials = [await stored_material(sessions, tmp_path, teacher_id, pages) for pages in (BIOLOGY, HISTORY)]
    nodes = [extractor_of(sessions, tmp_path, Counted(tally), node=name) for name in ("node-a", "node-b")]
    try:
        assert [await node.resume_pending() for node in nodes] == [2, 2]
        for node in nodes:
            for material_id in materials:
                assert await node.wait(material_id, 120.0)
    finally:
        for node in nodes:
            await node.close()
    assert len(tally.read_bytes()) == 2  # each material read by one node only
    for material_id in materials:
        material = await row(sessions, material_id)
        assert (material.status, material.extraction_attempts) == (MaterialStatus.READY.value, 1)
        assert material.claimed_by is None and material.claimed_until is None


async def test_a_node_that_died_reading_an_upload_has_it_taken_over_when_its_claim_runs_out(
    sessions: Sessions, teacher_id: int, tmp_path: Path
) -> None:
    material_id = await stored_material(sessions, tmp_path, teacher_id, BIOLOGY)
    async with sessions() as session:
        material = await session.get(LearningMaterial, material_id)
        assert material is not None
        material.extraction_attempts, material.claimed_by = 1, "node-that-died"
        material.claimed_until = utcnow() + timedelta(seconds=0.5)  # it stopped renewing
        await session.commit()
    survivor = extractor_of(sessions, tmp_path, node="node-b", lease_s=0.2)
    try:
        assert await survivor.resume_pending() == 1  # claimed and alive: left alone, for now
        assert await survivor.wait(material_id, 120.0)
        assert (await row(sessions, material_id)).status == MaterialStatus.PROCESSING.value
        adopting = asyncio.create_task(survivor.adopt_orphans())
        try:
            for _ in range(1200):  # a bound of minutes, for an adoption that never comes
                if (await row(sessions, material_id)).status != MaterialStatus.PROCESSING.value:
                    break
                await asyncio.sleep(0.1)
        finally:
            adopting.cancel()
    finally:
        await survivor.close()
    material = await row(sessions, material_id)
    assert (material.status, material.extraction_attempts) == (MaterialStatus.READY.value, 2)
