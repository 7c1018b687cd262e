"""The process that reads materials: spawned, under an address-space limit, one job at a time.

The server sends it a stored file's path and gets back the ``Extraction`` or why there is none,
with progress on the way, over a pipe: a bomb's memory is taken and given back here, never in
the server. A job past its timeout has the process ended; a process that dies (killed, crashed,
out of memory) is replaced by a fresh one at the next job. Nothing here knows of rows or teachers.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing
import os
import resource
import signal
import threading
import time
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from pathlib import Path

from protolearn.ai.errors import UnreadableMaterial
from protolearn.ai.extraction import Extraction, MaterialKind, extract
from protolearn.ai.limits import ExtractionLimits
from protolearn.ai.ocr import OcrProvider, OcrSettings, create_ocr
from protolearn.errors import InvalidInput

__all__ = (
    "ExtractText",
    "ExtractionProcess",
    "WorkerDied",
    "WorkerFailed",
    "WorkerOutOfMemory",
    "WorkerRaised",
    "WorkerTimedOut",
)

log = logging.getLogger(__name__)

ExtractText = Callable[
    [MaterialKind, bytes, OcrProvider, ExtractionLimits, Callable[[float], None]], Extraction
]
"""What reads a material's bytes (``extraction.extract``); runs in the extraction process, so it
must pickle by reference (a module-level function or an instance of a module-level class)."""

_M_ARENA_MAX = -8  # glibc's mallopt parameter
_STOP_GRACE_S = 5.0
# A fresh process imports PyMuPDF, OpenCV and NumPy (1-2 s) before it says it is ready; the
# job's timeout starts after that.
_START_TIMEOUT_S = 120.0


class WorkerFailed(Exception):
    """The extraction process gave no extraction; ``detail`` says why, for the teacher."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class WorkerOutOfMemory(WorkerFailed):
    """The job needed more than the address-space limit (the process then starts afresh)."""


class WorkerTimedOut(WorkerFailed):
    """The job ran past the timeout; the process was ended."""


class WorkerDied(WorkerFailed):
    """The process ended in the middle of a job (killed, crashed): the job may be tried again."""


class WorkerRaised(WorkerFailed):
    """The job raised unexpectedly (a bug, a library's); ``trace`` is the process's traceback."""

    def __init__(self, detail: str, trace: str) -> None:
        super().__init__(detail)
        self.trace = trace

    def __str__(self) -> str:  # logged with the job's material: the traceback is the useful part
        return f"{self.detail}; in the extraction process:\n{self.trace}"


class ExtractionProcess:
    """The server's handle on the extraction process, which it starts on the first job."""

    def __init__(
        self,
        limits: ExtractionLimits,
        *,
        memory_limit_bytes: int,
        timeout_s: float,
        ocr: OcrSettings | None = None,
        extract_text: ExtractText = extract,
    ) -> None:
        self._limits = limits
        self._ocr = ocr or OcrSettings()
        self._memory_limit_bytes = memory_limit_bytes
        self._timeout_s = timeout_s
        self._extract_text = extract_text
        self._context = multiprocessing.get_context("spawn")  # no copy of the server's threads or memory
        self._lock = threading.Lock()  # start and stop, from the job's thread and from close()
        self._process: BaseProcess | None = None
        self._connection: Connection | None = None
        self._closed = False
        self.started = 0  # processes started, for stats and tests

    @property
    def pid(self) -> int | None:
        process = self._process
        with contextlib.suppress(ValueError):  # closed by the job's thread meanwhile
            if process is not None and process.is_alive():
                return process.pid
        return None

    def run(self, kind: MaterialKind, path: Path, on_progress: Callable[[float], None]) -> Extraction:
        """Read one material; blocks (call it on a thread), one caller at a time. Raises
        ``InvalidInput`` (what the material breaks), ``OSError`` (its file) or a ``WorkerFailed``."""
        connection = self._connection_to_process()
        try:
            connection.send((kind.value, str(path)))
        except OSError:
            raise self._died() from None
        deadline = time.monotonic() + self._timeout_s
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                self._stop(kill=True)
                raise WorkerTimedOut(
                    f"reading it took longer than {self._timeout_s:g} s, the most one material may take"
                )
            try:
                message = connection.recv() if connection.poll(min(left, 1.0)) else None
            except (EOFError, OSError):
                raise self._died() from None
            match message:
                case None:
                    if not self._alive():
                        raise self._died()
                case ("progress", int() | float() as fraction):
                    on_progress(float(fraction))
                case (outcome, result, bool(retiring)):
                    if retiring:
                        self._stop(kill=False)
                    return _outcome(outcome, result, self._memory_limit_bytes)
                case _:
                    self._stop(kill=True)
                    raise WorkerRaised("the material could not be processed", f"unexpected reply {message!r}")

    def close(self) -> None:
        """End the process (a job in flight fails in its thread); ``run`` is refused afterwards."""
        self._closed = True
        process = self._process
        if process is not None:
            # First, without the lock: a start waiting for the process gives up at once. The
            # job's thread may have closed the object meanwhile (ValueError): it has ended then.
            with contextlib.suppress(ValueError):
                process.kill()
        self._stop(kill=True)

    def _connection_to_process(self) -> Connection:
        with self._lock:
            if self._closed:
                raise WorkerDied("the server is stopping")
            if self._process is not None and not self._process.is_alive():
                self._reap()
            if self._process is None or self._connection is None:
                ours, theirs = self._context.Pipe()
                process = self._context.Process(
                    target=serve,
                    args=(theirs, self._extract_text, self._limits, self._memory_limit_bytes, self._ocr),
                    name="material-extraction",
                    daemon=True,
                )
                process.start()
                theirs.close()
                self._process, self._connection = process, ours
                self.started += 1
                self._await_ready(process, ours)
            return self._connection

    def _await_ready(self, process: BaseProcess, connection: Connection) -> None:
        """Wait for the fresh process's first message (it has set its limit and imported)."""
        try:
            ready = connection.poll(_START_TIMEOUT_S) and connection.recv() == ("ready", process.pid)
        except (EOFError, OSError):
            ready = False
        if not ready:
            process.kill()
            process.join(_STOP_GRACE_S)
            code = process.exitcode
            self._reap()
            raise WorkerDied(f"the extraction process did not start (exit code {code})")
        log.info("extraction process %d started", process.pid)

    def _alive(self) -> bool:
        process = self._process
        return process is not None and process.is_alive()

    def _died(self) -> WorkerDied:
        if self._closed:
            return WorkerDied("the server is stopping")
        with self._lock:
            process = self._process
            if process is not None:
                process.join(_STOP_GRACE_S)
            code = process.exitcode if process is not None else None
            self._reap()
        if code is not None and code < 0:
            reason = f"was killed by signal {-code}" + (
                " (perhaps out of memory)" if code == -signal.SIGKILL else ""
            )
        else:
            reason = f"stopped (exit code {code})"
        log.warning("extraction process %s in the middle of a job", reason)
        return WorkerDied(f"the extraction process {reason} while reading it")

    def _stop(self, *, kill: bool) -> None:
        with self._lock:
            process = self._process
            if process is None:
                return
            if kill:
                process.kill()
            process.join(_STOP_GRACE_S)
            if process.is_alive():
                process.kill()
                process.join(_STOP_GRACE_S)
            self._reap()

    def _reap(self) -> None:
        """Forget the process (it has ended), closing our end of its pipe."""
        if self._connection is not None:
            self._connection.close()
        if self._process is not None and not self._process.is_alive():
            self._process.close()
        self._process, self._connection = None, None


