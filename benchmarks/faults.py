"""Faults under load: a node killed, PostgreSQL restarted, Redis gone; nothing acknowledged lost.

Each scenario runs a class of N students, each autosaving one answer every ``--interval``
seconds over HTTP (a question of its own each time, so every acknowledged answer is a row of
its own), on a PostgreSQL of its own (tests/support/postgres.py) and ``protolearn serve``
processes (tests/support/processes.py), and injects one fault mid-way:

  A  the node is killed with SIGKILL and started again on the same port. An attempt whose
     deadline passes while it is down must be auto-submitted after the restart, and a student
     publishing over the live channel (aiortc) must reconnect, publish again and be proctored
     again (the node's ``protolearn_proctored_attempts`` back to 1).
  B  PostgreSQL is stopped for ``--db-down`` seconds and started again under the same node:
     requests during the outage answer 503 with Retry-After (none 500), and succeed after it
     without a restart of the node.
  C  two nodes share a Redis of the script's own, which is stopped for ``--redis-down``
     seconds: each node keeps serving its own requests (autosaves, logins) and names Redis as
     down on /readyz; when Redis is back, ``protolearn_redis_reachable`` returns to 1 on both and
     extra time given through one node reaches the student's live-channel socket on the other
     (``deadline-changed``) again.

For each it prints answers sent, acknowledged (200), found in the database afterwards (lost =
acknowledged - found), errors by status (or transport error) and the recovery times, and writes
``benchmarks/results/faults.json``.

    PYTHONPATH=. python benchmarks/faults.py [--students 20] [--interval 0.5] [--scenarios A B C]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.api import PASSWORD, Actor
from tests.support.live import live, publish_over
from tests.support.peers import FaceCamera, Tone
from tests.support.postgres import Postgres, postgres_missing
from tests.support.processes import ServedNode, base_env, free_port, served_node

from protolearn.accounts.tokens import load_or_create_key_pair
from protolearn.cluster.nodes import Node, rendezvous
from protolearn.store.database import create_engine

RESULTS = Path(__file__).with_name("results") / "faults.json"
QUESTIONS = 400  # per test: one per autosave of a student, for the longest scenario and more
BOUND_S = 120.0  # only for something that never happens (a node that never recovers)


# --- the class ---------------------------------------------------------------------------------


@dataclass
class Seat:
    """A student with an attempt in progress, talking to one node."""

    actor: Actor
    attempt_id: int
    questions: list[int]
    deadline: datetime


@dataclass
class Tally:
    """What the class sent and got back; outcomes are timed on the loop's clock."""

    sent: int = 0
    acknowledged: set[tuple[int, int, str]] = field(default_factory=set)
    outcomes: list[tuple[float, str]] = field(default_factory=list)  # (sent at, "200" | status | error)
    retry_after_missing: int = 0

    def errors(self) -> dict[str, int]:
        return dict(sorted(Counter(o for _, o in self.outcomes if o != "200").items()))

    def between(self, start: float, end: float) -> dict[str, int]:
        return dict(sorted(Counter(o for t, o in self.outcomes if start <= t < end).items()))

    def first_ok_after(self, moment: float) -> float | None:
        """Seconds from ``moment`` to the first acknowledged answer sent after it."""
        return next(
            (round(t - moment, 2) for t, o in sorted(self.outcomes) if t >= moment and o == "200"), None
        )


async def sign_up(client: httpx.AsyncClient, email: str, name: str, role: str) -> Actor:
    registered = await client.post(
        "/api/auth/register", json={"email": email, "password": PASSWORD, "name": name, "role": role}
    )
    assert registered.status_code == 201, registered.text
    return await sign_in(client, email)


async def sign_in(client: httpx.AsyncClient, email: str) -> Actor:
    login = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert login.status_code == 200, login.text
    body = login.json()
    return Actor(client, body["user"], body["access_token"], body["refresh_token"])


async def published_test(teacher: Actor, title: str, minutes: float, questions: int) -> dict[str, Any]:
    payload = {
        "title": title,
        "time_limit": minutes,
        "is_published": True,
        "questions": [
            {"question_text": f"Question {n}", "question_type": "short_answer", "correct_answer": str(n)}
            for n in range(questions)
        ],
    }
    created = await teacher.post("/api/tests", json=payload)
    assert created.status_code == 201, created.text
    return dict(created.json())


