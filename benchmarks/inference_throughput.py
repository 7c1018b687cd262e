"""Vision inference throughput and latency: both backends, batch sizes, threads, faces per frame.

Loads the ONNX Runtime and MediaPipe backends once and, in one process and one run, measures
frames/s and p50/p99 per-frame latency for:

  * analyze() on 640x480 RGB frames with 0, 1 and 2 faces (scikit-image's test pictures), at
    batch 1, 8 and 32 (MediaPipe runs frames one by one inside a batch: batch 1 and 8 only),
    with 1 and 2 worker threads sharing one analyzer;
  * the full path: a decoded ``av.VideoFrame`` (yuv420p, as a VP8 decoder hands it over) ->
    ``to_ndarray(format="yuv420p")`` -> analyze() -> Observation, every frame searched (no
    following), with the room scan on every 8th frame (a stress ratio: live it is once per
    stream per 5 s, benchmarks/analysis_cost.py), and on every frame / on no frame for comparison;
  * the serving path: one stream's frames with the flags FrameBatcher and the pipeline give them
    live (benchmarks/proctored_student_cost.py: 3.5 frames analysed per second): the page's
    320x240 copy, its faces followed from the frame before, searched once a second and the eyes
    read once a second (on other frames), and every 5 s the camera's 640x480 keyframe room
    scanned; one stream per thread, batch 1;
  * the short-range detector alone (the backend's detect() with SHORT_RANGE);
  * a single-thread, batch-8 breakdown of the full path into its parts (conversion, letterbox,
    detectors, iris model), which explains the full path / detector alone ratio;
  * resident memory with both backends loaded and run.

Each configuration is warmed up, then run for a fixed time. All frames of a batch finish
together, so a frame's latency is its batch's wall time; throughput is frames / wall time over
all threads. With CUDAExecutionProvider available the ONNX rows run on the GPU too. Prints a
table and a summary against the targets, and writes ``benchmarks/results/inference.json``.

    python benchmarks/inference_throughput.py [--seconds 3] [--warmup 0.5] [--quick]
                                              [--output benchmarks/results/inference.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from functools import partial
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

RESULTS = Path(__file__).with_name("results") / "inference.json"
WIDTH, HEIGHT = 640, 480
FACES = (0, 1, 2)
THREADS = (1, 2)
ONNX_BATCHES = (1, 8, 32)
SERVING_BATCH = 8  # FrameBatcher's default max_batch
MEDIAPIPE_BATCHES = (1, 8)  # MediaPipe detects one frame at a time: bigger batches only add latency
LIVE_STREAMS = (8, 16, 24, 32)  # cameras at 15 fps through FrameBatcher
# A stress ratio: a room scan on one frame in 8 (live: one per stream per 5 s, i.e. 1 frame in
# 75 at 15 fps and 1 in 10 at 2 fps; benchmarks/analysis_cost.py measures the live schedule).
ROOM_SCAN_EVERY = 8
CUDA = ("CUDAExecutionProvider", "CPUExecutionProvider")
TARGETS = {"full_path_fps": 300, "serving_path_fps": 600, "detector_fps": 900, "rss_mb": 400}
# The serving path at 3.5 analysed frames per stream-second: a search and a gaze read every 4th
# frame (about once a second), a camera keyframe room scanned every 18th (about every 5 s).
SERVING_SEARCH_EVERY = 4
SERVING_SCAN_EVERY = 18
COPY_SIZE = (320, 240)

Call = Callable[[], int]  # runs one batch, returns the frames it handled


# --- test frames ---------------------------------------------------------------------------------


def _square(image: np.ndarray, centre_x: int, centre_y: int, half: int) -> np.ndarray:
    return image[centre_y - half : centre_y + half, centre_x - half : centre_x + half]


def make_frames() -> dict[int, np.ndarray]:
    """640x480 RGB frames showing 0, 1 and 2 faces, from skimage.data."""
    import cv2
    from skimage import data

    astronaut = data.astronaut()
    camera = np.stack([data.camera()] * 3, axis=-1)
    two = np.zeros((HEIGHT, WIDTH, 3), dtype=np.uint8)
    # Head-and-shoulder crops, centres given as (x, y).
    two[80:400, :320] = cv2.resize(_square(astronaut, 225, 150, 150), (320, 320))
    two[80:400, 320:] = cv2.resize(_square(camera, 225, 160, 150), (320, 320))
    return {
        0: cv2.resize(data.coffee(), (WIDTH, HEIGHT)),
        1: cv2.resize(astronaut, (WIDTH, HEIGHT)),
        2: two,
    }


def decoded(rgb: np.ndarray) -> Any:
    """An av.VideoFrame in yuv420p, as a VP8 decoder hands it over."""
    import av

    return av.VideoFrame.from_ndarray(rgb, format="rgb24").reformat(format="yuv420p")


def scan_flags(scan: str, call_index: int, batch: int) -> bool | list[bool]:
    if scan == "all":
        return True
    if scan == "none":
        return False
    start = call_index * batch
    return [(start + i) % ROOM_SCAN_EVERY == 0 for i in range(batch)]


# --- timing --------------------------------------------------------------------------------------


@dataclass
class Row:
    path: str  # "analyze rgb", "full path", "detector"
    backend: str  # onnx, onnx-cuda, mediapipe
    threads: int
    batch: int
    faces: int
    room_scan: str  # 1/8, all, none, or "-" for the detector alone
    fps: float = 0.0
    p50_ms: float = 0.0
    p99_ms: float = 0.0
    cpu_cores: float = 0.0  # process CPU time / wall time while the row ran
    other_cores: float | None = None  # CPU cores busy outside this process (Linux), incl. steal
    frames: int = 0
    batches: int = 0
    faces_found: list[int] = field(default_factory=list)  # per frame of the last batch, thread 0
    rss_mb: float = 0.0  # resident memory after the row
    error: str | None = None


class Pool:
    """Worker threads kept for the whole run, as FrameBatcher keeps its own: MediaPipe makes its
    task objects once per thread, so fresh threads per row would measure (and leak) set-up."""

    def __init__(self, size: int) -> None:
        self._executor = ThreadPoolExecutor(size, thread_name_prefix="bench")

    def measure(
        self, make_call: Callable[[int], Call], threads: int, seconds: float, warmup: float
    ) -> tuple[float, list[float], int, float, float | None]:
        """Runs make_call(thread)() on `threads` threads at once: (wall s, batch latencies ms,
        frames, CPU cores this process used, CPU cores busy elsewhere on the machine)."""
        calls = [make_call(t) for t in range(threads)]
        warmed = threading.Barrier(threads + 1)
        go = threading.Barrier(threads + 1)
        deadline = [0.0]
        latencies: list[list[float]] = [[] for _ in range(threads)]
        frames = [0] * threads

        def work(t: int) -> None:
            call = calls[t]
            try:
                started, runs = time.perf_counter(), 0
                while runs < 2 or time.perf_counter() - started < warmup:
                    call()
                    runs += 1
            except BaseException:
                warmed.abort()
                raise
            warmed.wait()
            go.wait()
            while time.perf_counter() < deadline[0]:
                began = time.perf_counter()
                frames[t] += call()
                latencies[t].append((time.perf_counter() - began) * 1000)

        futures = [self._executor.submit(work, t) for t in range(threads)]
        try:
            warmed.wait()
        except threading.BrokenBarrierError:
            # A thread failed while warming up: raise its error, not the others' broken barrier.
            errors = [error for future in futures if (error := future.exception()) is not None]
            raise next(
                (e for e in errors if not isinstance(e, threading.BrokenBarrierError)), errors[0]
            ) from None
        deadline[0] = time.perf_counter() + seconds
        began, cpu, system = time.perf_counter(), time.process_time(), _busy_cpu_seconds()
        go.wait()
        for future in futures:
            future.result()
        wall = time.perf_counter() - began
        used = (time.process_time() - cpu) / wall
        system_after = _busy_cpu_seconds()
        other = None
        if system is not None and system_after is not None:
            other = max(0.0, (system_after - system) / wall - used)
        return wall, [ms for per_thread in latencies for ms in per_thread], sum(frames), used, other

    def close(self) -> None:
        self._executor.shutdown(wait=True)


def _busy_cpu_seconds() -> float | None:
    """CPU seconds all cores of the machine have been busy (or stolen), from /proc/stat."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(v) for v in fields[:8])
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


