"""Where a proctored student's server CPU goes, and what each change to the server saved.

The scene of benchmarks/proctoring_latency.py (N students publishing VP8 640x480 15 fps and
Opus; a face 6 s, the empty room 6 s; analysis at 2 fps; rules, violations, clips, events), run
once per server configuration, one after the other in this run: first the server as it was
before this benchmark existed ("before"), then with one change more each row, the last being the
product's defaults. For every row, over the same window:

- the server process's CPU per student-second (time.process_time), and per thread from
  /proc/self/task (event loop, decoder threads, inference threads, database and file threads);
- py-spy sampling every thread's Python stack 100 times a second: the event loop's CPU is split
  by what its samples were doing (receive: UDP, ICE, DTLS, SRTP, RTP, jitter buffer, RTCP;
  forwarding to viewers; the microphone meter; the clip ring buffer; rules, violations and
  events; the hand-off of frames to the decoder), the decoder threads' into decode and frame
  conversion, the inference threads' (or the analysis processes', which count as the server's
  CPU) into detectors, face mesh, iris and the rest;
- the cyclic garbage collector's own time (gc.callbacks), whichever thread it ran on;
- the glass-to-alert latency and the false alarms, as proctoring_latency.py measures them.

Prints a table per row, writes benchmarks/results/student_cost.json. Needs py-spy (dev extra).

    python benchmarks/proctored_student_cost.py [--students 25] [--seconds 30] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import tempfile
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

from proctoring_latency import ANALYSIS_PROCESSES, ServerConfig, run, run_load, scene_clip

RESULTS = Path(__file__).with_name("results") / "student_cost.json"

# Each row changes one thing more than the row before it; the last is the product's default.
BEFORE = ServerConfig(
    event_loop="asyncio",
    gc_frozen=False,
    header_levels=False,
    deciding_fps=2.0,
    early_on_change=False,
    gaze_interval_s=0.0,
    analysis_copy=False,
    analysis_processes=False,
    room_scan_interval_s=5.0,
    audio_ptime_ms=None,
    camera_kbps=900,
    deciding_lead_s=None,
    still_empty_s=0.0,
    label="before",
)
STEPS: list[tuple[str, dict[str, Any]]] = [
    ("load sends RFC 6464 levels, as browsers do", {"header_levels": True}),
    ("gc.freeze() after start-up, young collections every 20,000", {"gc_frozen": True}),
    ("uvloop event loop", {"event_loop": "uvloop"}),
    ("8 frames/s while a rule decides", {"deciding_fps": 8.0}),
    ("a changed picture analysed at once", {"early_on_change": True}),
    ("the eyes read once a second (every frame while a rule decides)", {"gaze_interval_s": 1.0}),
    ("the page's 320x240 copy decoded, the camera only at keyframes", {"analysis_copy": True}),
    ("the models in processes of their own, off the event loop's GIL", {"analysis_processes": True}),
    (
        "room scans every 10 s, not at every camera keyframe (every second while several faces decide)",
        {"room_scan_interval_s": 10.0},
    ),
    ("the microphone in 60 ms packets (the answer's a=ptime), not 20", {"audio_ptime_ms": 60}),
    ("the camera at most 600 kbit/s (web/live.js), not 900", {"camera_kbps": 600}),
    ("8 frames/s from 1 s before a rule's hold ends, not for all of it", {"deciding_lead_s": 1.0}),
    ("an empty room's unchanged picture not analysed again (for up to 2 s)", {"still_empty_s": 2.0}),
]

# What a sample of the event loop was doing: the first category, in this order, that one of its
# frames' files belongs to.
LOOP_CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("forwarding to viewers", ("aiortc/rtcrtpsender.py", "protolearn/media/forwarding.py")),
    ("microphone meter (Opus decode)", ("protolearn/media/audio_level.py",)),
    ("clip ring buffer", ("protolearn/media/recorder.py",)),
    ("frames to the decoder", ("protolearn/media/tap.py", "protolearn/proctoring/pipeline.py")),
    (
        "rules, violations and events",
        (
            "protolearn/proctoring/",
            "protolearn/events/",
            "protolearn/vision/batcher.py",
            "sqlalchemy/",
            "aiosqlite/",
        ),
    ),
    (
        "receive (UDP, ICE, DTLS, SRTP, RTP, jitter buffer, RTCP)",
        ("aiortc/", "aioice/", "pylibsrtp/", "protolearn/media/", "asyncio/selector_events.py"),
    ),
]
DECODER_CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("frame conversion (tap)", ("_StreamDecoder._due", "_StreamDecoder._frozen")),
    ("decode", ("_StreamDecoder._decode",)),
]
INFERENCE_CATEGORIES: list[tuple[str, tuple[str, ...]]] = [
    ("inference: face mesh", ("OnnxRuntime.face_mesh", "MediaPipeRuntime.face_mesh")),
    ("inference: iris", ("OnnxRuntime.eye_landmarks", "MediaPipeRuntime.eye_landmarks")),
    ("frame conversion (vision)", ("FrameView.",)),
    ("inference: detectors", ("OnnxRuntime.detect", "MediaPipeRuntime.detect")),
    ("analysis: pose, gaze and the rest", ("FaceAnalyzer.",)),
]


# A sample whose innermost frame is one of these was waiting, not working (py-spy reports some
# threads waiting in C as active); the threads' CPU time is from /proc, samples only split it.
IDLE_LEAVES = (
    "(selectors.py:",
    "Runner.run (asyncio/runners.py:",
    "(uvloop/",
    "_worker (concurrent/futures/thread.py:",
    "(threading.py:",
    "_connection_worker_thread (aiosqlite/",
    "(multiprocessing/connection.py:",
)


PROCESS_FRAMES = re.compile(r'(?:process \d+:"[^"]*";)+')


def thread_group(name: str) -> str:
    if name == "MainThread":
        return "event loop"
    if name.startswith("tap"):
        return "decoder threads"
    if name.startswith("vision") or name == "native":
        return "inference threads"
    if name == ANALYSIS_PROCESSES:
        return ANALYSIS_PROCESSES
    return "database and file threads"


def read_stacks(path: Path) -> dict[str, Counter[str]]:
    """py-spy's raw output -> per thread group, samples per category."""
    groups: dict[str, Counter[str]] = {}
    if not path.exists():
        return groups
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        # Led by the server's process and, for a child's sample, the child's: 'process PID:"its
        # command line";', whose command line may hold ";" itself (a spawned interpreter's does).
        leading = PROCESS_FRAMES.match(stack)
        processes = leading.group(0).count("process ") if leading else 0
        frames = stack[leading.end() if leading else 0 :].split(";")
        if any(mark in frames[-1] for mark in IDLE_LEAVES):
            continue
        match = re.match(r"thread \(\d+\): (.*)", frames[0])
        name = match.group(1) if match else "native"
        group = ANALYSIS_PROCESSES if processes > 1 else thread_group(name)
        categories = {
            "event loop": LOOP_CATEGORIES,
            "decoder threads": DECODER_CATEGORIES,
            "inference threads": INFERENCE_CATEGORIES,
            ANALYSIS_PROCESSES: INFERENCE_CATEGORIES,
        }.get(group, [])
        groups.setdefault(group, Counter())[classify(frames[1:], categories)] += int(count)
    return groups