def _outcome(outcome: object, result: object, memory_limit_bytes: int) -> Extraction:
    match outcome, result:
        case "done", Extraction():
            return result
        case "refused", str(detail):
            raise UnreadableMaterial(detail)  # its own class is not sent: the detail is all a row keeps
        case "missing", str(detail):
            raise FileNotFoundError(detail)
        case "out_of_memory", str():
            megabytes = memory_limit_bytes / 2**20
            raise WorkerOutOfMemory(
                f"reading it needed more memory than one material may use ({megabytes:.0f} MB); "
                "upload a smaller or simpler file"
            )
        case "error", str(trace):
            raise WorkerRaised("the material could not be processed", trace)
    raise WorkerRaised("the material could not be processed", f"unexpected reply {outcome!r}")


# The extraction process's side. ``serve`` is its entry point (spawned: a fresh interpreter).


def serve(
    connection: Connection,
    extract_text: ExtractText,
    limits: ExtractionLimits,
    memory_limit_bytes: int,
    ocr_settings: OcrSettings,
) -> None:
    """Read jobs from ``connection`` until it closes: for each, progress messages, then one reply
    ``(outcome, result, retiring)``; retiring, the process ends after the reply."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the server's to handle: it ends us
    _limit_memory(memory_limit_bytes)
    ocr = create_ocr(ocr_settings)
    try:
        _serve_jobs(connection, extract_text, limits, memory_limit_bytes, ocr)
    finally:
        ocr.close()


def _serve_jobs(
    connection: Connection,
    extract_text: ExtractText,
    limits: ExtractionLimits,
    memory_limit_bytes: int,
    ocr: OcrProvider,
) -> None:
    connection.send(("ready", os.getpid()))
    while True:
        try:
            job = connection.recv()
        except (EOFError, OSError):
            return  # the server has gone
        if job is None:
            return
        kind, path = job
        outcome, result = _read(extract_text, MaterialKind(kind), Path(path), ocr, limits, connection)
        # Memory that a large job took stays with the process: holding over half the limit, or
        # after a failed allocation (libraries may be left in a bad state), start afresh.
        retiring = outcome == "out_of_memory" or _resident_bytes() > memory_limit_bytes // 2
        try:
            connection.send((outcome, result, retiring))
        except OSError:
            return
        if retiring:
            return


def _read(
    extract_text: ExtractText,
    kind: MaterialKind,
    path: Path,
    ocr: OcrProvider,
    limits: ExtractionLimits,
    connection: Connection,
) -> tuple[str, object]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        return "missing", str(exc)
    try:
        return "done", extract_text(
            kind, data, ocr, limits, lambda fraction: connection.send(("progress", fraction))
        )
    except InvalidInput as exc:
        return "refused", exc.detail
    except MemoryError:
        return "out_of_memory", ""
    except Exception as exc:
        # Under the limit, OpenCV, MuPDF and ONNX Runtime say "failed to allocate", "malloc ...
        # failed", "bad allocation" in their own exception types.
        if "alloc" in str(exc).lower():
            return "out_of_memory", str(exc)
        return "error", traceback.format_exc()


def _resident_bytes() -> int:
    """What the process holds now (not ``ru_maxrss``: Linux carries it over from the forked
    parent, the server, through the exec of a spawn)."""
    try:
        resident_pages = int(Path("/proc/self/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0  # not Linux: never retired for its size
    return resident_pages * resource.getpagesize()


def _limit_memory(limit_bytes: int) -> None:
    # glibc gives each thread that allocates an arena of 64 MB of address space: ONNX Runtime's
    # dozens of threads on a large machine would spend the limit on reservations alone.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).mallopt(_M_ARENA_MAX, 2)
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    limit = limit_bytes if hard == resource.RLIM_INFINITY else min(limit_bytes, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