async def seated(client: httpx.AsyncClient, test_id: int, name: str) -> Seat:
    student = await sign_up(client, f"{name}@school.test", name.title(), "student")
    started = await student.post(f"/api/tests/{test_id}/start")
    assert started.status_code == 200, started.text
    body = started.json()
    questions = [q["id"] for q in body["questions"]]
    return Seat(student, body["attempt_id"], questions, datetime.fromisoformat(body["deadline"]))


async def autosaving(seat: Seat, tally: Tally, stop: asyncio.Event, interval: float) -> None:
    """One answer every ``interval`` s, each to a question of its own; no retries (a page would
    keep the answer and send it again: here each is counted once, as it went)."""
    loop = asyncio.get_running_loop()
    due = loop.time()
    for number, question in enumerate(seat.questions):
        if stop.is_set():
            return
        value = f"{seat.attempt_id}-{number}"
        sent_at = loop.time()
        tally.sent += 1
        try:
            response = await seat.actor.put(
                f"/api/attempts/{seat.attempt_id}/answers", json={"answers": {question: value}}
            )
        except httpx.TransportError as error:
            outcome = type(error).__name__
        else:
            outcome = str(response.status_code)
            if response.status_code == 200:
                tally.acknowledged.add((seat.attempt_id, question, value))
            elif response.status_code == 503 and "retry-after" not in response.headers:
                tally.retry_after_missing += 1
        tally.outcomes.append((sent_at, outcome))
        due += interval
        await asyncio.sleep(max(0.0, due - loop.time()))


@contextlib.asynccontextmanager
async def class_load(seats: list[Seat], interval: float) -> AsyncIterator[Tally]:
    tally, stop = Tally(), asyncio.Event()
    tasks = [asyncio.create_task(autosaving(seat, tally, stop, interval)) for seat in seats]
    try:
        yield tally
    finally:
        stop.set()
        await asyncio.gather(*tasks)


async def found_in_database(database_url: str, tally: Tally) -> dict[str, int]:
    """Acknowledged answers found as they were acknowledged, and rows stored whose answer was
    never acknowledged (committed, but the reply did not arrive: not a loss)."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(text("SELECT attempt_id, question_id, answer FROM answers"))
            stored = {(int(a), int(q), str(v)) for a, q, v in rows}
    finally:
        await engine.dispose()
    load_rows = {row for row in stored if row[2].startswith(f"{row[0]}-")}  # the load's values only
    found = len(tally.acknowledged & stored)
    return {
        "found": found,
        "lost": len(tally.acknowledged) - found,
        "stored_unacknowledged": len(load_rows - tally.acknowledged),
    }


def counts(tally: Tally) -> dict[str, Any]:
    return {"sent": tally.sent, "acknowledged": len(tally.acknowledged), "errors": tally.errors()}


# --- the processes -----------------------------------------------------------------------------


async def metric(node: ServedNode, name: str) -> float | None:
    try:
        async with httpx.AsyncClient(base_url=node.url, timeout=5) as http:
            body = (await http.get("/metrics")).text
    except httpx.TransportError:
        return None
    return sum(s.value for f in text_string_to_metric_families(body) if f.name == name for s in f.samples)


async def until_metric(node: ServedNode, name: str, wanted: float) -> float:
    """Seconds until the node's metric reads ``wanted``."""
    began = time.monotonic()
    while (seen := await metric(node, name)) != wanted:
        if time.monotonic() - began > BOUND_S:
            raise SystemExit(f"{node.url}: {name} is {seen}, not {wanted}, after {BOUND_S:.0f} s")
        await asyncio.sleep(0.1)
    return round(time.monotonic() - began, 2)


async def start_node(stack: ExitStack, env: dict[str, str], port: int) -> ServedNode:
    """`protolearn serve`, ready; its start (a blocking wait) runs off the loop, under load."""
    return await asyncio.to_thread(stack.enter_context, served_node(env, port))


def node_env(data_dir: Path, database_url: str) -> dict[str, str]:
    return base_env(data_dir, database_url) | {
        "PROTOLEARN_DEADLINE_GRACE_SECONDS": "1",
        "PROTOLEARN_DEADLINE_SWEEP_SECONDS": "2",
    }


