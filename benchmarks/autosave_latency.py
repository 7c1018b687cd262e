"""Autosave latency under a class of students saving answers at once.

Starts ``protolearn serve`` in its own process on a fresh database (SQLite by default, or the
PostgreSQL URL given), makes a teacher, a published test and N students with attempts in
progress, then has C students at a time save answers for D seconds. Prints p50/p90/p99 latency,
throughput and the server's CPU per request, and writes ``benchmarks/results/autosave.json``; with
``--before REV``, that git revision's server is measured first in the same run.

    python benchmarks/autosave_latency.py [--students 60] [--concurrency 20] [--seconds 15]
                                          [--database-url postgresql+asyncpg://...] [--before REV]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

from revisions import ROOT, export_revision

RESULTS = Path(__file__).with_name("results") / "autosave.json"
PASSWORD = "benchmark password"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def _wait_ready(url: str) -> None:
    async with httpx.AsyncClient() as client:
        for _ in range(300):
            try:
                if (await client.get(f"{url}/readyz")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit("server did not become ready")


async def sign_in(client: httpx.AsyncClient, email: str, name: str, role: str) -> dict[str, str]:
    await client.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, "name": name, "role": role}
    )
    login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    login.raise_for_status()
    return {"Authorization": f"Bearer {login.json()['access_token']}"}


async def _prepare(client: httpx.AsyncClient, students: int) -> list[tuple[dict[str, str], int, list[int]]]:
    teacher = await sign_in(client, "bench-teacher@school.test", "Bench Teacher", "teacher")
    questions = [
        {"question_text": f"Question {i}", "question_type": "short_answer", "correct_answer": str(i)}
        for i in range(20)
    ]
    test = await client.post(
        "/api/tests",
        headers=teacher,
        json={"title": "Benchmark", "time_limit": 120, "is_published": True, "questions": questions},
    )
    test.raise_for_status()
    sessions = []
    for n in range(students):
        headers = await sign_in(client, f"bench-student{n}@school.test", f"Student {n}", "student")
        started = await client.post(f"/api/tests/{test.json()['id']}/start", headers=headers)
        started.raise_for_status()
        body = started.json()
        sessions.append((headers, body["attempt_id"], [q["id"] for q in body["questions"]]))
    return sessions


async def _load(
    client: httpx.AsyncClient,
    sessions: list[tuple[dict[str, str], int, list[int]]],
    concurrency: int,
    seconds: float,
) -> tuple[list[float], int]:
    latencies: list[float] = []
    errors = 0
    queue: asyncio.Queue[tuple[dict[str, str], int, list[int]]] = asyncio.Queue()
    for session in sessions:
        queue.put_nowait(session)
    stop_at = time.perf_counter() + seconds
    rng = random.Random(7)

    async def student_loop() -> None:
        nonlocal errors
        while time.perf_counter() < stop_at:
            headers, attempt_id, question_ids = await queue.get()
            answers = {qid: str(rng.randint(0, 30)) for qid in rng.sample(question_ids, k=rng.randint(1, 3))}
            began = time.perf_counter()
            response = await client.put(
                f"/api/attempts/{attempt_id}/answers", headers=headers, json={"answers": answers}
            )
            latencies.append((time.perf_counter() - began) * 1000)
            errors += response.status_code != 200
            queue.put_nowait((headers, attempt_id, question_ids))

    await asyncio.gather(*(student_loop() for _ in range(concurrency)))
    return latencies, errors


async def measure(args: argparse.Namespace, source: Path) -> dict[str, Any]:
    """The server of the sources at `source` under the load: latency, throughput, its CPU."""
    with tempfile.TemporaryDirectory() as scratch:
        port = _free_port()
        database_url = args.database_url or f"sqlite+aiosqlite:///{scratch}/bench.db"
        env = {k: v for k, v in os.environ.items() if not k.startswith("PROTOLEARN_")} | {
            "PYTHONPATH": str(source / "src"),
            "PROTOLEARN_DATA_DIR": scratch,
            "PROTOLEARN_DATABASE_URL": database_url,
            "PROTOLEARN_PORT": str(port),
            "PROTOLEARN_LOG_LEVEL": "warning",
            "PROTOLEARN_REGISTER_MAX_PER_ADDRESS": "1000000",  # every student signs up from here
            # Cheap hashing only speeds up the set-up logins; autosave never hashes.
            "PROTOLEARN_ARGON2_TIME_COST": "1",
            "PROTOLEARN_ARGON2_MEMORY_KIB": "8192",
        }
        # Popen returns at once; the server is a separate process so the load is measured over real HTTP.
        server = subprocess.Popen([sys.executable, "-m", "protolearn", "serve"], env=env, cwd=source)  # noqa: ASYNC220
        try:
            url = f"http://127.0.0.1:{port}"
            await _wait_ready(url)
            limits = httpx.Limits(
                max_connections=args.concurrency, max_keepalive_connections=args.concurrency
            )
            async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as client:
                sessions = await _prepare(client, args.students)
                await _load(client, sessions, args.concurrency, 2)  # warm-up, not counted
                process = psutil.Process(server.pid)
                cpu = process.cpu_times()
                latencies, errors = await _load(client, sessions, args.concurrency, args.seconds)
                after = process.cpu_times()
        finally:
            server.terminate()
            server.wait(timeout=15)
    server_cpu_s = after.user + after.system - cpu.user - cpu.system
    return {
        "requests": len(latencies),
        "errors": errors,
        "throughput_rps": round(len(latencies) / args.seconds, 1),
        "latency_ms": {
            "p50": round(statistics.median(latencies), 2),
            "p90": round(_percentile(latencies, 0.90), 2),
            "p99": round(_percentile(latencies, 0.99), 2),
            "max": round(max(latencies), 2),
        },
        "server_cores": round(server_cpu_s / args.seconds, 2),
        "server_cpu_ms_per_request": round(1000 * server_cpu_s / max(1, len(latencies)), 2),
    }


def _print(label: str, row: dict[str, Any]) -> None:
    lat = row["latency_ms"]
    print(
        f"{label:>8} {row['requests']:>10} {row['errors']:>7} {row['throughput_rps']:>8} "
        f"{lat['p50']:>8} {lat['p90']:>8} {lat['p99']:>8} {lat['max']:>8} "
        f"{row['server_cpu_ms_per_request']:>8}"
    )


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--database-url", help="default: a fresh SQLite file")
    parser.add_argument("--before", help="a git revision whose server is measured first, in the same run")
    args = parser.parse_args()

    backend = "postgresql" if (args.database_url or "").startswith("postgresql") else "sqlite"
    result: dict[str, Any] = {
        "benchmark": "autosave_latency",
        "backend": backend,
        "students": args.students,
        "concurrency": args.concurrency,
        "seconds": args.seconds,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    with tempfile.TemporaryDirectory(prefix="autosave-src-") as scratch:
        if args.before:
            before = await measure(args, export_revision(args.before, Path(scratch)))
            result["before"] = {"revision": args.before, **before}
        result.update(await measure(args, ROOT))
    print(f"autosave, {backend}: {args.students} students, {args.concurrency} at once, {args.seconds:.0f} s")
    print(
        f"{'':>8} {'requests':>10} {'errors':>7} {'req/s':>8} {'p50 ms':>8} {'p90 ms':>8} {'p99 ms':>8} "
        f"{'max ms':>8} {'cpu ms':>8}"
    )
    if "before" in result:
        _print("before", result["before"])
    _print("after" if "before" in result else "", result)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing[backend] = result
    RESULTS.write_text(json.dumps(existing, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
