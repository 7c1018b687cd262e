"""A university exam session on one machine: N students starting a test and autosaving, open loop,
on PostgreSQL, while P of them are proctored live over WebRTC in the same server.

`python -m protolearn serve` runs in its own process on a fresh PostgreSQL database (created and
dropped here). Set-up, not measured: a teacher, a published 20-question test, N students signed
in, and the P proctored students' attempts started and publishing (pre-encoded VP8 640x480 15 fps
at the page's 600 kbit/s, its 320x240 copy, and Opus with RFC 6464 levels in the packets the
answer asks for, over the live channel, from a process of their own: monitor_load.py's
students). Then, measured, with a fixed arrival rate whatever the server's answers take (open
loop: a request is sent at its time even if earlier ones are still waiting, and its latency
counts from that time, so a slow server cannot slow its own load down):

- over the first --ramp seconds, the other students arrive one at a time at an even rate, each
  starting the attempt (POST /api/tests/{id}/start, which returns the questions) and reading it
  (GET /api/attempts/{id}), as the student page does;
- every student autosaves (PUT /api/attempts/{id}/answers, 1-3 answers) every 10 s from a
  moment of their own, until the end.

Per route: requests, errors (anything but 2xx, or no answer), p50/p95/p99/max; the steady
phase's autosave separately; the server's CPU. With --before REV, the same run first measures the
server as it was at git revision REV (checked out in a scratch worktree, run from its own
sources with this environment's packages), so the JSON holds before and after measured together.
Writes benchmarks/results/class_load.json.

    python benchmarks/class_load.py [--students 2000] [--proctored 25] [--ramp 60] [--steady 60]
                                    [--nodes 1] [--before REV] [--database-url postgresql+asyncpg://...]

With --nodes N above 1, N nodes of one deployment run on this machine over Redis (127.0.0.1:6379),
the test's live media pinned to the first, the load's students spread over all (class Cluster).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import httpx
import psutil

from autosave_latency import sign_in
from lean_http import LeanClient, RequestFailed
from monitor_load import students_main
from proctoring_latency import AUDIO_LEVEL, send_audio_levels
from revisions import ROOT, export_revision
from web_page_load import free_port, wait_ready

RESULTS = Path(__file__).with_name("results") / "class_load.json"
REDIS_URL = "redis://127.0.0.1:6379/0"  # with --nodes above 1, the nodes' events go through it
SAVE_EVERY_S = 10.0
# The load's requests go out over CONNECTIONS keep-alive connections of a lean client
# (benchmarks/lean_http.py): httpx took about 2 ms of CPU a request, half a core of the two at
# 2,000 students, which the server under test then lacked.
CONNECTIONS = 512
TIMEOUT_S = 10.0  # a request unanswered this long is an error (a collapsing server ends in time)


def proctored_students(conn: Any, url: str, tokens: list[tuple[int, str]], copy: bool) -> None:
    """monitor_load.py's students, camera and microphone, with RFC 6464 levels as browsers send;
    with copy, the camera's copy for analysis beside it, as the page sends it since it does; the
    camera at the page's 600 kbit/s and the microphone in the packets the answer asks for."""
    send_audio_levels(AUDIO_LEVEL)
    students_main(conn, url, tokens, True, copy, as_the_page=True)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]


def _summary(latencies: list[float], errors: int) -> dict[str, Any]:
    if not latencies:
        return {"requests": 0, "errors": errors}
    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(statistics.median(latencies), 1),
        "p95_ms": round(_percentile(latencies, 95), 1),
        "p99_ms": round(_percentile(latencies, 99), 1),
        "max_ms": round(max(latencies), 1),
    }


class Recorder:
    def __init__(self) -> None:
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.failures: dict[str, int] = defaultdict(int)  # by status or exception type

    async def send(self, route: str, due: float, request: Any) -> tuple[Any, float | None]:
        """Sends at `due` (time.monotonic); the response (None: none came) and the latency
        from then (None: an error)."""
        await asyncio.sleep(max(0.0, due - time.monotonic()))
        try:
            response = await request()
        except RequestFailed as error:
            self.errors[route] += 1
            self.failures[str(error)] += 1
            return None, None
        latency = (time.monotonic() - due) * 1000
        self.latencies[route].append(latency)
        if not response.is_success:
            self.errors[route] += 1
            self.failures[str(response.status_code)] += 1
            return response, None
        return response, latency


async def _in_batches(work: list[Any], size: int) -> list[Any]:
    results: list[Any] = []
    for start in range(0, len(work), size):
        results += await asyncio.gather(*work[start : start + size])
    return results