def log_lines(node: ServedNode, since: int = 0) -> dict[str, Any]:
    lines = node.lines[since:]
    errors = [line.split(" ERROR ", 1)[1] for line in lines if " ERROR " in line]
    return {
        "database_unavailable_warnings": sum("database unavailable on" in line for line in lines),
        "error_lines": len(errors),
        "tracebacks": sum(line.startswith("Traceback") for line in lines),
        "errors_by_message": dict(Counter(line[:160] for line in errors)),
    }


@contextlib.contextmanager
def redis_server(folder: Path) -> Iterator[RedisProcess]:
    server = RedisProcess(folder, free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


@dataclass
class RedisProcess:
    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = [
            "redis-server", "--port", str(self.port), "--bind", "127.0.0.1",
            "--save", "", "--appendonly", "no", "--dir", str(self.folder),
        ]  # fmt: skip
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # noqa: S603
        began = time.monotonic()
        while True:
            try:
                with Redis.from_url(self.url, socket_connect_timeout=1) as client:
                    client.ping()
                return
            except (RedisError, OSError):
                if time.monotonic() - began > BOUND_S:
                    raise SystemExit("redis-server did not answer") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None


# --- A: a node killed --------------------------------------------------------------------------


async def scenario_a(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    with Postgres(scratch / "a-postgres") as postgres, ExitStack() as stack:
        port = free_port()
        env = node_env(scratch / "a-data", postgres.url)
        node = await start_node(stack, env, port)
        limits = httpx.Limits(max_connections=args.students + 10)
        async with (
            httpx.AsyncClient(base_url=node.url, timeout=10, limits=limits) as http,
            contextlib.AsyncExitStack() as first_socket,
        ):
            teacher = await sign_up(http, "teacher@school.test", "Teacher", "teacher")
            test = await published_test(teacher, "Under load", 60, QUESTIONS)
            seats = [await seated(http, test["id"], f"student{n}") for n in range(args.students)]
            watched = await seated(http, test["id"], "published")

            # Published and proctored before the fault.
            socket = await first_socket.enter_async_context(live(node.url, watched.actor))
            peer = await publish_over(socket, watched.attempt_id, FaceCamera(), Tone())
            proctored_before = await until_metric(node, "protolearn_proctored_attempts", 1)
            short = await published_test(teacher, "Short", args.short_minutes, 3)

            loop = asyncio.get_running_loop()
            live_result: dict[str, Any] = {"proctored_before_s": proctored_before}
            deadline_result: dict[str, Any] = {}
            async with class_load(seats, args.interval) as tally:
                # An attempt whose deadline (plus the node's 1 s grace) passes while it is down.
                expiring = await seated(http, short["id"], "expiring")
                saved = await expiring.actor.put(
                    f"/api/attempts/{expiring.attempt_id}/answers",
                    json={"answers": {expiring.questions[0]: "right or wrong"}},
                )
                assert saved.status_code == 200, saved.text
                await asyncio.sleep(args.before)
                killed_at = loop.time()
                node.kill()
                await peer.close()
                with contextlib.suppress(Exception):
                    await first_socket.aclose()
                closes_in = (expiring.deadline - datetime.now(UTC)).total_seconds() + 1
                deadline_result["passed_while_down_s_after_kill"] = round(closes_in, 2)
                await asyncio.sleep(max(args.node_down, closes_in + 1))
                restart_at = loop.time()
                node = await start_node(stack, env, port)
                ready_at = loop.time()

                # The deadline kept: auto-submitted by the restarted node's first sweep.
                while loop.time() - restart_at < BOUND_S:
                    rows = (await teacher.get(f"/api/results/{short['id']}")).json()
                    if rows and rows[0]["status"] != "in_progress":
                        deadline_result |= {
                            "status": rows[0]["status"],
                            "after_restart_s": round(loop.time() - restart_at, 2),
                        }
                        break
                    await asyncio.sleep(0.2)
                else:
                    deadline_result["status"] = "in_progress"

                # The page reconnects and publishes again.
                try:
                    async with live(node.url, watched.actor) as again:
                        peer = await publish_over(again, watched.attempt_id, FaceCamera(), Tone())
                        live_result["republished_after_restart_s"] = round(loop.time() - restart_at, 2)
                        await until_metric(node, "protolearn_proctored_attempts", 1)
                        live_result["proctored_again_after_restart_s"] = round(loop.time() - restart_at, 2)
                        await asyncio.sleep(args.after)
                        await peer.close()
                except (AssertionError, TimeoutError, OSError) as error:
                    live_result["failed"] = f"{type(error).__name__}: {error}"
                    await asyncio.sleep(args.after)
        database = await found_in_database(postgres.url, tally)
    return {
        **counts(tally),
        **database,
        "during_outage": tally.between(killed_at, ready_at),
        "after_restart": tally.between(ready_at, float("inf")),
        "node_down_s": round(restart_at - killed_at, 2),
        "restart_ready_s": round(ready_at - restart_at, 2),
        "recovery_s": tally.first_ok_after(killed_at),
        "first_ok_after_restart_s": tally.first_ok_after(restart_at),
        "deadline": deadline_result,
        "live": live_result,
    }


# --- B: PostgreSQL restarted -------------------------------------------------------------------


async def scenario_b(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    with Postgres(scratch / "b-postgres") as postgres, ExitStack() as stack:
        node = await start_node(stack, node_env(scratch / "b-data", postgres.url), free_port())
        limits = httpx.Limits(max_connections=args.students + 10)
        async with httpx.AsyncClient(base_url=node.url, timeout=10, limits=limits) as http:
            teacher = await sign_up(http, "teacher@school.test", "Teacher", "teacher")
            test = await published_test(teacher, "Under load", 60, QUESTIONS)
            seats = [await seated(http, test["id"], f"student{n}") for n in range(args.students)]
            async with class_load(seats, args.interval) as tally:
                await asyncio.sleep(args.before)
                loop = asyncio.get_running_loop()
                lines_before = len(node.lines)
                stopped_at = loop.time()
                await asyncio.to_thread(postgres.stop, args.pg_stop_mode)
                await asyncio.sleep(args.db_down / 2)
                ready = await http.get("/readyz")
                readyz_during = {"status": ready.status_code, "checks": ready.json().get("checks")}
                await asyncio.sleep(args.db_down / 2)
                started_at = loop.time()
                await asyncio.to_thread(postgres.start)
                back_at = loop.time()
                await asyncio.sleep(args.after)
                lines_outage = log_lines(node, lines_before)
            ready_after = (await http.get("/readyz")).status_code
            exited = node.process.poll() is not None  # the same process throughout, or dead
        database = await found_in_database(postgres.url, tally)
    return {
        **counts(tally),
        **database,
        "during_outage": tally.between(stopped_at, back_at),
        "after_outage": tally.between(back_at, float("inf")),
        "status_500": tally.errors().get("500", 0),
        "status_503_without_retry_after": tally.retry_after_missing,
        "database_down_s": round(back_at - stopped_at, 2),
        "postgres_start_s": round(back_at - started_at, 2),
        "recovery_s": tally.first_ok_after(back_at),
        "node_exited": exited,
        "readyz_during_outage": readyz_during,
        "readyz_after": ready_after,
        "node_log_from_outage_on": lines_outage,
    }


# --- C: Redis gone -----------------------------------------------------------------------------


async def scenario_c(args: argparse.Namespace, scratch: Path) -> dict[str, Any]:
    keys = scratch / "c-keys"
    keys.mkdir()
    private, public = keys / "private.pem", keys / "public.pem"
    load_or_create_key_pair(private, public)
    with (
        Postgres(scratch / "c-postgres") as postgres,
        redis_server(scratch) as redis,
        ExitStack() as stack,
    ):
        nodes: dict[str, ServedNode] = {}
        for name in ("node-a", "node-b"):
            port = free_port()
            env = node_env(scratch / "c-data", postgres.url) | {
                "PROTOLEARN_REDIS_URL": redis.url,
                "PROTOLEARN_REDIS_PREFIX": "faults",
                "PROTOLEARN_NODE_ID": name,
                "PROTOLEARN_NODE_URL": f"http://127.0.0.1:{port}",
                "PROTOLEARN_NODE_HEARTBEAT_SECONDS": "0.5",
                "PROTOLEARN_NODE_EXPIRY_SECONDS": "3",
                "PROTOLEARN_JWT_PRIVATE_KEY_PATH": str(private),
                "PROTOLEARN_JWT_PUBLIC_KEY_PATH": str(public),
            }
            nodes[name] = await start_node(stack, env, port)
        for node in nodes.values():
            await until_metric(node, "protolearn_live_nodes", 2)
        limits = httpx.Limits(max_connections=args.students + 10)
        clients = {
            name: httpx.AsyncClient(base_url=node.url, timeout=10, limits=limits)
            for name, node in nodes.items()
        }
        try:
            return await _redis_gone(args, postgres, redis, nodes, clients)
        finally:
            for client in clients.values():
                await client.aclose()


async def _redis_gone(
    args: argparse.Namespace,
    postgres: Postgres,
    redis: RedisProcess,
    nodes: dict[str, ServedNode],
    clients: dict[str, httpx.AsyncClient],
) -> dict[str, Any]:
    names = list(nodes)
    teacher = await sign_up(clients["node-a"], "teacher@school.test", "Teacher", "teacher")
    test = await published_test(teacher, "Under load", 60, QUESTIONS)
    seats = [await seated(clients[names[n % 2]], test["id"], f"student{n}") for n in range(args.students)]
    owner = rendezvous(f"test:{test['id']}", [Node(name, node.url) for name, node in nodes.items()])
    home, away = owner.id, next(name for name in names if name != owner.id)
    watched = await seated(clients[home], test["id"], "published")
    teacher_away = Actor(clients[away], teacher.user, teacher.access_token, teacher.refresh_token)
    loop = asyncio.get_running_loop()

    async with live(nodes[home].url, watched.actor) as socket:
        peer = await publish_over(socket, watched.attempt_id, FaceCamera(), Tone())
        changes: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        heard_minutes: list[int] = []  # every deadline-changed the socket got, in order

        async def listen() -> None:
            with contextlib.suppress(Exception):
                while True:
                    message = json.loads(await socket.recv())
                    if message["type"] == "deadline-changed":
                        heard_minutes.append(message.get("minutes"))
                        changes.put_nowait(message)

        async def extend_and_hear(minutes: int, within: float) -> tuple[int, bool]:
            extended = await teacher_away.post(
                f"/api/attempts/{watched.attempt_id}/extend", json={"minutes": minutes, "reason": "outage"}
            )
            deadline = loop.time() + within
            while (remaining := deadline - loop.time()) > 0:
                try:
                    heard = await asyncio.wait_for(changes.get(), timeout=remaining)
                except TimeoutError:
                    break
                if heard.get("minutes") == minutes:
                    return extended.status_code, True
            return extended.status_code, False

        listener = asyncio.create_task(listen())
        crossing_before = await extend_and_hear(1, 10)
        async with class_load(seats, args.interval) as tally:
            await asyncio.sleep(args.before)
            stopped_at = loop.time()
            lines_before = {name: len(node.lines) for name, node in nodes.items()}
            redis.stop()
            await asyncio.sleep(1)  # long enough for each node's next heartbeat to fail
            during: dict[str, Any] = {}
            for name in names:
                login = await clients[name].post(
                    "/api/auth/login", json={"email": seats[0].actor.email, "password": PASSWORD}
                )
                ready = await clients[name].get("/readyz")
                during[name] = {
                    "login": login.status_code,
                    "readyz": ready.status_code,
                    "readyz_checks": ready.json().get("checks"),
                    "redis_reachable": await metric(nodes[name], "protolearn_redis_reachable"),
                }
            crossing_during = await extend_and_hear(2, 2)
            await asyncio.sleep(max(0.0, args.redis_down - (loop.time() - stopped_at)))
            restarted_at = loop.time()
            await asyncio.to_thread(redis.start)
            back_at = loop.time()
            reachable_after = {
                name: await until_metric(node, "protolearn_redis_reachable", 1)
                for name, node in nodes.items()
            }
            crossing_after: tuple[int, bool] = (0, False)
            tries = 0
            while not crossing_after[1] and loop.time() - back_at < BOUND_S:
                tries += 1
                crossing_after = await extend_and_hear(2 + tries, 1.0)
            crossed_after = round(loop.time() - back_at, 2)
            readyz_after = {name: (await clients[name].get("/readyz")).status_code for name in names}
            await asyncio.sleep(args.after)
            logs = {name: log_lines(node, lines_before[name]) for name, node in nodes.items()}
        listener.cancel()
        await peer.close()
    database = await found_in_database(postgres.url, tally)
    return {
        **counts(tally),
        **database,
        "during_outage": tally.between(stopped_at, back_at),
        "after_outage": tally.between(back_at, float("inf")),
        "redis_down_s": round(back_at - stopped_at, 2),
        "redis_start_s": round(back_at - restarted_at, 2),
        "home_node": home,
        "during": during,
        "extend_through_other_node": {
            "before": {"status": crossing_before[0], "heard": crossing_before[1]},
            "during_outage": {"status": crossing_during[0], "heard": crossing_during[1]},
            "after": {"status": crossing_after[0], "heard": crossing_after[1], "tries": tries},
            # 1 before, 2 during the outage, 3 and on after it: what reached the socket, in order.
            "minutes_heard": heard_minutes,
        },
        "redis_reachable_again_s": reachable_after,
        "event_crosses_again_s": crossed_after,
        "readyz_after": readyz_after,
        "node_logs_from_outage_on": logs,
    }


# --- the report --------------------------------------------------------------------------------


SCENARIOS = {
    "A": ("node killed (SIGKILL) and restarted", scenario_a),
    "B": ("PostgreSQL restarted under load", scenario_b),
    "C": ("Redis gone, two nodes", scenario_c),
}


def print_scenario(key: str, title: str, result: dict[str, Any]) -> None:
    print(f"\n{key}. {title}")
    print(
        f"  answers sent {result['sent']}, acknowledged {result['acknowledged']}, "
        f"found {result['found']}, lost {result['lost']} "
        f"(stored but never acknowledged: {result['stored_unacknowledged']})"
    )
    print(f"  errors by status: {result['errors'] or 'none'}")
    print(f"  during the outage: {result['during_outage']}")
    for name, value in result.items():
        if name not in {"sent", "acknowledged", "found", "lost", "stored_unacknowledged", "errors"} | {
            "during_outage"
        }:
            print(f"  {name}: {value}")


async def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--interval", type=float, default=0.5, help="seconds between a student's autosaves")
    parser.add_argument("--before", type=float, default=5.0, help="seconds of load before the fault")
    parser.add_argument("--after", type=float, default=5.0, help="seconds of load after recovery")
    parser.add_argument("--node-down", type=float, default=3.0, help="A: least seconds the node stays down")
    parser.add_argument("--short-minutes", type=float, default=0.15, help="A: the expiring attempt's limit")
    parser.add_argument("--db-down", type=float, default=5.0, help="B: seconds PostgreSQL stays down")
    parser.add_argument("--pg-stop-mode", choices=["fast", "immediate"], default="fast")
    parser.add_argument("--redis-down", type=float, default=5.0, help="C: seconds Redis stays down")
    parser.add_argument("--scenarios", nargs="+", choices=sorted(SCENARIOS), default=sorted(SCENARIOS))
    args = parser.parse_args()
    if (why := postgres_missing()) is not None:
        raise SystemExit(why)
    if "C" in args.scenarios and shutil.which("redis-server") is None:
        raise SystemExit("redis-server is not on PATH (scenario C)")

    results: dict[str, Any] = {}
    for key in args.scenarios:
        title, run = SCENARIOS[key]
        with tempfile.TemporaryDirectory(prefix="protolearn-faults-") as scratch:
            result = await run(args, Path(scratch))
        results[key] = {"scenario": title, **result}
        print_scenario(key, title, result)

    output = {
        "benchmark": "faults",
        "students": args.students,
        "interval_s": args.interval,
        "before_s": args.before,
        "after_s": args.after,
        "pg_stop_mode": args.pg_stop_mode,
        "scenarios": results,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    existing = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    existing |= {k: v for k, v in output.items() if k != "scenarios"}
    existing["scenarios"] = existing.get("scenarios", {}) | results
    RESULTS.write_text(json.dumps(existing, indent=2) + "\n")


if __name__ == "__main__":
    asyncio.run(main())
