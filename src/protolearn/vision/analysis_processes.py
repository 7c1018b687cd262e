"""FaceAnalyzer.analyze on processes of their own, so that the models never hold the server's GIL.

A proctoring node's event loop receives every stream's packets; analysis on threads of the same
process holds the interpreter lock for its Python and NumPy work (pose, crops, tracking) and
makes the loop, and with it every autosave and page of the node, wait its turn. Here each of
`processes` spawned interpreters holds one FaceAnalyzer; a call sends its frames (I420 at the
analysis size: ~115 KB for 320x240) and flags over a pipe and blocks its thread, not the GIL,
until the observations come back. Several threads may call at once: each takes an idle process.

A process that dies (a crash in a library, killed) or goes silent past the timeout is replaced
by a fresh one at the next call; the call in flight raises AnalysisFailed, so the batcher
analyses that batch's frames one by one and only the frame that broke it goes without an
observation. Each replacement is logged and counted in `task_failures["vision-process"]`.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import queue
import signal
import threading
import traceback
from collections import Counter
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess

from protolearn.supervision import TaskFailures
from protolearn.vision.analyzer import FaceAnalyzer
from protolearn.vision.errors import AnalysisFailed, VisionError
from protolearn.vision.frames import Frame
from protolearn.vision.schemas import Face, Observation

__all__ = ("AnalysisProcesses",)

log = logging.getLogger(__name__)

MakeAnalyzer = Callable[[], FaceAnalyzer]
"""Builds the analyzer in each process; it must pickle by reference (a module-level function
or a functools.partial of one)."""

_START_TIMEOUT_S = 120.0  # importing ONNX Runtime and OpenCV and loading the models
_STOP_GRACE_S = 5.0
FAILURE_KEY = "vision-process"

# analyze()'s arguments as given: the process's FaceAnalyzer checks and expands them.
_Call = tuple[
    Sequence[Frame],
    bool | Sequence[bool],
    Sequence[Sequence[Face]] | None,
    bool | Sequence[bool],
    bool | Sequence[bool],
]


class AnalysisProcesses:
    """Same calls as FaceAnalyzer (analyze, close, backend); start-up waits for every process to
    load its models and raises what building the analyzer raised there (ModelFilesMissing...)."""

    def __init__(
        self,
        make_analyzer: MakeAnalyzer,
        processes: int,
        *,
        timeout_s: float = 30.0,
        niceness: int = 0,
        task_failures: TaskFailures | None = None,
    ) -> None:
        if processes < 1:
            raise ValueError("processes must be >= 1")
        self._make_analyzer = make_analyzer
        self._timeout_s = timeout_s
        self._niceness = niceness
        self.task_failures: TaskFailures = task_failures if task_failures is not None else Counter()
        self._context = multiprocessing.get_context("spawn")  # no copy of the server's threads
        self._workers = [_Worker(self) for _ in range(processes)]
        self._idle: queue.SimpleQueue[_Worker] = queue.SimpleQueue()
        self._closed = False
        self.backend = ""
        try:
            for worker in self._workers:
                worker.start()
            for worker in self._workers:
                self.backend = worker.await_ready()
        except BaseException:
            self.close()
            raise
        for worker in self._workers:
            self._idle.put(worker)

    @property
    def pids(self) -> list[int | None]:
        return [worker.pid for worker in self._workers]

    def analyze(
        self,
        frames: Sequence[Frame],
        room_scan: bool | Sequence[bool] = True,
        follow: Sequence[Sequence[Face]] | None = None,
        search: bool | Sequence[bool] = True,
        gaze: bool | Sequence[bool] = True,
    ) -> list[Observation]:
        """FaceAnalyzer.analyze in one of the processes; blocks the calling thread."""
        call: _Call = (frames, room_scan, follow, search, gaze)
        if self._closed:
            raise AnalysisFailed("the analysis processes are closed")
        worker = self._idle.get()
        try:
            return worker.call(call)
        finally:
            self._idle.put(worker)

    def close(self) -> None:
        self._closed = True
        for worker in self._workers:
            worker.stop()


class _Worker:
    """One process and our end of its pipe; used by one thread at a time."""

    def __init__(self, owner: AnalysisProcesses) -> None:
        self._owner = owner
        self._lock = threading.Lock()  # start and stop, from the calling thread and close()
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None

    @property
    def pid(self) -> int | None:
        process = self._process
        with contextlib.suppress(ValueError):
            if process is not None and process.is_alive():
                return process.pid
        return None

    def start(self) -> Connection:
        with self._lock:
            if self._owner._closed:
                raise AnalysisFailed("the analysis processes are closed")
            ours, theirs = self._owner._context.Pipe()
            process = self._owner._context.Process(
                target=serve,
                args=(theirs, self._owner._make_analyzer, self._owner._niceness),
                name="vision-analysis",
                daemon=True,
            )
            process.start()
            theirs.close()
            self._process, self._connection = process, ours
            return ours

    def await_ready(self) -> str:
        """The backend's name once the process has built its analyzer; raises what it raised."""
        connection, process = self._connection, self._process
        if connection is None or process is None:
            raise AnalysisFailed("the analysis processes are closed")
        try:
            message = connection.recv() if connection.poll(_START_TIMEOUT_S) else None
        except (EOFError, OSError):
            message = None
        match message:
            case ("ready", str(backend)):
                log.info("vision analysis process %d started", process.pid)
                return backend
            case ("failed", BaseException() as error):
                self.stop()
                raise error
        self.stop()
        raise VisionError(f"the vision analysis process did not start (exit code {process.exitcode})")

    def call(self, call: _Call) -> list[Observation]:
        connection = self._connection
        if connection is None:
            connection = self.start()
            self.await_ready()
        try:
            connection.send(call)
            reply = connection.recv() if connection.poll(self._owner._timeout_s) else None
        except (EOFError, OSError):
            reply = None
        match reply:
            case ("done", list() as observations):
                return observations
            case ("vision_error", VisionError() as error):
                raise error
            case ("raised", str(trace)):
                raise AnalysisFailed(f"the analysis raised: {trace}")
        if self._owner._closed:
            raise AnalysisFailed("the analysis processes are closed")
        self._replace("died or went silent")
        raise AnalysisFailed("the vision analysis process died or did not answer in time")

    def _replace(self, why: str) -> None:
        code = None if self._process is None else self._process.exitcode
        log.warning("vision analysis process %s (exit code %s): a fresh one takes its place", why, code)
        self._owner.task_failures[FAILURE_KEY] += 1
        self.stop(kill=True)  # the next call starts a fresh one

    def stop(self, *, kill: bool = False) -> None:
        with self._lock:
            process, connection = self._process, self._connection
            self._process, self._connection = None, None
            if connection is not None:
                connection.close()  # the process reads EOF and ends
            if process is None:
                return
            if kill:
                process.kill()
            process.join(_STOP_GRACE_S)
            if process.is_alive():
                process.kill()
                process.join(_STOP_GRACE_S)
            process.close()


# The process's side. `serve` is its entry point (spawned: a fresh interpreter).


def serve(connection: Connection, make_analyzer: MakeAnalyzer, niceness: int = 0) -> None:
    """Build the analyzer, say ready, then answer calls until the pipe closes."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle: it ends us
    if niceness > 0:
        os.nice(niceness)
    try:
        analyzer = make_analyzer()
    except Exception as error:
        with contextlib.suppress(OSError):
            connection.send(("failed", error))
        return
    try:
        connection.send(("ready", analyzer.backend))
        while True:
            try:
                call = connection.recv()
            except (EOFError, OSError):
                return  # the server has gone
            try:
                reply: tuple[str, object] = ("done", analyzer.analyze(*call))
            except VisionError as error:
                reply = ("vision_error", error)
            except Exception:
                reply = ("raised", traceback.format_exc())
            try:
                connection.send(reply)
            except OSError:
                return
    finally:
        analyzer.close()
        log.debug("vision analysis process %d ends", os.getpid())