async def _start(client: httpx.AsyncClient, test_id: int, headers: dict[str, str]) -> tuple[int, list[int]]:
    started = await client.post(f"/api/tests/{test_id}/start", headers=headers)
    started.raise_for_status()
    body = started.json()
    return body["attempt_id"], [q["id"] for q in body["questions"]]


async def _vision_counts(client: httpx.AsyncClient) -> Counter[str]:
    """The server's frames analysed and dropped (by reason) so far, from its /metrics."""
    from prometheus_client.parser import text_string_to_metric_families

    counts: Counter[str] = Counter()
    scrape = await client.get("/metrics")
    scrape.raise_for_status()
    for family in text_string_to_metric_families(scrape.text):
        for sample in family.samples:
            if sample.name == "protolearn_frames_analysed_total":
                counts["analysed"] += sample.value
            elif sample.name == "protolearn_frames_dropped_total":
                counts[f"dropped: {sample.labels['reason']}"] += sample.value
    return counts


def _cpu_seconds(server: psutil.Process) -> float:
    """The server's CPU so far, its vision analysis processes' included."""
    total = 0.0
    for process in (server, *server.children(recursive=True)):
        with contextlib.suppress(psutil.Error):
            times = process.cpu_times()
            total += times.user + times.system
    return total


class Cluster:
    """`protolearn serve` nodes of one deployment on this machine. The first starts alone: the
    set-up and the proctored students' live media meet there (the test is pinned to it, as the
    only node live when its class connects). The others start after, with their own data
    folders, sharing its database, its key pair and, over Redis, its events, as the nodes of
    the Production section do; the load's requests are spread over all, as a load balancer
    would (with api_apart, over all but the first, the others run with PROTOLEARN_NODE_MEDIA
    false)."""

    def __init__(
        self, source: Path, env: dict[str, str], scratch: Path, nodes: int, api_apart: bool = False
    ) -> None:
        self.source, self.env, self.scratch, self.nodes = source, env, scratch, nodes
        self.api_apart = api_apart
        self.urls: list[str] = []
        self.processes: list[subprocess.Popen[bytes]] = []

    async def start(self, count: int) -> None:
        for _ in range(count):
            index, port = len(self.urls), free_port()
            url = f"http://127.0.0.1:{port}"
            env = self.env | {"PROTOLEARN_PORT": str(port), "PROTOLEARN_DATA_DIR": str(self.folder(index))}
            if self.nodes > 1:
                env |= {
                    "PROTOLEARN_REDIS_URL": REDIS_URL,
                    "PROTOLEARN_REDIS_PREFIX": f"class-load-{os.getpid()}",
                    "PROTOLEARN_NODE_ID": f"node-{index}",
                    "PROTOLEARN_NODE_URL": url,
                    # The first node's key pair (generated there on its first start).
                    "PROTOLEARN_JWT_PRIVATE_KEY_PATH": str(self.folder(0) / "jwt_private.pem"),
                    "PROTOLEARN_JWT_PUBLIC_KEY_PATH": str(self.folder(0) / "jwt_public.pem"),
                }
                if self.api_apart and index > 0:
                    env["PROTOLEARN_NODE_MEDIA"] = "false"  # the API's node: no test's media here
            command = [sys.executable, "-m", "protolearn", "serve"]
            self.processes.append(subprocess.Popen(command, env=env, cwd=self.source))  # noqa: ASYNC220, S603
            self.urls.append(url)
            await wait_ready(url)

    @property
    def api_urls(self) -> list[str]:
        """The nodes the load's requests go to: all, or with api_apart all but the media's."""
        return self.urls[1:] if self.api_apart else self.urls

    def folder(self, index: int) -> Path:
        return self.scratch / f"node-{index}"

    def cpu_seconds(self) -> float:
        return sum(_cpu_seconds(psutil.Process(process.pid)) for process in self.processes)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)