def run_row(
    pool: Pool, row: Row, make_call: Callable[[int], Call], seen: list[int], seconds: float, warmup: float
) -> Row:
    try:
        wall, latencies, frames, cores, other = pool.measure(make_call, row.threads, seconds, warmup)
    except Exception as error:
        row.error = f"{type(error).__name__}: {error}"
    else:
        row.fps = round(frames / wall, 1)
        row.p50_ms = round(float(np.percentile(latencies, 50)), 2)
        row.p99_ms = round(float(np.percentile(latencies, 99)), 2)
        row.cpu_cores = round(cores, 2)
        row.other_cores = None if other is None else round(other, 2)
        row.frames, row.batches = frames, len(latencies)
    row.faces_found = list(seen)
    row.rss_mb = memory_mb()["rss"]
    _print_row(row)
    return row


# --- workloads -----------------------------------------------------------------------------------


def _batch_call(
    analyzer: Any, pixels: Callable[[], list[np.ndarray]], batch: int, scan: str, seen: list[int], thread: int
) -> Call:
    count = [0]

    def call() -> int:
        observations = analyzer.analyze(pixels(), room_scan=scan_flags(scan, count[0], batch))
        count[0] += 1
        if thread == 0:
            seen[:] = [len(o.faces) for o in observations]
        return len(observations)

    return call


