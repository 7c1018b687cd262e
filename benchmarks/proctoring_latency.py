"""Proctoring latency and cost: from the frame where a face disappears to the teachers' alert.

N students (1 and 25) publish pre-encoded VP8 640x480 15 fps from a load process: a real face
(scikit-image's astronaut) for 6 s, then the empty room for 6 s, looped. The server process runs
the relay and the proctoring supervisor (frame tap at 2 fps -> vision batcher -> rules ->
violation stored in SQLite -> event published to the attempt's teachers). Glass-to-alert
latency = time the `violation` event is published - time the load process sent the first
empty-room frame - the no_face rule's hold (3 s), both on the machine's monotonic clock. Also
the server's CPU per proctored student-second and the false alarms (no_face while the face
was there). Prints a table, writes benchmarks/results/proctoring.json.

    python benchmarks/proctoring_latency.py [--students 1,25] [--seconds 40] [--quick]

benchmarks/proctored_student_cost.py runs the same server under a sampling profiler, with the
server's options changed one at a time (`ServerConfig`), to show where its CPU goes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from relay_capacity import FPS, answer_ptime, encode_opus, encode_vp8, face_frames, pre_encoded_tracks

RESULTS = Path(__file__).with_name("results") / "proctoring.json"
PHASE_S = 6.0  # face for 6 s, empty room for 6 s
HOLD_S = 3.0  # the no_face rule's default hold
AUDIO_LEVEL = 70  # RFC 6464 level the load's microphones send (-70 dBov: a quiet room)


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """What the server process runs with; the defaults are the product's own."""

    event_loop: str = "uvloop"  # or "asyncio"
    gc_frozen: bool = True  # gc.freeze() once set up, as `protolearn serve` does
    header_levels: bool = True  # the load's microphones put RFC 6464 levels in their packets, as browsers do
    deciding_fps: float = 8.0  # analysis rate while a rule decides (2.0: the test's rate throughout)
    deciding_lead_s: float | None = 1.0  # ... from this long before its hold ends (None: all of it)
    early_on_change: bool = True  # a changed picture analysed at once
    gaze_interval_s: float = 1.0  # the eyes read this often (0: on every analysed frame)
    analysis_copy: bool = True  # the load sends the page's copy of the camera (web/live.js)
    analysis_processes: bool = True  # the models run in processes of their own (counted as the server's)
    room_scan_interval_s: float = 10.0  # a stream's room scans (sooner while several faces decide)
    audio_ptime_ms: int | None = 60  # asked of the load's microphones (None: browsers' 20 ms)
    camera_kbps: int = 600  # the load's cameras (web/live.js's ceiling; 900: before it had one)
    still_empty_s: float = 2.0  # an empty room's unchanged picture not analysed again for this long
    label: str = ""

    def describe(self) -> dict[str, Any]:
        return asdict(self)


# The camera by its bitrate (kbit/s), the microphone by its packets' duration (ms), the loop's
# length, the copy.
Clip = tuple[dict[int, list[tuple[bytes, bool]]], dict[int, list[bytes]], float, list[tuple[bytes, bool]]]