async def _measure(cluster: Cluster, args: argparse.Namespace, copy: bool) -> dict[str, Any]:
    url = cluster.urls[0]
    limits = httpx.Limits(max_connections=512, max_keepalive_connections=512)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as client:
        teacher = await sign_in(client, "teacher@class.test", "Teacher", "teacher")
        questions = [
            {"question_text": f"Question {i}", "question_type": "short_answer", "correct_answer": str(i)}
            for i in range(20)
        ]
        test = await client.post(
            "/api/tests",
            headers=teacher,
            json={"title": "Exam", "time_limit": 180, "is_published": True, "questions": questions},
        )
        test.raise_for_status()
        test_id = test.json()["id"]
        print(f"  signing in {args.students} students ...", flush=True)
        students = await _in_batches(
            [sign_in(client, f"s{n}@class.test", f"Student {n}", "student") for n in range(args.students)],
            16,
        )
        proctored = [
            (headers, *(await _start(client, test_id, headers))) for headers in students[: args.proctored]
        ]
        publisher = None
        if proctored:
            context = multiprocessing.get_context("spawn")
            ours, theirs = context.Pipe()
            tokens = [
                (attempt_id, headers["Authorization"].split()[1]) for headers, attempt_id, _ in proctored
            ]
            publisher = context.Process(
                target=proctored_students, args=(theirs, url, tokens, copy), daemon=True
            )
            publisher.start()
            await asyncio.get_running_loop().run_in_executor(None, ours.recv)  # all publishing
            await asyncio.sleep(3.0)  # the models loaded, every stream analysed
        await cluster.start(args.nodes - 1)
        print(f"  measuring {args.ramp + args.steady:g} s ...", flush=True)

        record = Recorder()
        rng = random.Random(7)
        began = time.monotonic()
        end = began + args.ramp + args.steady
        steady_from = began + args.ramp
        steady: list[float] = []
        steady_errors = [0]

        async def autosave(
            client: LeanClient,
            headers: dict[str, str],
            attempt_id: int,
            question_ids: list[int],
            first: float,
        ) -> None:
            saves = []
            due = first
            while due < end:
                answers = {
                    qid: str(rng.randint(0, 30)) for qid in rng.sample(question_ids, k=rng.randint(1, 3))
                }

                async def put(due: float = due, answers: dict[int, str] = answers) -> None:
                    _, latency = await record.send(
                        "autosave",
                        due,
                        lambda: client.put(
                            f"/api/attempts/{attempt_id}/answers", headers=headers, json={"answers": answers}
                        ),
                    )
                    if due >= steady_from:
                        if latency is None:
                            steady_errors[0] += 1
                        else:
                            steady.append(latency)

                saves.append(asyncio.create_task(put()))  # open loop: not waiting for the last one
                due += SAVE_EVERY_S
                await asyncio.sleep(max(0.0, due - time.monotonic() - 0.5))
            await asyncio.gather(*saves)

        async def arrive(client: LeanClient, headers: dict[str, str], due: float) -> None:
            started, ok = await record.send(
                "start", due, lambda: client.post(f"/api/tests/{test_id}/start", headers=headers)
            )
            if started is None or ok is None:
                return
            body = started.json()
            attempt_id, question_ids = body["attempt_id"], [q["id"] for q in body["questions"]]
            now = time.monotonic()
            await record.send(
                "read attempt", now, lambda: client.get(f"/api/attempts/{attempt_id}", headers=headers)
            )
            await autosave(client, headers, attempt_id, question_ids, now + rng.uniform(0, SAVE_EVERY_S))

        arriving = students[args.proctored :]
        gap = args.ramp / max(1, len(arriving))
        cpu = cluster.cpu_seconds()
        load_cpu = time.process_time()
        publisher_cpu = _cpu_seconds(psutil.Process(publisher.pid)) if publisher is not None else 0.0
        vision = await _vision_counts(client)
        leans = []
        api_nodes = cluster.api_urls  # with --api-apart, a balancer sending /api away from the media
        for node in api_nodes:
            host, port = node.removeprefix("http://").split(":")
            leans.append(LeanClient(host, int(port), CONNECTIONS // len(api_nodes), TIMEOUT_S))
        try:  # each student's requests to one node (a balancer's client affinity)
            tasks = [arrive(leans[n % len(leans)], h, began + n * gap) for n, h in enumerate(arriving)]
            tasks += [
                autosave(leans[n % len(leans)], h, a, q, began + rng.uniform(0, SAVE_EVERY_S))
                for n, (h, a, q) in enumerate(proctored)
            ]
            await asyncio.gather(*tasks)
        finally:
            for lean in leans:
                await lean.close()
        wall = time.monotonic() - began
        after = cluster.cpu_seconds()
        load_cpu = time.process_time() - load_cpu
        if publisher is not None:
            publisher_cpu = _cpu_seconds(psutil.Process(publisher.pid)) - publisher_cpu
        vision = await _vision_counts(client) - vision
        if publisher is not None:
            ours.send("stop")
            await asyncio.get_running_loop().run_in_executor(None, ours.recv)
            publisher.join(timeout=20)
    return {
        "routes": {
            route: _summary(record.latencies[route], record.errors[route])
            for route in ("start", "read attempt", "autosave")
        },
        "autosave_steady": _summary(steady, steady_errors[0]),
        "autosave_per_second_steady": round(len(arriving + proctored) / SAVE_EVERY_S, 1),
        "failures": dict(record.failures),
        "server_cores": round((after - cpu) / wall, 2),
        # Without proctored streams, the server's CPU is its requests': this much per request.
        "server_cpu_ms_per_request": round(
            (after - cpu) * 1000 / max(1, sum(map(len, record.latencies.values()))), 2
        ),
        # The machine's other cores go to the load itself: with the server's, about all of them
        # means the figures are of a machine out of CPU, not of the server alone.
        "load_cores": round(load_cpu / wall, 2),
        "publisher_cores": round(publisher_cpu / wall, 2),
        # Whether proctoring kept up beside the load: the analysis rate is 2 frames/s a student.
        "frames_analysed_per_proctored_student_second": round(
            vision["analysed"] / max(1, args.proctored) / wall, 2
        ),
        "frames_dropped": {reason: int(n) for reason, n in vision.items() if reason != "analysed"},
    }


async def _database(admin_url: str, name: str, create: bool) -> None:
    import asyncpg

    connection = await asyncpg.connect(admin_url)
    try:
        await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()


async def run_server(args: argparse.Namespace, source: Path, label: str) -> dict[str, Any]:
    name = f"protolearn_class_load_{os.getpid()}"
    base = args.database_url.rsplit("/", 1)[0]
    admin_url = base.replace("postgresql+asyncpg", "postgresql") + "/postgres"
    await _database(admin_url, name, create=True)
    with tempfile.TemporaryDirectory(prefix="class-load-") as scratch:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROTOLEARN_")} | {
            "PYTHONPATH": str(source / "src"),
            "PROTOLEARN_DATABASE_URL": f"{base}/{name}",
            "PROTOLEARN_LOG_LEVEL": "warning",
            "PROTOLEARN_REGISTER_MAX_PER_ADDRESS": "1000000",  # every student signs up from here
            "PROTOLEARN_ARGON2_TIME_COST": "1",  # sign-ins are set-up; autosave never hashes
            "PROTOLEARN_ARGON2_MEMORY_KIB": "8192",
        }
        cluster = Cluster(source, env, Path(scratch), args.nodes, args.api_apart)
        try:
            await cluster.start(1)
            print(f"{label}: {args.nodes} node(s) from {source}", flush=True)
            # The students publish as that revision's page does: with the copy for analysis or not.
            copy = "ANALYSIS_WIDTH" in (source / "web" / "live.js").read_text()
            result = await _measure(cluster, args, copy)
            result["analysis_copy"] = copy
        finally:
            cluster.stop()
            await _database(admin_url, name, create=False)
    print(json.dumps(result, indent=1), flush=True)
    return result


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=2000)
    parser.add_argument("--proctored", type=int, default=25)
    parser.add_argument("--ramp", type=float, default=60.0, help="seconds over which students arrive")
    parser.add_argument("--steady", type=float, default=60.0, help="seconds of autosave after the ramp")
    parser.add_argument("--before", help="a git revision to measure first, in the same run")
    parser.add_argument(
        "--nodes", type=int, default=1, help="server nodes on this machine (more than one: over Redis)"
    )
    parser.add_argument(
        "--api-apart",
        action="store_true",
        help="with --nodes above 1: the load's requests to the nodes other than the live media's",
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get(
            "PROTOLEARN_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
        ),
        help="a PostgreSQL server (its database is not used: one is created for the run)",
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    if args.api_apart and args.nodes < 2:
        parser.error("--api-apart needs --nodes 2 or more")
    results: dict[str, Any] = {
        "benchmark": "class_load",
        "students": args.students,
        "proctored": args.proctored,
        "nodes": args.nodes,
        "api_apart": args.api_apart,
        "ramp_s": args.ramp,
        "steady_s": args.steady,
        "save_every_s": SAVE_EVERY_S,
        "cpus": os.cpu_count(),
    }
    with tempfile.TemporaryDirectory(prefix="class-load-src-") as scratch:
        if args.before:
            before = export_revision(args.before, Path(scratch))
            results["before"] = {"revision": args.before, **await run_server(args, before, "before")}
        results["after"] = await run_server(args, ROOT, "after")
    steady = results["after"]["autosave_steady"]
    results["meets_target"] = bool(steady.get("p99_ms", 1e9) <= 50 and steady["errors"] == 0)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=2) + "\n")
    print(f"wrote {args.output}")


if __name__ == "__main__":
    import uvloop

    uvloop.run(main())  # the load's own event loop costs the shared machine less too