def analyze_call(
    analyzer: Any, frame: np.ndarray, batch: int, scan: str, seen: list[int]
) -> Callable[[int], Call]:
    def make(thread: int) -> Call:
        frames = [frame] * batch  # this thread's own batch
        return _batch_call(analyzer, lambda: frames, batch, scan, seen, thread)

    return make


def full_path_call(
    analyzer: Any, rgb: np.ndarray, batch: int, scan: str, seen: list[int]
) -> Callable[[int], Call]:
    def make(thread: int) -> Call:
        video_frames = [decoded(rgb)] * batch  # decoded before the clock starts

        def pixels() -> list[np.ndarray]:
            return [frame.to_ndarray(format="yuv420p") for frame in video_frames]

        return _batch_call(analyzer, pixels, batch, scan, seen, thread)

    return make


def serving_path_call(analyzer: Any, rgb: np.ndarray, seen: list[int]) -> Callable[[int], Call]:
    import cv2

    def make(thread: int) -> Call:
        camera = decoded(rgb)  # both decoded before the clock starts
        copy = decoded(cv2.resize(rgb, COPY_SIZE, interpolation=cv2.INTER_AREA))
        state: dict[str, Any] = {"index": 0, "faces": ()}

        def call() -> int:
            index = state["index"]
            state["index"] += 1
            if index % SERVING_SCAN_EVERY == 0:  # the camera's keyframe: scanned, nothing followed
                pixels, scan, follow, search, gaze = camera, True, (), True, False
            else:
                search = index % SERVING_SEARCH_EVERY == 1 or not state["faces"]
                gaze = index % SERVING_SEARCH_EVERY == 3
                pixels, scan, follow = copy, False, state["faces"]
            [observation] = analyzer.analyze(
                [pixels.to_ndarray(format="yuv420p")], [scan], [follow], [search], [gaze]
            )
            if not scan:
                state["faces"] = observation.faces
            if thread == 0:
                seen[:] = [len(observation.faces)]
            return 1

        return call

    return make


def detector_call(analyzer: Any, frame: np.ndarray, batch: int, seen: list[int]) -> Callable[[int], Call]:
    from protolearn.vision.blazeface import SHORT_RANGE
    from protolearn.vision.frames import view_of

    runtime = analyzer.runtime  # the detector alone, without the rest of analyze()

    def make(thread: int) -> Call:
        frames = [frame] * batch
        gains = [1.0] * batch

        def call() -> int:
            found = runtime.detect([view_of(f) for f in frames], gains, SHORT_RANGE)
            if thread == 0:
                seen[:] = [len(faces) for faces in found]
            return len(found)

        return call

    return make


# --- live streams through FrameBatcher ----------------------------------------------------------


async def _live_streams(
    analyzer: Any, rgb: np.ndarray, streams: int, fps: float, seconds: float
) -> dict[str, Any]:
    """`streams` cameras, each handing a decoded frame to the batcher every 1/fps s (open loop,
    as the media relay would), for `seconds`: latencies include the wait in the queue."""
    from protolearn.vision.batcher import FrameBatcher

    video_frame = decoded(rgb)
    async with FrameBatcher(analyzer, workers=max(THREADS)) as batcher:
        loop = asyncio.get_running_loop()
        started = loop.time()
        futures: list[asyncio.Future[Any]] = []

        async def camera(index: int) -> None:
            tick = started + index / (fps * streams)  # cameras are not in lockstep
            while tick < started + seconds:
                await asyncio.sleep(max(0.0, tick - loop.time()))
                futures.append(batcher.submit(f"camera-{index}", video_frame.to_ndarray(format="yuv420p")))
                tick += 1 / fps

        cpu = time.process_time()
        await asyncio.gather(*(camera(i) for i in range(streams)))
        results = await asyncio.gather(*futures)
        wall = loop.time() - started
        cores = (time.process_time() - cpu) / wall
    latencies = [o.latency_ms for o in results if o is not None]
    offered = len(results)
    return {
        "streams": streams,
        "fps_per_stream": fps,
        "offered_fps": round(offered / seconds, 1),
        "analysed_fps": round(len(latencies) / wall, 1),
        "dropped_pct": round(100 * batcher.stats.dropped / max(offered, 1), 1),
        "p50_ms": round(float(np.percentile(latencies, 50)), 1) if latencies else None,
        "p99_ms": round(float(np.percentile(latencies, 99)), 1) if latencies else None,
        "mean_batch": round(batcher.stats.analysed / max(batcher.stats.batches, 1), 2),
        "cpu_cores": round(cores, 2),
    }


def live_streams(analyzer: Any, rgb: np.ndarray, seconds: float) -> list[dict[str, Any]]:
    print(f"\nlive streams through FrameBatcher (onnx, {max(THREADS)} workers, 15 fps each, 1-face frames)")
    columns = ("streams", "offered/s", "analysed/s", "dropped %", "p50 ms", "p99 ms", "batch")
    print(" ".join(f"{name:>10}" for name in columns))
    found = []
    for streams in LIVE_STREAMS:
        row = asyncio.run(_live_streams(analyzer, rgb, streams, 15.0, seconds))
        found.append(row)
        keys = ("streams", "offered_fps", "analysed_fps", "dropped_pct", "p50_ms", "p99_ms", "mean_batch")
        print(" ".join(f"{row[key]!s:>10}" for key in keys))
    return found


