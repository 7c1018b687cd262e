"""Face detection accuracy and head-pose symmetry on the labelled set of tests/support/face_set.py.

Columns: our analyzer on both backends with its defaults (``create_analyzer("onnx" |
"mediapipe")``, ``analyze([frame], room_scan=True)``, faces = len(observation.faces)) and the
peers of face_peers.py (CenterFace at 0.5 and, relaxed, at 0.3). For each column: per category,
the cases whose face count is exactly right; the total; the faces it reports on faceless and
animal pictures (all false); cases over- and under-counted; the median time per frame. Each
frame runs ``--repeats`` times (a frame's time is its median; the counts come from the first
run). The analyzer's defaults run one thread per model run, CenterFace runs on one thread, and
MediaPipe Tasks picks its own.

Head pose, for our two backends: for each pair of face_set.MIRRORED_PAIRS whose frames both
show a face (by the labels, and found by the backend), the main face's yaw
(``observation.faces[0].yaw``) on the original and on the mirror, and the symmetry error
|yaw + mirrored yaw|: a mirror turns the head the other way by as much, so the error would be 0
for a pose estimate that reads the face itself. Each pair also gets how far apart the two main
faces' centres are, the mirror's brought back, in face widths: a pair whose "main face" is two
different people (a group, faces of one size) shows there, and is left out of the max and mean.

Prints the tables and writes ``benchmarks/results/face_accuracy.json`` with each case's counts.
A new column is one more entry in the dict that ``columns()`` returns: a name and a function
frame -> number of faces (a pipeline variant, another threshold, another peer).

    python benchmarks/face_accuracy.py [--repeats 3] [--output benchmarks/results/face_accuracy.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.face_set import CASES, CATEGORIES, MIRRORED_PAIRS, FaceCase, case

from face_peers import peers

if TYPE_CHECKING:
    from protolearn.vision.analyzer import FaceAnalyzer
    from protolearn.vision.schemas import Observation

RESULTS = Path(__file__).with_name("results") / "face_accuracy.json"
NEGATIVE = ("faceless", "animal")  # categories without a human face: every face found is false
BACKENDS = ("onnx", "mediapipe")
SAME_FACE_OFFSET = 0.5  # two main faces whose centres lie closer (in face widths) are one person

Counter = Callable[[np.ndarray], int]  # an RGB uint8 frame -> how many faces were found


def open_analyzers(closing: ExitStack) -> dict[str, FaceAnalyzer]:
    """Our analyzer on each backend with its defaults, closed when `closing` closes (MediaPipe's
    tasks fail if left to the interpreter's exit)."""
    from protolearn.vision.runtimes import create_analyzer

    analyzers: dict[str, FaceAnalyzer] = {}
    for backend in BACKENDS:
        analyzers[backend] = create_analyzer(backend)  # type: ignore[arg-type]
        closing.callback(analyzers[backend].close)
    return analyzers


def observe(analyzer: FaceAnalyzer, frame: np.ndarray) -> Observation:
    """The analyzer's observation of one frame, room scan (the full-range detector) included."""
    return analyzer.analyze([frame], room_scan=True)[0]


def columns(analyzers: dict[str, FaceAnalyzer]) -> dict[str, Counter]:
    """Every column of the report, in order. Add pipeline variants here."""
    found: dict[str, Counter] = {
        name: lambda frame, analyzer=analyzer: len(observe(analyzer, frame).faces)  # type: ignore[misc]
        for name, analyzer in analyzers.items()
    }
    for name, detector in peers().items():
        found[name] = lambda frame, detector=detector: len(detector(frame))  # type: ignore[misc]
    return found


def measure(counter: Counter, frames: list[np.ndarray], repeats: int) -> tuple[list[int], list[float]]:
    """The faces counted in each frame (first run) and each frame's median time in ms."""
    counter(frames[0].copy())  # warm-up: lazy allocations, first-run graph optimisation
    counts: list[int] = []
    times: list[float] = []
    for frame in frames:
        runs = []
        for repeat in range(repeats):
            given = frame.copy()
            started = time.perf_counter()
            found = counter(given)
            runs.append((time.perf_counter() - started) * 1000)
            if repeat == 0:
                counts.append(found)
        times.append(statistics.median(runs))
    return counts, times


def summarise(cases: tuple[FaceCase, ...], counts: list[int], times: list[float]) -> dict[str, Any]:
    """One column's totals: exact per category, false faces on negatives, over/under, time."""
    pairs = list(zip(cases, counts, strict=True))
    exact = dict.fromkeys(CATEGORIES, 0)
    for labelled, found in pairs:
        exact[labelled.category] += found == labelled.faces
    return {
        "exact": exact,
        "exact_total": sum(exact.values()),
        "false_faces_on_negatives": sum(found for labelled, found in pairs if labelled.category in NEGATIVE),
        "over_counted": sum(found > labelled.faces for labelled, found in pairs),
        "under_counted": sum(found < labelled.faces for labelled, found in pairs),
        "median_ms": round(statistics.median(times), 2),
    }


def table(cases: tuple[FaceCase, ...], summaries: dict[str, dict[str, Any]]) -> str:
    """The per-category exact-count table and the totals below it."""
    sizes = {category: sum(c.category == category for c in cases) for category in CATEGORIES}
    widths = {name: max(8, len(name) + 2) for name in summaries}
    head = f"{'category':<16}{'cases':>6}" + "".join(f"{name:>{w}}" for name, w in widths.items())
    lines = [head, "-" * len(head)]
    for category in CATEGORIES:
        cells = "".join(f"{summaries[name]['exact'][category]:>{w}}" for name, w in widths.items())
        lines.append(f"{category:<16}{sizes[category]:>6}" + cells)
    lines.append("-" * len(head))
    rows = (
        ("exactly right", len(cases), "exact_total"),
        ("false faces*", "", "false_faces_on_negatives"),
        ("over-counted", "", "over_counted"),
        ("under-counted", "", "under_counted"),
        ("median ms", "", "median_ms"),
    )
    for label, total, key in rows:
        cells = "".join(f"{summaries[name][key]!s:>{w}}" for name, w in widths.items())
        lines.append(f"{label:<16}{total!s:>6}" + cells)
    negatives = sum(sizes[category] for category in NEGATIVE)
    lines.append(f"* faces reported on the {negatives} faceless and animal cases (all false)")
    return "\n".join(lines)


# --- head pose -----------------------------------------------------------------------------------


def _centre_offset(box: tuple[float, ...], other: tuple[float, ...]) -> float:
    """How far apart the centres of two [x, y, w, h] boxes are, in the wider box's widths."""
    dx = (box[0] + box[2] / 2) - (other[0] + other[2] / 2)
    dy = (box[1] + box[3] / 2) - (other[1] + other[3] / 2)
    return float(np.hypot(dx, dy) / max(box[2], other[2], 1e-9))


def mirror_pair(analyzer: FaceAnalyzer, original: str, mirrored: str) -> dict[str, Any] | str:
    """The main face's yaw on a case and its mirror, their symmetry error and how far apart the
    two main faces lie; or why the pair has none (labelled faceless, or no face found)."""
    labelled = case(original), case(mirrored)
    if not all(c.faces for c in labelled):
        return "labelled without a face"
    seen = [observe(analyzer, c.build()) for c in labelled]
    missing = [c.name for c, observation in zip(labelled, seen, strict=True) if not observation.faces]
    if missing:
        return "no face found on " + " and ".join(missing)
    face, mirror_face = seen[0].faces[0], seen[1].faces[0]
    x, y, w, h = mirror_face.box
    return {
        "original": original,
        "mirrored": mirrored,
        "yaw": face.yaw,
        "mirrored_yaw": mirror_face.yaw,
        "symmetry_error": round(abs(face.yaw + mirror_face.yaw), 1),
        "main_face_offset": round(_centre_offset(face.box, (seen[1].width - x - w, y, w, h)), 2),
    }


def head_pose(analyzers: dict[str, FaceAnalyzer]) -> dict[str, dict[str, Any]]:
    """Per backend: the mirrored pairs measured, those left out, and the max and mean symmetry
    error over the pairs whose two main faces are one person."""
    report: dict[str, dict[str, Any]] = {}
    for backend, analyzer in analyzers.items():
        measured: list[dict[str, Any]] = []
        left_out: dict[str, str] = {}
        for original, mirrored in MIRRORED_PAIRS:
            pair = mirror_pair(analyzer, original, mirrored)
            if isinstance(pair, str):
                left_out[original] = pair
            else:
                measured.append(pair)
        errors = [p["symmetry_error"] for p in measured if p["main_face_offset"] <= SAME_FACE_OFFSET]
        report[backend] = {
            "pairs": measured,
            "left_out": left_out,
            "same_face_pairs": len(errors),
            "max_symmetry_error": max(errors, default=None),
            "mean_symmetry_error": round(statistics.fmean(errors), 1) if errors else None,
        }
    return report


def pose_table(report: dict[str, dict[str, Any]]) -> str:
    """Each backend's mirrored pairs, yaw in degrees, and its max and mean symmetry error."""
    head = f"{'backend':<11}{'pair':<16}{'yaw':>8}{'mirrored':>10}{'|sum|':>8}{'apart*':>8}"
    lines = ["Head pose: yaw of faces[0] on a case and its mirror (degrees)", head, "-" * len(head)]
    for backend, result in report.items():
        for pair in result["pairs"]:
            other = "" if pair["main_face_offset"] <= SAME_FACE_OFFSET else "  another person: left out"
            lines.append(
                f"{backend:<11}{pair['original']:<16}{pair['yaw']:>8.1f}{pair['mirrored_yaw']:>10.1f}"
                f"{pair['symmetry_error']:>8.1f}{pair['main_face_offset']:>8.2f}{other}"
            )
        for original, why in result["left_out"].items():
            lines.append(f"{backend:<11}{original:<16}  left out: {why}")
        lines.append(
            f"{backend:<11}symmetry error max {result['max_symmetry_error']}, mean"
            f" {result['mean_symmetry_error']} over {result['same_face_pairs']} pairs"
        )
        lines.append("-" * len(head))
    lines.append("* how far apart the main faces' centres lie (the mirror's brought back), in face widths")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--repeats", type=int, default=3, help="timed runs per frame")
    args = parser.parse_args()

    frames = [c.build() for c in CASES]
    summaries: dict[str, dict[str, Any]] = {}
    per_case: dict[str, dict[str, Any]] = {c.name: {"category": c.category, "faces": c.faces} for c in CASES}
    with ExitStack() as closing:
        analyzers = open_analyzers(closing)
        for name, counter in columns(analyzers).items():
            counts, times = measure(counter, frames, args.repeats)
            summaries[name] = summarise(CASES, counts, times)
            for labelled, found, ms in zip(CASES, counts, times, strict=True):
                per_case[labelled.name][name] = found
                per_case[labelled.name][f"{name}_ms"] = round(ms, 2)
        pose = head_pose(analyzers)
    print(table(CASES, summaries))
    print()
    print(pose_table(pose))

    result = {
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
        },
        "repeats": args.repeats,
        "cases": len(CASES),
        "categories": {category: sum(c.category == category for c in CASES) for category in CATEGORIES},
        "columns": summaries,
        "head_pose": pose,
        "per_case": per_case,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