def scene_clip() -> Clip:
    """One loop: PHASE_S of the face, PHASE_S of the empty room, keyframes at each change, at
    600 kbit/s (web/live.js's ceiling) and 900; the Opus in 20 and 60 ms packets; the loop's
    length; and the same loop as the page's copy for analysis (320x240, every other frame, at the
    rate and bitrate web/live.js asks for)."""
    import cv2
    from skimage import data

    count = int(PHASE_S * FPS)
    face = face_frames(count)
    room = cv2.resize(data.coffee(), (640, 480), interpolation=cv2.INTER_AREA)
    video = {
        kbps: encode_vp8(face, gop=count, bit_rate=kbps * 1000)
        + encode_vp8([room] * count, gop=count, bit_rate=kbps * 1000)
        for kbps in (600, 900)
    }
    copy = [
        packet
        for pictures in (face[::2], [room] * (count // 2))
        for packet in encode_vp8(pictures, gop=count // 2, size=(320, 240), fps=FPS / 2, bit_rate=100_000)
    ]
    return video, {ms: encode_opus(frame_ms=ms) for ms in (20, 60)}, 2 * PHASE_S, copy


# --- server process ------------------------------------------------------------------------------


def server_main(conn: Connection, students: int, config: ServerConfig | None = None) -> None:
    config = config or ServerConfig()
    if config.event_loop == "uvloop":
        import uvloop

        uvloop.run(_serve(conn, students, config))
    else:
        asyncio.run(_serve(conn, students, config))


def thread_cpu_seconds() -> Counter[str]:
    """CPU seconds of this process's threads so far, by Python thread name ("native" for
    threads Python did not start, such as ONNX Runtime's)."""
    names = {thread.native_id: thread.name for thread in threading.enumerate()}
    ticks_per_s = os.sysconf("SC_CLK_TCK")
    seconds: Counter[str] = Counter()
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except OSError:  # the thread ended meanwhile
            continue
        seconds[names.get(int(tid), "native")] += (int(fields[11]) + int(fields[12])) / ticks_per_s
    return seconds


ANALYSIS_PROCESSES = "analysis processes"  # thread_cpu_s's entry for the server's child processes


def children_cpu_seconds() -> float:
    """CPU seconds so far of this process's children (the vision analysis processes; those
    replaced meanwhile are not counted)."""
    import psutil

    total = 0.0
    for child in psutil.Process().children(recursive=True):
        try:
            times = child.cpu_times()
        except psutil.Error:
            continue
        total += times.user + times.system
    return total


async def _serve(conn: Connection, students: int, config: ServerConfig) -> None:
    import gc

    gc_seconds = [0.0, 0.0]  # collections' total, and the start of the one running

    def time_collections(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            gc_seconds[1] = time.thread_time()
        else:
            gc_seconds[0] += time.thread_time() - gc_seconds[1]

    gc.callbacks.append(time_collections)
    from protolearn.assessment.lifecycle import AttemptLifecycle
    from protolearn.config import Settings
    from protolearn.events.bus import EventBus, teachers_topic
    from protolearn.events.messages import ViolationEvent
    from protolearn.media.relay import ForwardingUnit
    from protolearn.proctoring.pipeline import PipelineOptions
    from protolearn.proctoring.supervisor import ProctoringSupervisor
    from protolearn.store.attempts import TestAttempt
    from protolearn.store.database import create_engine, create_sessionmaker
    from protolearn.store.migrate import upgrade
    from protolearn.store.tests import Test
    from protolearn.store.users import User
    from protolearn.vision.runtimes import create_analyzer

    data_dir = Path(tempfile.mkdtemp(prefix="proctoring-bench-"))
    settings = Settings(data_dir=data_dir, database_url=f"sqlite+aiosqlite:///{data_dir / 'bench.db'}")
    engine = create_engine(settings.database_url)
    await upgrade(engine)
    sessionmaker = create_sessionmaker(engine)
    attempts = []
    async with sessionmaker() as db:
        teacher = User(email="teacher@bench.test", password_hash="-", name="T", role="teacher")
        db.add(teacher)
        await db.flush()
        test = Test(teacher_id=teacher.id, title="Bench", time_limit=120, is_published=True)
        db.add(test)
        await db.flush()
        for n in range(students):
            student = User(email=f"s{n}@bench.test", password_hash="-", name=f"S{n}", role="student")
            db.add(student)
            await db.flush()
            attempt = TestAttempt(
                test_id=test.id,
                student_id=student.id,
                deadline=datetime.now(UTC) + timedelta(hours=2),
                question_order=[],
            )
            db.add(attempt)
            await db.flush()
            attempts.append(attempt.id)
        await db.commit()

    supervisors: list[ProctoringSupervisor] = []
    unit = ForwardingUnit(
        on_event=lambda e: [s.on_stream_event(e) for s in supervisors],
        lost_after_s=30,
        audio_ptime_ms=config.audio_ptime_ms,
    )
    lifecycle = AttemptLifecycle(sessionmaker, EventBus(), grace_seconds=0)
    supervisor = ProctoringSupervisor(
        unit,
        sessionmaker,
        data_dir,
        partial(create_analyzer, "onnx"),
        lifecycle=lifecycle,
        options=PipelineOptions(
            analysis_processes=config.analysis_processes,
            deciding_fps=config.deciding_fps,
            deciding_lead_s=config.deciding_lead_s,
            still_empty_s=config.still_empty_s,
            early_on_change=config.early_on_change,
            gaze_interval_s=config.gaze_interval_s,
            room_scan_interval_s=config.room_scan_interval_s,
        ),
    )
    supervisors.append(supervisor)
    # attempt, published (monotonic), type, published - the violation's start - hold (s)
    alerts: list[tuple[int, float, str, float]] = []
    subscription = supervisor.bus.subscribe([teachers_topic(a) for a in attempts])

    async def collect() -> None:
        while True:
            message = await subscription.next()
            if isinstance(message, ViolationEvent) and message.violation.ended_at is None:
                started = datetime.fromisoformat(message.violation.timestamp.replace("Z", "+00:00"))
                beyond = time.time() - started.timestamp() - HOLD_S
                violation = message.violation
                alerts.append((violation.attempt_id, time.monotonic(), violation.type, beyond))

    collector = asyncio.create_task(collect())
    loop = asyncio.get_running_loop()
    if config.gc_frozen:
        from protolearn.process_tuning import settle_garbage_collector

        settle_garbage_collector()
    conn.send(attempts)
    window: dict[str, float] = {}
    while True:
        request = await loop.run_in_executor(None, conn.recv)
        if request["op"] == "publish":
            answer = await unit.publish(str(request["attempt"]), request["sdp"])
            await supervisor.start(request["attempt"], analysis_fps=2.0)
            conn.send(answer)
        elif request["op"] == "start":
            window = {"cpu": time.process_time(), "wall": time.monotonic()}
            threads_before = thread_cpu_seconds()
            children_before = children_cpu_seconds()
            gc_seconds[0] = 0.0
            alerts.clear()
            conn.send("ok")
        elif request["op"] == "end":
            threads = thread_cpu_seconds()
            threads.subtract(threads_before)
            children = children_cpu_seconds() - children_before
            threads[ANALYSIS_PROCESSES] = children
            conn.send(
                {
                    "cpu_s": time.process_time() - window["cpu"] + children,
                    "wall_s": time.monotonic() - window["wall"],
                    "thread_cpu_s": {name: round(s, 3) for name, s in threads.items() if s > 0},
                    "gc_s": round(gc_seconds[0], 3),
                    "alerts": list(alerts),
                    "frames_analysed": sum(
                        (supervisor.report(a) or type("R", (), {"frames_analysed": 0})).frames_analysed
                        for a in attempts
                    ),
                    "room_scans": dict(batcher.stats.room_scans)
                    if (batcher := supervisor.pipeline.batcher)
                    else {},
                    "stills": batcher.stats.stills if batcher else 0,
                }
            )
        elif request["op"] == "stop":
            collector.cancel()
            await supervisor.close()
            await unit.close()
            await engine.dispose()
            conn.send("stopped")
            return


# --- load process --------------------------------------------------------------------------------


_load_audio_level: list[int | None] = [None]


def send_audio_levels(level: int | None) -> None:
    """Makes this process's aiortc senders put an RFC 6464 level in every pre-encoded Opus
    packet, as browsers do (aiortc writes one only for audio it encodes itself); None: none."""
    from aiortc import RTCRtpSender

    if _load_audio_level[0] is None and not hasattr(RTCRtpSender, "_without_level"):
        original = RTCRtpSender._next_encoded_frame

        async def with_level(self: RTCRtpSender, codec: Any) -> Any:
            frame = await original(self, codec)
            level = _load_audio_level[0]
            if frame is not None and level is not None and self.kind == "audio" and frame.audio_level is None:
                frame.audio_level = -level
            return frame

        RTCRtpSender._without_level = original  # type: ignore[attr-defined]
        RTCRtpSender._next_encoded_frame = with_level  # type: ignore[method-assign]
    _load_audio_level[0] = level


def profile(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes]:
    """py-spy sampling the server's threads and its child processes' for `seconds`, raw stacks
    written to output (each stack led by its process, then its parent's: "process PID:...")."""
    command = [
        str(Path(sys.executable).with_name("py-spy")),
        *("record", "--pid", str(pid), "--format", "raw", "--threads", "--nonblocking", "--subprocesses"),
        *("--rate", "100", "--duration", str(max(1, int(seconds))), "-o", str(output)),
    ]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603 (our own argv)


async def run(
    students: int,
    seconds: float,
    clip: Clip,
    config: ServerConfig | None = None,
    stacks: Path | None = None,
) -> dict[str, Any]:
    """One measurement; with stacks, py-spy samples the server over the window into that file."""
    from aiortc import RTCPeerConnection, RTCSessionDescription

    config = config or ServerConfig()
    send_audio_levels(AUDIO_LEVEL if config.header_levels else None)
    video, audio, loop_s, copy = clip
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    # Not a daemon: the server starts its analysis processes, as `protolearn serve` does.
    server = context.Process(target=server_main, args=(theirs, students, config))
    server.start()
    loop = asyncio.get_running_loop()

    async def ask(request: dict[str, Any]) -> Any:
        ours.send(request)
        return await loop.run_in_executor(None, ours.recv)

    attempts = await loop.run_in_executor(None, ours.recv)
    peers, starts = [], {}
    try:
        for attempt in attempts:
            peer = RTCPeerConnection()
            peers.append(peer)
            video_track, audio_track, *copy_track = pre_encoded_tracks(
                video[config.camera_kbps], audio[20], copy if config.analysis_copy else None
            )
            for track in (video_track, *copy_track, audio_track):  # the copy: the second video
                peer.addTrack(track)
            await peer.setLocalDescription(await peer.createOffer())
            answer = await ask({"op": "publish", "attempt": attempt, "sdp": peer.localDescription.sdp})
            ptime = answer_ptime(answer)  # the packets a browser then sends
            audio_track.use(audio[ptime], 1000 / ptime)
            await peer.setRemoteDescription(RTCSessionDescription(sdp=answer, type="answer"))
            starts[attempt] = video_track
        await asyncio.sleep(2.0)
        await ask({"op": "start"})
        load_cpu = time.process_time()
        profiler = None if stacks is None or server.pid is None else profile(server.pid, seconds, stacks)
        await asyncio.sleep(seconds)
        report = await ask({"op": "end"})
        load_cpu = time.process_time() - load_cpu
        if profiler is not None:
            await loop.run_in_executor(None, profiler.wait)
    finally:
        for peer in peers:
            await peer.close()
        ours.send({"op": "stop"})
        await loop.run_in_executor(None, ours.recv)
        server.join(timeout=20)

    latencies, false_alarms, late, after_start = [], 0, 0, []
    false_multiple = sum(kind == "multiple_faces" for _, _, kind, _ in report["alerts"])  # one person only
    for attempt, published, kind, beyond in report["alerts"]:
        track = starts[attempt]
        if kind != "no_face":
            continue
        # Where in the loop the violation began (its first frame seen empty), and when the
        # stream last switched to the empty room before that.
        began = published - beyond - HOLD_S
        since_empty = (began - track._start) % loop_s - PHASE_S
        if since_empty < 0:
            false_alarms += 1  # the absence it reports began while the face was on screen
            continue
        if (published - track._start) % loop_s < PHASE_S or published - began > loop_s:
            late += 1  # a real absence, reported after the face was back: latency past PHASE_S
        latencies.append((since_empty + (published - began) - HOLD_S) * 1000)
        after_start.append(beyond * 1000)
    # Of the latency: from the empty room's first frame to the first frame seen empty (the
    # violation's start), and from the end of the hold after it to the event.
    seen = [total - after for total, after in zip(latencies, after_start, strict=True)]
    cycles = students * int(seconds // loop_s)
    return {
        "students": students,
        "alerts": len(latencies),
        "expected_alerts_about": cycles,
        "latency_beyond_hold_ms_p50": round(statistics.median(latencies), 1) if latencies else None,
        "latency_beyond_hold_ms_p95": round(_percentile(latencies, 95), 1) if latencies else None,
        "seen_empty_ms_p50": round(statistics.median(seen), 1) if seen else None,
        "seen_empty_ms_p95": round(_percentile(seen, 95), 1) if seen else None,
        "hold_to_event_ms_p50": round(statistics.median(after_start), 1) if after_start else None,
        "hold_to_event_ms_p95": round(_percentile(after_start, 95), 1) if after_start else None,
        "false_no_face": false_alarms,
        # Real absences whose alert came after the face was back (overload): counted as false
        # before this column, by when the alert came rather than when its absence began.
        "late_no_face": late,
        "false_multiple_faces": false_multiple,
        "cpu_ms_per_student_second": round(1000 * report["cpu_s"] / (students * report["wall_s"]), 1),
        "frames_analysed_per_student_second": round(
            report["frames_analysed"] / (students * (report["wall_s"] + 2)), 2
        ),
        # Of them, an empty room's unchanged pictures, whose last finding stood (no model ran).
        "still_frames_per_student_second": round(report["stills"] / (students * (report["wall_s"] + 2)), 2),
        # Room scans per student-second, by why (counted from start-up: the window's share).
        "room_scans_per_student_second": {
            why: round(count / (students * (report["wall_s"] + 2)), 3)
            for why, count in report["room_scans"].items()
        },
        "thread_cpu_s": report["thread_cpu_s"],
        # The load's own cores: with the server's, more than the machine's means a starved server.
        "load_cores": round(load_cpu / report["wall_s"], 2),
        "server_cores": round(report["cpu_s"] / report["wall_s"], 2),
        "gc_cpu_s": report["gc_s"],
        "wall_s": round(report["wall_s"], 2),
    }


def run_load(work: Any) -> Any:
    """The load process on uvloop too: its publishers' packetizing and SRTP take less of the
    cores the server also needs."""
    import uvloop

    return uvloop.run(work)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", default="1,25")
    parser.add_argument("--seconds", type=float, default=40.0)
    parser.add_argument("--quick", action="store_true", help="1 and 3 students, 14 s")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    counts = [1, 3] if args.quick else [int(n) for n in args.students.split(",")]
    seconds = 14.0 if args.quick else args.seconds
    clip = scene_clip()
    rows = []
    columns = ("students", "alerts", "p50 ms", "p95 ms", "false nf", "false mf", "cpu ms/s", "fps/student")
    print(" ".join(f"{name:>10}" for name in columns))
    for students in counts:
        row = run_load(run(students, seconds, clip))
        rows.append(row)
        keys = (
            "students",
            "alerts",
            "latency_beyond_hold_ms_p50",
            "latency_beyond_hold_ms_p95",
            "false_no_face",
            "false_multiple_faces",
            "cpu_ms_per_student_second",
            "frames_analysed_per_student_second",
        )
        print(" ".join(f"{row[key]!s:>10}" for key in keys))
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(
        json.dumps(
            {
                "benchmark": "proctoring_latency",
                "quick": args.quick,
                "seconds": seconds,
                "scene": f"face {PHASE_S:g} s / empty room {PHASE_S:g} s, looped; analysis 2 fps",
                "latency": "violation event published - first empty-room frame sent - 3 s hold",
                "cpus": os.cpu_count(),
                "rows": rows,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {args.output}")


if __name__ == "__main__":
    main()