# --- breakdown of the full path ------------------------------------------------------------------


def breakdown(pool: Pool, analyzer: Any, rgb: np.ndarray, seconds: float, warmup: float) -> dict[str, Any]:
    """Per-frame ms of the full path's parts: one thread, batch 8, the 1-face frame as I420."""
    from protolearn.vision.blazeface import SHORT_RANGE, room_scan_spec
    from protolearn.vision.face_mesh import cut_face
    from protolearn.vision.frames import view_of
    from protolearn.vision.gaze import cut_eye

    batch = 8
    runtime = analyzer.runtime
    video_frames = [decoded(rgb)] * batch
    i420 = [frame.to_ndarray(format="yuv420p") for frame in video_frames]
    gains = [1.0] * batch
    view = view_of(i420[0])
    found = runtime.detect([view], [1.0], SHORT_RANGE)[0]
    if found:
        right_eye, left_eye = found[0].keypoints[0], found[0].keypoints[1]
        crop = cut_eye(view, right_eye, left_eye)
        face_crop = cut_face(view, found[0]).pixels
    else:
        crop = np.zeros((64, 64, 3), dtype=np.uint8)
        face_crop = np.zeros((192, 192, 3), dtype=np.uint8)
    room_scan = room_scan_spec(analyzer.options.room_scan_size, analyzer.options.room_scan_threshold)
    tensor = np.empty((batch, 3, SHORT_RANGE.input_size, SHORT_RANGE.input_size), dtype=np.float32)

    def convert() -> int:
        return len([frame.to_ndarray(format="yuv420p") for frame in video_frames])

    def letterbox() -> int:
        for i, frame in enumerate(i420):
            view_of(frame).letterbox_into(tensor[i])
        return batch

    def prepare_full_size() -> int:  # what MediaPipe's detect() does before its model runs
        for frame in i420:
            view_of(frame).resized_rgb(WIDTH, HEIGHT)
        return batch

    def short_range() -> int:
        return len(runtime.detect([view_of(f) for f in i420], gains, SHORT_RANGE))

    def full_range_one() -> int:  # a batch of 8 with 1/8 room scans runs it on one frame
        return len(runtime.detect([view_of(i420[0])], [1.0], room_scan))

    def mesh_batch() -> int:  # the second stage and pose: the main face of every frame
        runtime.face_mesh([face_crop] * batch)
        return batch

    def iris_one() -> int:
        runtime.eye_landmarks([crop])
        return 1

    def iris_batch() -> int:
        runtime.eye_landmarks([crop] * batch)
        return batch

    def analyze() -> int:
        return len(analyzer.analyze(i420, room_scan=scan_flags("1/8", 0, batch)))

    def full_path() -> int:
        pixels = [frame.to_ndarray(format="yuv420p") for frame in video_frames]
        return len(analyzer.analyze(pixels, room_scan=scan_flags("1/8", 0, batch)))

    parts: dict[str, Call] = {
        "conversion_to_ndarray": convert,
        "short_range_detect": short_range,
        "full_range_detect_1_frame": full_range_one,
        "iris_1_crop": iris_one,
        "iris_8_crops": iris_batch,
        "face_mesh_8_crops": mesh_batch,
        "analyze_batch8_scan_1_8": analyze,
        "full_path_batch8_scan_1_8": full_path,
    }
    if analyzer.backend == "onnx":
        parts["view_of_letterbox"] = letterbox
    else:
        parts["view_of_full_size_rgb"] = prepare_full_size
    ms_per_frame: dict[str, float] = {}
    for name, call in parts.items():
        _, latencies, frames, _, _ = pool.measure(lambda _t, c=call: c, 1, seconds, warmup)
        per_call = float(np.median(latencies))
        ms_per_frame[name] = round(per_call / (frames / len(latencies)), 4)
    return {
        "backend": analyzer.backend,
        "batch": batch,
        "input": "i420, 1 face",
        "ms_per_frame": ms_per_frame,
    }


