"""Ring buffer CPU: microseconds per packet in SegmentRecorder.on_frame, and per clip selection.

Feeds one stream as the relay would: VP8 640x480 at 15 fps (keyframes of ~20 KB, inter frames
of 2-5 KB) and Opus at 50 packets/s (80-160 bytes), a keyframe every 2 s and every 5 s, into a
recorder with the supervisor's 30 s window. The first 30 s fill the buffer, the next 30 s trim
it as well, so the number covers both. Reported: the median over several runs of the time per
packet, and of one `_select` for a 10 s clip at the end of the buffer. The packets are built
before the clock starts. With ``--baseline REV`` it also measures the recorder of that git
revision (``git show REV:src/protolearn/media/recorder.py``), so before and after sit in one
table. Prints a table and writes ``benchmarks/results/ring_buffer.json``.

    python benchmarks/ring_buffer.py [--runs 7] [--seconds 60] [--baseline HEAD~1]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any

from protolearn.media import recorder as current_recorder
from protolearn.media.forwarding import EncodedFrame

RESULTS = Path(__file__).with_name("results") / "ring_buffer.json"
RECORDER_PATH = "src/protolearn/media/recorder.py"
FPS = 15
AUDIO_PPS = 50
WINDOW_S = 30.0  # what the supervisor gives each session
KEYFRAME_EVERY_S = (2.0, 5.0)
CLIP_S = 10.0


def stream(seconds: float, keyframe_every: float, seed: int = 7) -> list[EncodedFrame]:
    """Video and audio packets of one publisher, in arrival order."""
    rng = random.Random(seed)
    header = b"\x10\x02\x00\x9d\x01\x2a\x80\x02\xe0\x01"  # a VP8 640x480 key frame
    keyframe = header + bytes(20_000 - len(header))
    inter = [b"\x11" + bytes(size - 1) for size in range(2_000, 5_001, 250)]
    opus = [b"\x78" + bytes(size - 1) for size in range(80, 161, 8)]
    per_key = round(keyframe_every * FPS)
    packets = [
        EncodedFrame(
            "video", keyframe if n % per_key == 0 else rng.choice(inter), n * 6_000, n % per_key == 0, n / FPS
        )
        for n in range(round(seconds * FPS))
    ]
    packets += [
        EncodedFrame("audio", rng.choice(opus), n * 960, False, n / AUDIO_PPS + 0.001)
        for n in range(round(seconds * AUDIO_PPS))
    ]
    packets.sort(key=lambda packet: packet.arrived)
    return packets


def recorder_at(revision: str) -> ModuleType:
    """The recorder module as it was at a git revision, imported under a name of its own."""
    source = subprocess.run(  # noqa: S603 - a fixed git command on our own repository
        ["git", "show", f"{revision}:{RECORDER_PATH}"],  # noqa: S607
        check=True,
        capture_output=True,
        cwd=Path(__file__).resolve().parents[1],
    ).stdout
    directory = Path(tempfile.mkdtemp(prefix="ring-buffer-bench-"))
    path = directory / "recorder_baseline.py"
    path.write_bytes(source)
    spec = importlib.util.spec_from_file_location("recorder_baseline", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def measure(module: ModuleType, packets: list[EncodedFrame], runs: int) -> dict[str, float]:
    per_packet_us, per_select_us = [], []
    end = packets[-1].arrived
    for _ in range(runs):
        recorder: Any = module.SegmentRecorder(seconds=WINDOW_S)
        on_frame = recorder.on_frame
        started = time.perf_counter()
        for packet in packets:
            on_frame(packet)
        per_packet_us.append((time.perf_counter() - started) / len(packets) * 1e6)
        selects = 50
        started = time.perf_counter()
        for _ in range(selects):
            recorder._select(end - CLIP_S, end)
        per_select_us.append((time.perf_counter() - started) / selects * 1e6)
    return {
        "us_per_packet": round(statistics.median(per_packet_us), 3),
        "us_per_packet_max": round(max(per_packet_us), 3),
        "us_per_select": round(statistics.median(per_select_us), 1),
        "buffered_seconds": round(recorder.buffered_seconds, 2),
        "buffered_bytes": recorder.buffered_bytes,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seconds", type=float, default=60.0, help="media fed per run")
    parser.add_argument("--baseline", help="git revision whose recorder to measure as well")
    args = parser.parse_args()

    variants: dict[str, ModuleType] = {}
    if args.baseline:
        variants[f"baseline ({args.baseline})"] = recorder_at(args.baseline)
    variants["current"] = current_recorder

    rows = []
    for keyframe_every in KEYFRAME_EVERY_S:
        packets = stream(args.seconds, keyframe_every)
        for name, module in variants.items():
            row = {"recorder": name, "keyframe_every_s": keyframe_every, "packets": len(packets)}
            row.update(measure(module, packets, args.runs))
            rows.append(row)

    print(f"{'recorder':<24}{'key every s':>12}{'packets':>9}{'us/packet':>11}{'max':>8}{'us/select':>11}")
    for row in rows:
        print(
            f"{row['recorder']:<24}{row['keyframe_every_s']:>12.0f}{row['packets']:>9}"
            f"{row['us_per_packet']:>11.2f}{row['us_per_packet_max']:>8.2f}{row['us_per_select']:>11.0f}"
        )
    result = {
        "benchmark": "ring_buffer",
        "runs": args.runs,
        "media": {
            "seconds_fed": args.seconds,
            "window_s": WINDOW_S,
            "video": f"VP8 640x480 {FPS} fps, keyframes 20 KB, inter frames 2-5 KB",
            "audio": f"Opus {AUDIO_PPS} packets/s, 80-160 bytes",
            "clip_selected_s": CLIP_S,
        },
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "results": rows,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
