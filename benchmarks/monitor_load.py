"""The teacher's live monitor under load: Chromium's CPU and memory with 1, 10 and 25 students,
and the server's forwarding cost with the tiles out of view paused and not.

A real server (`python -m protolearn serve`, SQLite, the ONNX vision backend analysing every
stream at 1 fps) in a process of its own; a load process publishing N students over the live
channel (pre-encoded VP8 640x480 15 fps of a real face, sent as it is, so the load generator stays
cheap; video only unless --audio: the monitor's tiles are muted, and here the students, the server
and the browser share the machine's cores, which a real class does not); the teacher's monitor
page in Debian's Chromium. Per N, three phases of a fixed
window each, after a warm-up:

- `all in view`: a window tall enough for every tile (1366 wide), so every video plays;
- `laptop`: a 1366x768 window, as a teacher would have it; tiles out of view are paused;
- `no monitor`: the page closed, the students still publishing (the server's baseline).

Chromium's CPU (every process of the browser together, at nice 10 so that it cannot starve the
server here) and memory (the sum of proportional set
sizes, and the page's JS heap), the frames the page decoded per second, and the server's CPU with
the frames it forwarded and held back. The forwarding cost of a phase is its server CPU minus the
`no monitor` phase's. Prints a table, writes benchmarks/results/monitor_load.json.

    python benchmarks/monitor_load.py [--students 1,10,25] [--seconds 10] [--audio]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import httpx
import psutil

from relay_capacity import FPS, answer_ptime, encode_opus, encode_vp8, face_frames, pre_encoded_tracks
from web_page_load import free_port, wait_ready

RESULTS = Path(__file__).with_name("results") / "monitor_load.json"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "benchmark password"
MARK = "--protolearn-monitor-benchmark"  # finds this run's browser among the machine's processes
WARM_UP_S = 4.0
TILE_ROW_PX = 470  # a grid row at 1366 wide: four tiles of 4:3 video with their text

FRAMES = """() => [...document.querySelectorAll("video.monitor-tile__video")]
    .reduce((sum, video) => sum + video.getVideoPlaybackQuality().totalVideoFrames, 0)"""
PLAYING = """(count) => {
    const videos = [...document.querySelectorAll("video.monitor-tile__video")];
    return videos.length === count
        && videos.every((video) => video.getVideoPlaybackQuality().totalVideoFrames >= 5);
}"""
SHOWN = """() => [...document.querySelectorAll("article.monitor-tile")].map((tile) => [
    tile.querySelector("video").getVideoPlaybackQuality().totalVideoFrames,
    tile.innerText.replace(/\\s+/g, " "),
])"""
PAUSED = """() => [...document.querySelectorAll(".monitor-tile__placeholder")]
    .filter((label) => label.textContent.includes("Paused")).length"""


# --- the students (load process) ----------------------------------------------------------------


def students_main(
    conn: Connection,
    base_url: str,
    attempts: list[tuple[int, str]],
    audio: bool,
    copy: bool = False,
    as_the_page: bool = False,
) -> None:
    """Students publishing over the live channel (copy: with the page's copy for analysis;
    as_the_page: the camera at web/live.js's 600 kbit/s ceiling and the microphone in the
    packets the answer's a=ptime asks, as Chromium sends them, instead of 900 kbit/s and 20 ms)."""
    asyncio.run(_publish_all(conn, base_url, attempts, audio, copy, as_the_page))


async def _publish_all(
    conn: Connection,
    base_url: str,
    attempts: list[tuple[int, str]],
    audio: bool,
    copy: bool,
    as_the_page: bool,
) -> None:
    from aiortc import RTCPeerConnection, RTCSessionDescription
    from websockets.asyncio.client import connect

    frames = face_frames(FPS * 2)
    small = encode_vp8(frames[::2], gop=FPS, size=(320, 240), fps=FPS / 2, bit_rate=100_000)
    camera = encode_vp8(frames, gop=len(frames), bit_rate=600_000 if as_the_page else 900_000)
    media = (camera, encode_opus(), small if copy else None)
    microphones: dict[int, list[bytes]] = {20: media[1]}
    peers: list[Any] = []
    sockets: list[Any] = []
    readers: list[asyncio.Task[None]] = []

    async def drain(live: Any) -> None:
        async for _ in live:  # status and events the server sends a student
            pass

    for attempt_id, token in attempts:
        live = await connect(base_url.replace("http", "ws", 1) + f"/ws/proctor?token={token}")
        sockets.append(live)
        peer = RTCPeerConnection()
        peers.append(peer)
        video, microphone, *copies = pre_encoded_tracks(*media)
        for track in (video, *copies, microphone) if audio else (video, *copies):
            peer.addTrack(track)
        await peer.setLocalDescription(await peer.createOffer())
        offer = {"type": "webrtc-offer", "attempt_id": attempt_id, "sdp": peer.localDescription.sdp}
        await live.send(json.dumps(offer))
        while (reply := json.loads(await live.recv()))["type"] != "webrtc-answer":
            if reply["type"] == "error":
                raise SystemExit(f"the server refused a student's offer: {reply}")
        if as_the_page and audio:
            ptime = answer_ptime(reply["sdp"])
            if ptime not in microphones:
                microphones[ptime] = encode_opus(frame_ms=ptime)
            microphone.use(microphones[ptime], 1000 / ptime)
        await peer.setRemoteDescription(RTCSessionDescription(sdp=reply["sdp"], type="answer"))
        readers.append(asyncio.create_task(drain(live)))
    conn.send("publishing")
    await asyncio.get_running_loop().run_in_executor(None, conn.recv)  # until told to stop
    for peer in peers:
        await peer.close()
    for live in sockets:
        await live.close()
    for reader in readers:
        reader.cancel()
    conn.send("stopped")


# --- measuring ------------------------------------------------------------------------------------


def _browser_processes() -> list[psutil.Process]:
    for process in psutil.process_iter(["cmdline"]):
        if MARK in (process.info["cmdline"] or []):
            return [process, *process.children(recursive=True)]
    raise SystemExit("the benchmark's Chromium is not running")


def _yield_to_the_server() -> None:
    """Here the browser shares two cores with the server and the students: it runs at a lower
    priority, so a busy browser slows its own decoding (counted) rather than starving the server
    into losing streams. Its renderers start from the zygote, reniced with the rest."""
    for process in _browser_processes():
        with contextlib.suppress(psutil.NoSuchProcess):
            process.nice(10)


def _cpu_s(processes: list[psutil.Process]) -> float:
    total = 0.0
    for process in processes:
        try:
            times = process.cpu_times()
            total += times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return total


def _pss_mb(processes: list[psutil.Process]) -> float:
    total = 0
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            total += process.memory_full_info().pss
    return total / 2**20


async def _live_stats(admin: httpx.AsyncClient) -> dict[str, Any]:
    return dict((await admin.get("/api/admin/stats")).json()["live"])


async def _measure(
    seconds: float, server: psutil.Process, admin: httpx.AsyncClient, page: Any | None
) -> dict[str, Any]:
    browser = _browser_processes() if page is not None else []
    stats = await _live_stats(admin)
    frames = await page.evaluate(FRAMES) if page is not None else 0
    started = time.monotonic()
    server_cpu, browser_cpu = _cpu_s([server]), _cpu_s(browser)
    machine = psutil.cpu_times()
    await asyncio.sleep(seconds)
    wall = time.monotonic() - started
    server_cpu, browser_cpu = _cpu_s([server]) - server_cpu, _cpu_s(browser) - browser_cpu
    after = psutil.cpu_times()
    busy = sum(after) - after.idle - (sum(machine) - machine.idle)
    idle = after.idle - machine.idle
    end_stats = await _live_stats(admin)
    row: dict[str, Any] = {
        "server_cores": round(server_cpu / wall, 3),
        "frames_forwarded_per_s": round(
            (end_stats["frames_forwarded"] - stats["frames_forwarded"]) / wall, 1
        ),
        "frames_held_back_per_s": round(
            (end_stats["frames_held_back"] - stats["frames_held_back"]) / wall, 1
        ),
        "machine_busy": round(busy / (busy + idle), 3),
    }
    if page is not None:
        heap = await (await page.context.new_cdp_session(page)).send("Runtime.getHeapUsage")
        row |= {
            "browser_cores": round(browser_cpu / wall, 3),
            "browser_pss_mb": round(_pss_mb(_browser_processes()), 1),
            "page_js_heap_mb": round(heap["usedSize"] / 2**20, 1),
            "decoded_fps": round((await page.evaluate(FRAMES) - frames) / wall, 1),
            "tiles_paused": await page.evaluate(PAUSED),
        }
    return row


class ClassFailed(Exception):
    """The machine could not carry this class: recorded as the row's note, the run goes on."""


# --- one class size -------------------------------------------------------------------------------


async def _signed_in(url: str, email: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=url, timeout=30)
    login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    login.raise_for_status()
    client.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
    return client


async def _class_of(url: str, students: int, audio: bool) -> tuple[int, list[tuple[int, str]]]:
    """A teacher's published camera test, and `students` attempts in progress with their tokens."""
    async with httpx.AsyncClient(base_url=url, timeout=30) as client:
        for n in range(students + 1):
            role = "teacher" if n == 0 else "student"
            email = f"{role}{n}@bench.test"
            body = {"email": email, "password": PASSWORD, "name": f"Student {n:02d}", "role": role}
            (await client.post("/api/auth/register", json=body)).raise_for_status()
    teacher = await _signed_in(url, "teacher0@bench.test")
    question = {
        "question_text": "Capital of France?",
        "question_type": "mcq",
        "options": ["Paris", "Lyon"],
        "correct_answer": "Paris",
        "points": 1,
    }
    created = await teacher.post(
        "/api/tests",
        json={
            "title": "Monitor benchmark",
            "time_limit": 120,
            "questions": [question],
            "is_published": True,
            "proctoring": {"camera_required": True, "microphone_required": audio, "analysis_fps": 1.0},
        },
    )
    created.raise_for_status()
    await teacher.aclose()
    test_id = int(created.json()["id"])
    attempts = []
    for n in range(1, students + 1):
        student = await _signed_in(url, f"student{n}@bench.test")
        started = await student.post(f"/api/tests/{test_id}/start")
        started.raise_for_status()
        attempts.append((int(started.json()["attempt_id"]), str(student.headers["Authorization"][7:])))
        await student.aclose()
    return test_id, attempts


async def run_class(students: int, seconds: float, audio: bool) -> list[dict[str, Any]]:
    from playwright.async_api import async_playwright

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as data:
        env = {
            **os.environ,
            "PROTOLEARN_DATA_DIR": data,
            "PROTOLEARN_DATABASE_URL": f"sqlite+aiosqlite:///{data}/bench.db",
            "PROTOLEARN_LOG_LEVEL": "warning",
            "PROTOLEARN_REGISTER_MAX_PER_ADDRESS": "1000000",  # every student signs up from here
        }
        command = [sys.executable, "-m", "protolearn"]
        log = Path(data, "server.log").open("wb")  # noqa: ASYNC230, SIM115 - closed below
        server = subprocess.Popen(  # noqa: S603, ASYNC220 - our own command, started once per class
            [*command, "serve", "--host", "127.0.0.1", "--port", str(port)], env=env, stdout=log, stderr=log
        )
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        load = None
        try:
            await wait_ready(url)
            admin_account = ["--email", "admin@bench.test", "--name", "Admin", "--role", "admin"]
            subprocess.run(  # noqa: S603, ASYNC221 - our own command
                [*command, "users", "create", *admin_account, "--password", PASSWORD],
                env=env,
                check=True,
                capture_output=True,
            )
            admin = await _signed_in(url, "admin@bench.test")
            test_id, attempts = await _class_of(url, students, audio)
            load = context.Process(target=students_main, args=(theirs, url, attempts, audio), daemon=True)
            load.start()
            loop = asyncio.get_running_loop()
            assert await loop.run_in_executor(None, ours.recv) == "publishing"
            served = psutil.Process(server.pid)

            async with async_playwright() as playwright:
                browser = await playwright.chromium.launch(
                    executable_path=CHROMIUM,
                    args=["--no-sandbox", "--disable-gpu", "--no-first-run", MARK],
                )
                _yield_to_the_server()
                rows_of_tiles = -(-students // 4)
                tall = {"width": 1366, "height": 200 + TILE_ROW_PX * rows_of_tiles}
                page = await (await browser.new_context(viewport=tall)).new_page()
                await page.goto(f"{url}/login?next=/teacher/tests/{test_id}/live")
                await page.get_by_label("Email", exact=True).fill("teacher0@bench.test")
                await page.get_by_label("Password", exact=True).fill(PASSWORD)
                await page.get_by_role("button", name="Sign in").click()
                try:
                    await page.wait_for_function(PLAYING, arg=students, timeout=120_000, polling=500)
                except Exception:
                    shown = await page.evaluate(SHOWN)
                    raise ClassFailed(f"not every tile played within 2 minutes: {shown}") from None
                for phase, viewport in (("all in view", tall), ("laptop", {"width": 1366, "height": 768})):
                    await page.set_viewport_size(viewport)
                    await asyncio.sleep(WARM_UP_S)
                    row = await _measure(seconds, served, admin, page)
                    rows.append({"students": students, "phase": phase, **row})
                await browser.close()
            await asyncio.sleep(WARM_UP_S)
            rows.append(
                {"students": students, "phase": "no monitor", **await _measure(seconds, served, admin, None)}
            )
            await admin.aclose()
        finally:
            if load is not None:
                ours.send("stop")
                load.join(timeout=20)
            server.terminate()
            server.wait(timeout=30)
            log.close()
            if os.environ.get("MONITOR_LOAD_KEEP_LOG"):
                shutil.copy(log.name, os.environ["MONITOR_LOAD_KEEP_LOG"])
            if server.returncode not in (0, -15):
                print(f"the server exited with {server.returncode}; its log was {log.name}", file=sys.stderr)
    baseline = rows[-1]["server_cores"]
    for row in rows:
        row["forwarding_cores"] = round(row["server_cores"] - baseline, 3)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", default="1,10,25")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--audio", action="store_true", help="students publish Opus audio too")
    args = parser.parse_args()
    if CHROMIUM is None:
        raise SystemExit("needs Chromium: apt-get install -y chromium")
    rows = []
    failures = []
    for students in (int(n) for n in args.students.split(",")):
        try:
            rows += asyncio.run(run_class(students, args.seconds, args.audio))
        except ClassFailed as failure:
            failures.append({"students": students, "failure": str(failure)})
            print(f"{students} students: {failure}", file=sys.stderr)
    header = (
        f"{'students':>8} {'phase':<12} {'paused':>6} {'decoded/s':>9} {'browser cores':>13} "
        f"{'browser MB':>10} {'JS heap MB':>10} {'server cores':>12} {'forwarding':>10} "
        f"{'fwd/s':>7} {'held/s':>7} {'busy':>5}"
    )
    print(header)
    for row in rows:
        print(
            f"{row['students']:>8} {row['phase']:<12} {row.get('tiles_paused', ''):>6} "
            f"{row.get('decoded_fps', ''):>9} {row.get('browser_cores', ''):>13} "
            f"{row.get('browser_pss_mb', ''):>10} {row.get('page_js_heap_mb', ''):>10} "
            f"{row['server_cores']:>12} {row['forwarding_cores']:>10} {row['frames_forwarded_per_s']:>7} "
            f"{row['frames_held_back_per_s']:>7} {row['machine_busy']:>5}"
        )
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(
        json.dumps(
            {
                "benchmark": "monitor_load",
                "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
                "window_s": args.seconds,
                "media": f"VP8 640x480 {FPS} fps ~0.9 Mbps per student, pre-encoded"
                + (", + Opus 32 kbps" if args.audio else ", no audio"),
                "analysis_fps": 1.0,
                "forwarding_cores": "server cores of the phase minus those of the 'no monitor' phase",
                "rows": rows,
                "failures": failures,
            },
            indent=2,
        )
        + "\n"
    )
    print(f"wrote {RESULTS}")


if __name__ == "__main__":
    main()