def explain(parts: dict[str, float]) -> dict[str, Any]:
    """Shares of the full path's time per frame, and why it is slower than the detector alone."""
    conversion = parts["conversion_to_ndarray"]
    short = parts["short_range_detect"]
    prep = parts.get("view_of_letterbox", parts.get("view_of_full_size_rgb", 0.0))
    room_scan = parts["full_range_detect_1_frame"] / ROOM_SCAN_EVERY
    iris = parts["iris_8_crops"]  # analyze() runs the iris model once per batch, one crop a frame
    mesh = parts["face_mesh_8_crops"]  # and the face mesh on each frame's main face
    total = conversion + parts["analyze_batch8_scan_1_8"]
    other = max(0.0, parts["analyze_batch8_scan_1_8"] - short - room_scan - iris - mesh)
    shares = {
        "short_range_detector": short,
        "room_scan_full_range_1_in_8": room_scan,
        "face_mesh": mesh,
        "iris_model": iris,
        "conversion_to_ndarray": conversion,
        "pose_gaze_crop_other": other,
    }
    percent = {name: round(100 * ms / total, 1) for name, ms in shares.items()}
    prep_name = "letterbox" if "view_of_letterbox" in parts else "full-size RGB"
    text = (
        f"full path {total:.2f} ms/frame = short-range detector {short:.2f} "
        f"({percent['short_range_detector']}%, of which view_of+{prep_name} {prep:.2f}) "
        f"+ room scan 1/8 of full-range {room_scan:.2f} "
        f"({percent['room_scan_full_range_1_in_8']}%) + face mesh {mesh:.2f} ({percent['face_mesh']}%) "
        f"+ iris {iris:.2f} ({percent['iris_model']}%; "
        f"{parts['iris_1_crop']:.2f} for a lone crop) + yuv420p to_ndarray {conversion:.2f} "
        f"({percent['conversion_to_ndarray']}%) + pose/eye crop/gaze/rest {other:.2f} "
        f"({percent['pose_gaze_crop_other']}%); detector alone {short:.2f} ms/frame, "
        f"so the full path costs {total / short:.2f}x the detector alone"
    )
    return {
        "full_path_ms_per_frame": round(total, 4),
        "detector_ms_per_frame": round(short, 4),
        "full_over_detector_time": round(total / short, 3),
        "ms_per_frame": {name: round(ms, 4) for name, ms in shares.items()},
        "percent": percent,
        "explanation": text,
    }


# --- machine and memory --------------------------------------------------------------------------


def memory_mb() -> dict[str, float]:
    """Resident set now (VmRSS) and at its peak (VmHWM, else ru_maxrss), in MiB."""
    found: dict[str, float] = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                found[key] = round(int(value.split()[0]) / 1024, 1)
    except OSError:
        pass
    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    peak = maxrss / 1024 / 1024 if platform.system() == "Darwin" else maxrss / 1024
    return {"rss": found.get("VmRSS", round(peak, 1)), "peak": found.get("VmHWM", round(peak, 1))}


def machine() -> dict[str, Any]:
    import av
    import cv2
    import mediapipe
    import onnxruntime

    return {
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpus": os.cpu_count(),
        "cpus_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        "python": platform.python_version(),
        "onnxruntime": onnxruntime.__version__,
        "onnxruntime_providers": onnxruntime.get_available_providers(),
        "mediapipe": mediapipe.__version__,
        "av": av.__version__,
        "opencv": cv2.__version__,
        "numpy": np.__version__,
    }


# --- output --------------------------------------------------------------------------------------

HEADER = (
    f"{'path':<12} {'backend':<10} {'thr':>3} {'batch':>5} {'faces':>5} {'scan':>5} "
    f"{'frames/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'cpu':>5} {'other':>5} {'found':>6}"
)


def _print_row(row: Row) -> None:
    head = (
        f"{row.path:<12} {row.backend:<10} {row.threads:>3} {row.batch:>5} {row.faces:>5} {row.room_scan:>5}"
    )
    if row.error:
        print(f"{head}  FAILED: {row.error}", flush=True)
        return
    other = "-" if row.other_cores is None else f"{row.other_cores:.2f}"
    found = ",".join(str(n) for n in sorted(set(row.faces_found))) or "-"
    print(
        f"{head} {row.fps:>9.1f} {row.p50_ms:>8.2f} {row.p99_ms:>8.2f} "
        f"{row.cpu_cores:>5.2f} {other:>5} {found:>6}",
        flush=True,
    )


def _best(rows: Sequence[Row], **where: Any) -> Row | None:
    matching = [r for r in rows if not r.error and all(getattr(r, k) == v for k, v in where.items())]
    return max(matching, key=lambda r: r.fps, default=None)


def _fastest(*rows: Row | None) -> Row | None:
    return max((row for row in rows if row), key=lambda row: row.fps, default=None)


def _config(row: Row | None) -> dict[str, Any] | None:
    if row is None:
        return None
    return {
        "fps": row.fps,
        "backend": row.backend,
        "threads": row.threads,
        "batch": row.batch,
        "p50_ms": row.p50_ms,
        "p99_ms": row.p99_ms,
    }


