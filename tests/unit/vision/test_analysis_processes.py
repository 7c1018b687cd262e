"""AnalysisProcesses: the real ONNX analyzer in spawned processes, as the server runs it."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator, Sequence
from functools import partial
from pathlib import Path

import numpy as np
import pytest

from protolearn.vision.analysis_processes import FAILURE_KEY, AnalysisProcesses
from protolearn.vision.analyzer import FaceAnalyzer
from protolearn.vision.batcher import FrameBatcher
from protolearn.vision.errors import AnalysisFailed, FrameFormatError, ModelFilesMissing
from protolearn.vision.frames import Frame
from protolearn.vision.runtimes import create_analyzer
from protolearn.vision.schemas import Face, Observation
from tests.support.images import astronaut

CRASH, HANG = 7, 9  # a frame of this grey level ends its process / makes it hang


class _Booby:
    """The real analyzer, except that a frame of the CRASH grey ends the process and one of the
    HANG grey never returns: what a library bug on a hostile frame could do."""

    def __init__(self) -> None:
        self._analyzer = create_analyzer("onnx")
        self.backend = self._analyzer.backend

    def analyze(
        self,
        frames: Sequence[Frame],
        room_scan: bool | Sequence[bool] = True,
        follow: Sequence[Sequence[Face]] | None = None,
        search: bool | Sequence[bool] = True,
        gaze: bool | Sequence[bool] = True,
    ) -> list[Observation]:
        for frame in frames:
            if frame.ndim == 3 and frame[0, 0, 0] == CRASH and frame.max() == CRASH:
                os._exit(3)
            if frame.ndim == 3 and frame[0, 0, 0] == HANG and frame.max() == HANG:
                time.sleep(3600)
        return self._analyzer.analyze(frames, room_scan, follow, search, gaze)

    def close(self) -> None:
        self._analyzer.close()


def _grey(level: int) -> Frame:
    return np.full((120, 160, 3), level, dtype=np.uint8)


@pytest.fixture(scope="module")
def processes() -> Iterator[AnalysisProcesses]:
    analysis = AnalysisProcesses(partial(create_analyzer, "onnx"), 2)
    yield analysis
    analysis.close()


@pytest.fixture
def booby() -> Iterator[AnalysisProcesses]:
    analysis = AnalysisProcesses(_Booby, 2, timeout_s=3.0)  # the hang test waits this long
    yield analysis
    analysis.close()


def test_a_process_gives_what_the_analyzer_gives_here(
    processes: AnalysisProcesses, onnx_analyzer: FaceAnalyzer
) -> None:
    frames = [astronaut(), _grey(90), astronaut()]
    local = onnx_analyzer.analyze(frames, [True, False, False], None, True, [True, True, False])
    remote = processes.analyze(frames, [True, False, False], None, True, [True, True, False])
    assert processes.backend == "onnx"
    assert [len(o.faces) for o in remote] == [1, 0, 1]
    assert [o.faces for o in remote] == [o.faces for o in local]
    assert [(o.room_scanned, o.gaze_read) for o in remote] == [(True, True), (False, True), (False, False)]
    # Following a face: the faces sent along come back followed, as here.
    followed = processes.analyze([frames[0]], False, [remote[0].faces], False, False)[0]
    assert (
        followed.followed
        and followed.faces
        == onnx_analyzer.analyze([frames[0]], False, [remote[0].faces], False, False)[0].faces
    )


def test_calls_from_several_threads_use_every_process(processes: AnalysisProcesses) -> None:
    async def many() -> list[list[Observation]]:
        loop = asyncio.get_running_loop()
        return await asyncio.gather(
            *(loop.run_in_executor(None, processes.analyze, [_grey(40 + i)]) for i in range(12))
        )

    results = asyncio.run(many())
    assert [len(r) for r in results] == [1] * 12
    assert all(not r[0].faces for r in results)
    assert all(pid is not None for pid in processes.pids) and len(set(processes.pids)) == 2


def test_a_bad_frame_is_refused_as_the_analyzer_here_refuses_it(processes: AnalysisProcesses) -> None:
    with pytest.raises(FrameFormatError):
        processes.analyze([np.zeros((5, 5), dtype=np.uint8)])
    assert len(processes.analyze([astronaut()])[0].faces) == 1  # and the process goes on


def test_missing_models_fail_the_start_with_the_analyzer_s_own_error(tmp_path: Path) -> None:
    with pytest.raises(ModelFilesMissing):
        AnalysisProcesses(partial(create_analyzer, "onnx", models_dir=tmp_path), 1)


def test_a_killed_process_fails_its_call_and_is_replaced(booby: AnalysisProcesses) -> None:
    first = booby.pids
    for pid in first:
        assert pid is not None
        os.kill(pid, signal.SIGKILL)
    failures = 0
    for _ in range(2):  # each process's next call finds it dead
        with pytest.raises(AnalysisFailed):
            booby.analyze([astronaut()])
        failures += 1
    assert booby.task_failures[FAILURE_KEY] == failures
    assert len(booby.analyze([astronaut()])[0].faces) == 1  # a fresh process
    assert not set(booby.pids) & set(first)


async def test_a_frame_that_kills_its_process_costs_only_its_own_observation(
    booby: AnalysisProcesses,
) -> None:
    async with FrameBatcher(booby, max_batch=8, max_wait_ms=200, workers=1) as batcher:
        futures = [
            batcher.submit("a", astronaut()),
            batcher.submit("b", _grey(CRASH)),
            batcher.submit("c", astronaut()),
        ]
        results = await asyncio.gather(*futures, return_exceptions=True)
    assert isinstance(results[1], AnalysisFailed)
    assert [len(r.faces) for r in (results[0], results[2]) if isinstance(r, Observation)] == [1, 1]
    assert batcher.stats.failed == 1
    assert booby.task_failures[FAILURE_KEY] == 2  # the batch, then the frame alone


def test_a_process_that_hangs_is_ended_and_replaced(booby: AnalysisProcesses) -> None:
    with pytest.raises(AnalysisFailed, match="did not answer"):
        booby.analyze([_grey(HANG)])
    assert booby.task_failures[FAILURE_KEY] == 1
    for _ in range(2):
        assert len(booby.analyze([astronaut()])[0].faces) == 1


def test_a_closed_analyzer_refuses_calls_and_its_processes_are_gone() -> None:
    analysis = AnalysisProcesses(partial(create_analyzer, "onnx"), 1)
    pid = analysis.pids[0]
    analysis.close()
    with pytest.raises(AnalysisFailed, match="closed"):
        analysis.analyze([astronaut()])
    assert analysis.pids == [None]
    assert pid is not None
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
