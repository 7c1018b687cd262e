"""CPU of the vision analysis per analysed frame, as a live stream gets it, before and after a change.

A proctored camera is modelled as the server sees it: a face that sways a little, 640x480,
VP8-encoded and decoded (libvpx, 600 kbit/s), analysed at the test's analysis rate (2 frames/s
by default, 15 for a stress figure) through FrameBatcher with its defaults (room scans, searches
and following as that version of the code schedules them). The batcher's clock is simulated, so
a minute of stream takes a few seconds; CPU is the process's (all threads) while the analysis
runs, frames decoded beforehand. Scenes: one student; two people (a second person beside her);
the student turned away (three-quarter view).

With ``--baseline REV`` the same measurement also runs on that git revision's code (exported
with ``git archive``, same models, same interpreter) in the same run, alternating, and the
ratios are printed. Writes ``benchmarks/results/analysis_cost.json``.

    python benchmarks/analysis_cost.py [--baseline REV] [--seconds 60] [--repeats 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path
from typing import Any

from ai_authoring import exported_source, revision_of

ROOT = Path(__file__).resolve().parent.parent
RESULTS = Path(__file__).with_name("results") / "analysis_cost.json"
SCENES = ("one student", "two people", "turned away")
RATES = (2.0, 15.0)


def stream_frames(scene: str, seconds: float, fps: float) -> list[Any]:
    """The I420 frames a decoder hands the analysis for `seconds` of the scene at `fps`."""
    import math

    import av
    import cv2
    import numpy as np

    sys.path.insert(0, str(ROOT))
    from tests.support.images import astronaut, cameraman, two_people

    picture = {"one student": astronaut, "two people": two_people, "turned away": cameraman}[scene]()
    picture = cv2.resize(picture, (640, 480), interpolation=cv2.INTER_AREA)
    encoder = av.CodecContext.create("libvpx", "w")
    encoder.width, encoder.height, encoder.pix_fmt = 640, 480, "yuv420p"
    encoder.bit_rate, encoder.time_base = 600_000, Fraction(1, round(fps))
    decoder = av.CodecContext.create("libvpx", "r")
    frames = []
    for index in range(round(seconds * fps)):
        shifted = np.roll(picture, int(12 * math.sin(index / (fps / 3.75))), axis=1)
        frame = av.VideoFrame.from_ndarray(shifted, format="rgb24").reformat(format="yuv420p")
        frame.pts = index
        for packet in encoder.encode(frame):
            frames += [decoded.to_ndarray(format="yuv420p") for decoded in decoder.decode(packet)]
    return frames


class SimulatedClock:
    """Stands in for the batcher's time module: perf_counter() is the stream's time."""

    def __init__(self) -> None:
        self.now = 1000.0

    def perf_counter(self) -> float:
        return self.now

    def __getattr__(self, name: str) -> Any:
        return getattr(time, name)


async def measure(frames: list[Any], fps: float) -> dict[str, float]:
    """CPU ms per analysed frame and per stream-second through a FrameBatcher."""
    from protolearn.vision import batcher as batcher_module
    from protolearn.vision.runtimes import create_analyzer

    clock = SimulatedClock()
    batcher_module.time = clock  # type: ignore[assignment]
    analyzer = create_analyzer("onnx")
    faces = 0
    async with batcher_module.FrameBatcher(analyzer, workers=1) as batcher:
        for frame in frames[:10]:  # warm-up, its own stream
            await batcher.analyze("warm-up", frame)
        started = time.process_time()
        for frame in frames:
            clock.now += 1 / fps
            observation = await batcher.analyze("camera", frame)
            faces += len(observation.faces) if observation else 0
        cpu = time.process_time() - started
    analyzer.close()
    return {
        "cpu_ms_per_frame": round(cpu * 1000 / len(frames), 3),
        "cpu_ms_per_stream_second": round(cpu * 1000 / len(frames) * fps, 2),
        "faces_per_frame": round(faces / len(frames), 2),
    }


def child(scene: str, fps: float, seconds: float) -> None:
    frames = stream_frames(scene, seconds, fps)
    print(json.dumps(asyncio.run(measure(frames, fps))))


def exported(revision: str) -> Path:
    """The revision's src/ (ai_authoring.exported_source), its models/ this checkout's files."""
    source = exported_source(revision)
    models = source.parent / "models"
    shutil.rmtree(models)
    models.symlink_to(ROOT / "models")
    return source


def run(source: Path | None, scene: str, fps: float, seconds: float) -> dict[str, float]:
    env = dict(os.environ, OMP_NUM_THREADS="1")
    if source is not None:
        env["PYTHONPATH"] = str(source)
    command = [sys.executable, __file__, "--child", scene, str(fps), str(seconds)]
    result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)  # noqa: S603
    if result.returncode != 0:
        raise SystemExit(f"{scene} at {fps} fps failed:\n{result.stderr[-2000:]}")
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="also measure this git revision's code")
    parser.add_argument("--seconds", type=float, default=60.0, help="stream seconds per scene")
    parser.add_argument("--repeats", type=int, default=3, help="runs per configuration (medians)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], float(args.child[1]), float(args.child[2]))
        return 0
    versions: dict[str, Path | None] = {"working tree": None}
    if args.baseline:
        versions = {f"baseline {args.baseline}": exported(args.baseline), **versions}
    rows = []
    for fps in RATES:
        for scene in SCENES:
            samples: dict[str, list[dict[str, float]]] = {name: [] for name in versions}
            for _ in range(args.repeats):
                for name, source in versions.items():  # alternating: the machine's load hits both
                    samples[name].append(run(source, scene, fps, args.seconds))
            row: dict[str, Any] = {"scene": scene, "analysis_fps": fps}
            for name, runs in samples.items():
                row[name] = {key: statistics.median(run[key] for run in runs) for key in runs[0]}
            if args.baseline:
                before = row[f"baseline {args.baseline}"]["cpu_ms_per_frame"]
                row["ratio"] = round(row["working tree"]["cpu_ms_per_frame"] / before, 3)
            rows.append(row)
            line = "  ".join(f"{name}: {row[name]['cpu_ms_per_frame']:6.2f} ms/frame" for name in versions)
            ratio = f"  ratio {row['ratio']:.2f}" if "ratio" in row else ""
            print(f"{scene:12s} {fps:4.0f} fps  {line}{ratio}", flush=True)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    report = {
        "benchmark": "analysis_cost",
        "head": revision_of("HEAD"),
        "baseline": args.baseline,
        "stream_seconds": args.seconds,
        "repeats": args.repeats,
        "cpus": os.cpu_count(),
        "rows": rows,
    }
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"wrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