def summarise(
    rows: Sequence[Row], memory: dict[str, dict[str, float]], explained: dict[str, Any] | None
) -> dict[str, Any]:
    rss_mb = memory["serving"]["rss"]
    full_threads = _best(rows, path="full path", backend="onnx", room_scan="1/8")
    full_processes = _best(rows, path="full path", backend="onnx-processes", room_scan="1/8")
    full_onnx = _fastest(full_threads, full_processes)
    full_mp = _best(rows, path="full path", backend="mediapipe", room_scan="1/8")
    detector_onnx = _best(rows, path="detector", backend="onnx")
    detector_mp = _best(rows, path="detector", backend="mediapipe")
    serving_threads = _best(rows, path="serving path", backend="onnx")
    serving_processes = _best(rows, path="serving path", backend="onnx-processes")
    serving_onnx = _fastest(serving_threads, serving_processes)
    serving_mp = _best(rows, path="serving path", backend="mediapipe")
    summary: dict[str, Any] = {
        "full_path_onnx_best": _config(full_onnx),
        "full_path_onnx_threads_best": _config(full_threads),
        "full_path_onnx_processes_best": _config(full_processes),
        "serving_path_onnx_threads_best": _config(serving_threads),
        "serving_path_onnx_processes_best": _config(serving_processes),
        "full_path_mediapipe_best": _config(full_mp),
        "serving_path_onnx_best": _config(serving_onnx),
        "serving_path_mediapipe_best": _config(serving_mp),
        "detector_onnx_best": _config(detector_onnx),
        "detector_mediapipe_best": _config(detector_mp),
        "rss_mb": rss_mb,
        "rss_after_batch_32_mb": memory["after_runs"]["rss"],
        "peak_rss_mb": memory["after_runs"]["peak"],
        "rss_steps_mb": {step: values["rss"] for step, values in memory.items()},
        "targets": TARGETS,
    }
    if full_onnx:
        summary["full_path_meets_target"] = full_onnx.fps >= TARGETS["full_path_fps"]
    if detector_onnx:
        summary["detector_meets_target"] = detector_onnx.fps >= TARGETS["detector_fps"]
    summary["rss_meets_target"] = rss_mb <= TARGETS["rss_mb"]
    if full_onnx and full_mp:
        summary["full_path_onnx_over_mediapipe"] = round(full_onnx.fps / full_mp.fps, 2)
    if serving_onnx:
        summary["serving_path_meets_target"] = serving_onnx.fps >= TARGETS["serving_path_fps"]
    if serving_onnx and serving_mp:
        summary["serving_path_onnx_over_mediapipe"] = round(serving_onnx.fps / serving_mp.fps, 2)
    if full_onnx and detector_onnx:
        summary["full_path_over_detector_fps"] = round(full_onnx.fps / detector_onnx.fps, 3)
    for name in ("full_path_onnx_cuda_best", "detector_onnx_cuda_best"):
        path = "full path" if name.startswith("full") else "detector"
        scan = {"room_scan": "1/8"} if path == "full path" else {}
        best = _best(rows, path=path, backend="onnx-cuda", **scan)
        if best:
            summary[name] = _config(best)
    grown = [(r.rss_mb - before.rss_mb, r) for before, r in pairwise(rows) if r.rss_mb]
    if grown:
        step, row = max(grown, key=lambda pair: pair[0])
        summary["largest_rss_step"] = {
            "mb": round(step, 1),
            "row": f"{row.path}, {row.backend}, {row.threads} thread(s), batch {row.batch}",
        }
    others = [r.other_cores for r in rows if r.other_cores is not None]
    if others:
        summary["other_load_cores"] = {"max": max(others), "mean": round(sum(others) / len(others), 2)}
    if explained:
        summary["breakdown"] = explained["explanation"]
    return summary