def classify(frames: list[str], categories: list[tuple[str, tuple[str, ...]]]) -> str:
    for category, marks in categories:
        if any(mark in frame for frame in frames for mark in marks):
            return category
    return "other"


def split(row: dict[str, Any], stacks: dict[str, Counter[str]]) -> dict[str, Any]:
    """ms of server CPU per student-second: per thread group (exact), and within each group
    by the share of its samples in each category."""
    per_student_s = 1000 / (row["students"] * row["wall_s"])
    threads: Counter[str] = Counter()
    for name, seconds in row["thread_cpu_s"].items():
        threads[thread_group(name)] += seconds
    table: dict[str, float] = {}
    for group, seconds in threads.items():
        samples = stacks.get(group)
        if not samples:
            table[group] = seconds * per_student_s
            continue
        total = sum(samples.values())
        for category, count in samples.items():
            key = f"{group}: {category}"
            table[key] = table.get(key, 0.0) + seconds * per_student_s * count / total
    return {
        "ms_per_student_second": {k: round(v, 2) for k, v in sorted(table.items(), key=lambda kv: -kv[1])},
        "threads_ms_per_student_second": {k: round(v * per_student_s, 2) for k, v in threads.most_common()},
        "event_loop_busy_share": round(threads["event loop"] / row["wall_s"], 3),
        "gc_ms_per_student_second": round(row["gc_cpu_s"] * per_student_s, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=25)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--quick", action="store_true", help="3 students, 12 s, before and default only")
    parser.add_argument(
        "--last", type=int, metavar="N", help="only the last N changes, after the row before them"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    students = 3 if args.quick else args.students
    seconds = 12.0 if args.quick else args.seconds
    configs = [BEFORE]
    for label, change in STEPS:
        configs.append(replace(configs[-1], label=label, **change))
    if args.quick:
        configs = [configs[0], configs[-1]]
    elif args.last:
        configs = configs[-args.last - 1 :]
    clip = scene_clip()
    rows = []
    with tempfile.TemporaryDirectory(prefix="student-cost-") as scratch:
        for n, config in enumerate(configs):
            stacks_path = Path(scratch) / f"stacks-{n}.txt"
            row = run_load(run(students, seconds, clip, config, stacks=stacks_path))
            row.update(config=config.describe(), **split(row, read_stacks(stacks_path)))
            rows.append(row)
            print(
                f"\n== {config.label}: {row['cpu_ms_per_student_second']} ms per student-second, "
                f"event loop busy {row['event_loop_busy_share']:.0%}, "
                f"alert p95 {row['latency_beyond_hold_ms_p95']} ms, false no_face {row['false_no_face']}, "
                f"analysed {row['frames_analysed_per_student_second']}/s, "
                f"room scans {row['room_scans_per_student_second']}/s, "
                f"cores: server {row['server_cores']}, load {row['load_cores']}"
            )
            for name, ms in row["ms_per_student_second"].items():
                print(f"  {ms:7.2f}  {name}")
            print(f"  {row['gc_ms_per_student_second']:7.2f}  (of which the garbage collector)")
    before, after = rows[0], rows[-1]
    summary = {
        "before": before["config"]["label"],
        "before_ms_per_student_second": before["cpu_ms_per_student_second"],
        "after_ms_per_student_second": after["cpu_ms_per_student_second"],
        "after_over_before": round(
            after["cpu_ms_per_student_second"] / before["cpu_ms_per_student_second"], 3
        ),
        "target_ms_per_student_second": 25.0,
        "meets_target": after["cpu_ms_per_student_second"] <= 25.0,
    }
    print("\n" + json.dumps(summary))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "benchmark": "proctored_student_cost",
                "quick": args.quick,
                "students": students,
                "seconds": seconds,
                "cpus": os.cpu_count(),
                "summary": summary,
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
