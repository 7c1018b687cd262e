"""The extraction process: a process of its own under an address-space limit, progress across
the pipe, and a job that runs out of memory, out of time or kills its process ends that job
only, with a fresh process for the next."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from protolearn.ai.errors import UnreadableMaterial
from protolearn.ai.extraction import Extraction, MaterialKind, extract
from protolearn.ai.extraction_worker import (
    ExtractionProcess,
    ExtractText,
    WorkerDied,
    WorkerOutOfMemory,
    WorkerRaised,
    WorkerTimedOut,
)
from protolearn.ai.limits import ExtractionLimits
from protolearn.ai.ocr import RapidOcr
from protolearn.config import Settings
from tests.support.ai_material import BIOLOGY, png_bomb, text_pdf

LIMITS = ExtractionLimits.from_settings(Settings.from_env({}))
MEMORY_LIMIT = 2 * 1024**3


@dataclass(frozen=True)
class Greedy:
    """Asks for twice the process's memory limit, as a decoder handed a bomb would."""

    def __call__(
        self,
        kind: MaterialKind,
        data: bytes,
        ocr: RapidOcr,
        limits: ExtractionLimits,
        _: Callable[[float], None],
    ) -> Extraction:
        hoard = bytearray(2 * MEMORY_LIMIT)
        return Extraction(str(len(hoard)), 1, 0, None)


@dataclass(frozen=True)
class Stuck:
    """Never returns, as a page a library loops on."""

    def __call__(
        self,
        kind: MaterialKind,
        data: bytes,
        ocr: RapidOcr,
        limits: ExtractionLimits,
        _: Callable[[float], None],
    ) -> Extraction:
        time.sleep(3600)
        raise AssertionError("woke up")


@dataclass(frozen=True)
class Killed:
    """The process is killed mid-job (the kernel's OOM killer, a crash in native code)."""

    def __call__(
        self,
        kind: MaterialKind,
        data: bytes,
        ocr: RapidOcr,
        limits: ExtractionLimits,
        _: Callable[[float], None],
    ) -> Extraction:
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("still alive")


@dataclass(frozen=True)
class Buggy:
    def __call__(
        self,
        kind: MaterialKind,
        data: bytes,
        ocr: RapidOcr,
        limits: ExtractionLimits,
        _: Callable[[float], None],
    ) -> Extraction:
        raise KeyError("a bug deep in a PDF library")


@dataclass(frozen=True)
class FirstThen:
    """``first`` for a PNG, the real extraction for anything else: one process, two kinds of job."""

    first: ExtractText

    def __call__(
        self,
        kind: MaterialKind,
        data: bytes,
        ocr: RapidOcr,
        limits: ExtractionLimits,
        on_progress: Callable[[float], None],
    ) -> Extraction:
        read = self.first if kind is MaterialKind.PNG else extract
        return read(kind, data, ocr, limits, on_progress)


@pytest.fixture
def pdf(tmp_path: Path) -> Path:
    path = tmp_path / "notes.pdf"
    path.write_bytes(text_pdf(BIOLOGY))
    return path


@pytest.fixture
def png(tmp_path: Path) -> Path:
    path = tmp_path / "bomb.png"
    path.write_bytes(png_bomb(30000, 30000))
    return path


def process_of(extract_text: ExtractText = extract, timeout_s: float = 120.0) -> Iterator[ExtractionProcess]:
    process = ExtractionProcess(
        LIMITS, memory_limit_bytes=MEMORY_LIMIT, timeout_s=timeout_s, extract_text=extract_text
    )
    try:
        yield process
    finally:
        process.close()


def address_space_limit(pid: int) -> int:
    for line in Path(f"/proc/{pid}/limits").read_text().splitlines():
        if line.startswith("Max address space"):
            return int(line.split()[3])
    raise AssertionError("no address-space line")


def test_a_material_is_read_in_a_process_of_its_own_with_progress(pdf: Path) -> None:
    for process in process_of():
        progress: list[float] = []
        result = process.run(MaterialKind.PDF, pdf, progress.append)
        assert (result.page_count, result.ocr_pages) == (3, 0)
        assert "The cell is the basic unit of life." in result.text
        assert progress == pytest.approx([1 / 3, 2 / 3, 1.0])
        assert process.pid is not None and process.pid != os.getpid()
        assert address_space_limit(process.pid) == MEMORY_LIMIT
        again = process.run(MaterialKind.PDF, pdf, lambda _: None)
        assert again == result and process.started == 1  # the process is kept between jobs


def test_what_the_material_breaks_comes_back_as_its_reason(png: Path) -> None:
    for process in process_of():
        with pytest.raises(UnreadableMaterial, match=r"30000 x 30000 pixels \(900 Mpx\)"):
            process.run(MaterialKind.PNG, png, lambda _: None)
        with pytest.raises(FileNotFoundError):
            process.run(MaterialKind.PDF, png.with_name("gone.pdf"), lambda _: None)


@pytest.mark.parametrize(
    ("job", "failure", "reason"),
    [
        (Greedy(), WorkerOutOfMemory, r"more memory than one material may use \(2048 MB\)"),
        (Killed(), WorkerDied, "the extraction process was killed by signal 9"),
        (Buggy(), WorkerRaised, "the material could not be processed"),
    ],
)
def test_a_failed_job_ends_alone_and_the_next_is_read(
    job: ExtractText, failure: type[Exception], reason: str, png: Path, pdf: Path
) -> None:
    for process in process_of(FirstThen(job)):
        with pytest.raises(failure, match=reason) as raised:
            process.run(MaterialKind.PNG, png, lambda _: None)
        if isinstance(raised.value, WorkerRaised):
            assert "KeyError: 'a bug deep in a PDF library'" in raised.value.trace
        result = process.run(MaterialKind.PDF, pdf, lambda _: None)
        assert "The cell is the basic unit of life." in result.text
        # Out of memory or killed, the process was replaced; after a bug it carries on.
        assert process.started == (1 if failure is WorkerRaised else 2)


def test_a_job_past_the_timeout_has_its_process_ended(png: Path, pdf: Path) -> None:
    for process in process_of(FirstThen(Stuck()), timeout_s=5.0):
        with pytest.raises(WorkerTimedOut, match="longer than 5 s"):
            process.run(MaterialKind.PNG, png, lambda _: None)
        assert process.pid is None
        assert (
            "The cell is the basic unit of life." in process.run(MaterialKind.PDF, pdf, lambda _: None).text
        )
        assert process.started == 2