def print_summary(summary: dict[str, Any]) -> None:
    def verdict(ok: bool | None) -> str:
        return "" if ok is None else ("  (meets target)" if ok else "  (MISSES target)")

    print()
    print("summary")
    full, mp = summary["full_path_onnx_best"], summary["full_path_mediapipe_best"]
    detector = summary["detector_onnx_best"]
    if full:
        print(
            f"  full path, {full['backend']}, room scan 1 in {ROOM_SCAN_EVERY}: {full['fps']:.0f} frames/s "
            "at "
            f"{full['threads']} thread(s), batch {full['batch']} vs target {TARGETS['full_path_fps']}"
            f"{verdict(summary.get('full_path_meets_target'))}"
        )
    serving, serving_mp = summary["serving_path_onnx_best"], summary["serving_path_mediapipe_best"]
    if serving:
        versus = (
            f"; mediapipe {serving_mp['fps']:.0f}, {summary['serving_path_onnx_over_mediapipe']:.2f}x"
            if serving_mp
            else ""
        )
        print(
            f"  serving path, {serving['backend']}: {serving['fps']:.0f} frames/s at "
            f"{serving['threads']} thread(s) "
            f"vs target {TARGETS['serving_path_fps']}"
            f"{verdict(summary.get('serving_path_meets_target'))}{versus}"
        )
    if detector:
        print(
            f"  detector alone, onnx: {detector['fps']:.0f} frames/s at {detector['threads']} thread(s), "
            f"batch {detector['batch']} vs target {TARGETS['detector_fps']}"
            f"{verdict(summary.get('detector_meets_target'))}"
        )
    if full and mp:
        print(
            f"  full path onnx / mediapipe: {summary['full_path_onnx_over_mediapipe']:.2f}x "
            f"({full['fps']:.0f} vs {mp['fps']:.0f} frames/s, each at its best config)"
        )
    print(
        f"  RSS with both backends loaded and run at batch <= {SERVING_BATCH}, 2 threads: "
        f"{summary['rss_mb']:.0f} MB vs {TARGETS['rss_mb']} MB"
        f"{verdict(summary['rss_meets_target'])}"
    )
    steps = ", ".join(f"{step} {mb:.0f}" for step, mb in summary["rss_steps_mb"].items())
    print(f"  RSS along the run (MB): {steps}")
    if "largest_rss_step" in summary:
        step = summary["largest_rss_step"]
        print(f"  largest RSS growth in one row: +{step['mb']:.0f} MB ({step['row']}); per row in the JSON")
    load = summary.get("other_load_cores")
    if load and load["max"] >= 0.3:
        print(
            f"  note: other processes kept up to {load['max']:.1f} CPU cores busy during rows (mean "
            f"{load['mean']:.1f}; column 'other'): multi-thread figures there are understated"
        )
    if "full_path_over_detector_fps" in summary:
        ratio = summary["full_path_over_detector_fps"]
        print(
            f"  full path / detector alone (onnx, best configs): {ratio:.2f} of the frame rate "
            f"({1 / ratio:.2f}x the time per frame)"
        )
    if "breakdown" in summary:
        print(f"  why (onnx, 1 thread, batch 8): {summary['breakdown']}")
    for name in ("full_path_onnx_cuda_best", "detector_onnx_cuda_best"):
        if name in summary:
            best = summary[name]
            print(
                f"  {name}: {best['fps']:.0f} frames/s at {best['threads']} thread(s), batch {best['batch']}"
            )


# --- main ----------------------------------------------------------------------------------------


def plan(backend: str, batches: Sequence[int]) -> list[tuple[Row, str]]:
    """The rows for one backend and these batch sizes, each with its workload kind."""
    rows: list[tuple[Row, str]] = []
    for threads in THREADS:
        for batch in batches:
            for faces in FACES:
                rows.append((Row("analyze rgb", backend, threads, batch, faces, "1/8"), "analyze"))
    for threads in THREADS:
        for batch in batches:
            rows.append((Row("full path", backend, threads, batch, 1, "1/8"), "full"))
        for scan in ("all", "none") if SERVING_BATCH in batches else ():
            rows.append((Row("full path", backend, threads, SERVING_BATCH, 1, scan), "full"))
    if 1 in batches:
        for threads in THREADS:
            rows.append(
                (Row("serving path", backend, threads, 1, 1, f"camera 1/{SERVING_SCAN_EVERY}"), "serving")
            )
    if backend != "onnx-processes":  # the detector alone is the model runtime's, in this process
        for threads in THREADS:
            for batch in batches:
                rows.append((Row("detector", backend, threads, batch, 1, "-"), "detector"))
    return rows


def run_backend(
    pool: Pool,
    analyzer: Any,
    label: str,
    batches: Sequence[int],
    frames: dict[int, np.ndarray],
    seconds: float,
    warmup: float,
) -> list[Row]:
    done = []
    for row, kind in plan(label, batches):
        seen: list[int] = []
        frame = frames[row.faces]
        if kind == "analyze":
            make = analyze_call(analyzer, frame, row.batch, row.room_scan, seen)
        elif kind == "full":
            make = full_path_call(analyzer, frame, row.batch, row.room_scan, seen)
        elif kind == "serving":
            make = serving_path_call(analyzer, frame, seen)
        else:
            make = detector_call(analyzer, frame, row.batch, seen)
        done.append(run_row(pool, row, make, seen, seconds, warmup))
    return done


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=3.0, help="measured time per row (default 3)")
    parser.add_argument("--warmup", type=float, default=0.5, help="warm-up time per row (default 0.5)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 0.2 s per row, minimal warm-up")
    parser.add_argument("--output", type=Path, default=RESULTS, help="JSON results file")
    args = parser.parse_args()
    seconds, warmup = (0.2, 0.0) if args.quick else (args.seconds, args.warmup)
    os.environ.setdefault("GLOG_minloglevel", "2")  # MediaPipe's start-up chatter
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

    import onnxruntime

    from protolearn.vision.analysis_processes import AnalysisProcesses
    from protolearn.vision.analyzer import AnalyzerOptions
    from protolearn.vision.runtimes import create_analyzer

    frames = make_frames()
    memory = {"start": memory_mb()}
    options = AnalyzerOptions(threads=1)  # one thread per model run; parallelism is the workers'
    analyzers = {"onnx": create_analyzer("onnx", options=options)}
    memory["onnx_loaded"] = memory_mb()
    analyzers["mediapipe"] = create_analyzer("mediapipe", options=options)
    memory["both_loaded"] = memory_mb()
    # As the server runs it: the ONNX analyzer in processes of its own, one per thread (their
    # memory is theirs, not in this process's RSS; their CPU shows as "other").
    analyzers["onnx-processes"] = AnalysisProcesses(
        partial(create_analyzer, "onnx", options=options), max(THREADS)
    )
    gpu: dict[str, Any] | str = "not available"
    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        try:
            analyzers["onnx-cuda"] = create_analyzer("onnx", options=options, providers=CUDA)
            gpu = {"providers": list(CUDA)}
        except Exception as error:
            gpu = f"CUDAExecutionProvider listed but failed: {type(error).__name__}: {error}"

    info = machine()
    print(
        f"vision inference, {WIDTH}x{HEIGHT} frames, {seconds:g} s per row after {warmup:g} s warm-up; "
        f"{info['cpus']} CPUs, onnxruntime {info['onnxruntime']}, mediapipe {info['mediapipe']}, gpu: "
        f"{'yes' if isinstance(gpu, dict) else gpu}"
    )
    print(
        f"room scan column: 1/8 = the room scan on every {ROOM_SCAN_EVERY}th frame (a stress ratio; live: "
        "once per stream per 5 s), all = every frame, none = no frame; detector rows run "
        "short-range only. cpu = CPU cores this process kept busy, other = CPU cores busy outside it "
        "(other load on the machine); found = faces found per frame."
    )
    print(
        "paths: analyze rgb = analyze() on RGB arrays; full path = decoded av.VideoFrame -> "
        "to_ndarray('yuv420p') -> analyze() (1-face frame); serving path = the same as a live stream "
        "gets it (see the module's docstring); detector = short-range detect() alone (1-face)"
    )
    print(HEADER)
    print("-" * len(HEADER))

    pool = Pool(max(THREADS))
    rows: list[Row] = []
    breakdowns: dict[str, Any] = {}
    try:
        # First what a server runs (batches up to 8, FrameBatcher's default), both backends,
        # then the big batches, whose buffers only a GPU would justify.
        for label, analyzer in analyzers.items():
            batches = [
                b for b in (MEDIAPIPE_BATCHES if label == "mediapipe" else ONNX_BATCHES) if b <= SERVING_BATCH
            ]
            rows += run_backend(pool, analyzer, label, batches, frames, seconds, warmup)
            memory[f"after_{label}_rows"] = memory_mb()
        memory["serving"] = memory_mb()
        for label, analyzer in analyzers.items():
            batches = [
                b
                for b in (MEDIAPIPE_BATCHES if label == "mediapipe" else ONNX_BATCHES)
                if b > SERVING_BATCH and label != "onnx-processes"
            ]
            rows += run_backend(pool, analyzer, label, batches, frames, seconds, warmup)
        memory["after_big_batches"] = memory_mb()
        for label in ("onnx", "mediapipe"):
            try:
                breakdowns[label] = breakdown(pool, analyzers[label], frames[1], seconds / 3, warmup)
            except Exception as error:
                breakdowns[label] = {"error": f"{type(error).__name__}: {error}"}
        live = live_streams(analyzers["onnx"], frames[1], max(seconds, 2.0))
        memory["after_runs"] = memory_mb()
    finally:
        pool.close()
        for analyzer in analyzers.values():
            analyzer.close()

    onnx_parts = breakdowns["onnx"].get("ms_per_frame")
    explained = explain(onnx_parts) if onnx_parts else None
    if explained:
        breakdowns["onnx"]["explained"] = explained
    mp_parts = breakdowns["mediapipe"].get("ms_per_frame")
    if mp_parts:
        breakdowns["mediapipe"]["explained"] = explain(mp_parts)
    summary = summarise(rows, memory, explained)
    print_summary(summary)

    failed = [r for r in rows if r.error]
    if failed:
        print(f"\n{len(failed)} row(s) failed; see 'error' in the JSON")
    info["load_average_end"] = [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None
    result = {
        "benchmark": "inference_throughput",
        "quick": args.quick,
        "seconds_per_row": seconds,
        "warmup_s": warmup,
        "frame_size": [WIDTH, HEIGHT],
        "room_scan": {
            "1/8": f"the room scan (full-range detector at 512 px) on every {ROOM_SCAN_EVERY}th frame "
            "(a stress ratio; live: 1 per stream per 5 s, benchmarks/analysis_cost.py)",
            "all": "every frame",
            "none": "no frame",
            f"camera 1/{SERVING_SCAN_EVERY}": "serving path: the camera's 640x480 keyframe room scanned on "
            f"every {SERVING_SCAN_EVERY}th frame, the others the 320x240 copy",
            "-": "detector rows: short-range detector only",
        },
        "latency": "per frame = wall time of its batch; percentiles over batches of all threads",
        "machine": info,
        "gpu": gpu,
        "memory_mb": memory,
        "summary": summary,
        "breakdown": breakdowns,
        "live_streams": live,
        "rows": [asdict(r) for r in rows],
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"\nwrote {args.output}")


if __name__ == "__main__":
    main()
