"""ProtoLearn served by `protolearn serve` in a process of its own, as an operator runs it: for
tests that read its log, run several nodes side by side, or kill one."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

__all__ = ("ServedNode", "base_env", "free_port", "served_node")

# Only a bound for a process that never comes up: the wait itself is for readiness.
START_BOUND_S = 120.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def base_env(data_dir: Path, database_url: str) -> dict[str, str]:
    """The environment of a server: this one's, with test-cheap password hashing, a data folder
    and a database of the test's own."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROTOLEARN_")}
    return env | {
        "PROTOLEARN_DATA_DIR": str(data_dir),
        "PROTOLEARN_DATABASE_URL": database_url,
        "PROTOLEARN_ARGON2_TIME_COST": "1",
        "PROTOLEARN_ARGON2_MEMORY_KIB": "1024",
        "PROTOLEARN_ARGON2_PARALLELISM": "1",
        "PROTOLEARN_REGISTER_MAX_PER_ADDRESS": "1000000",  # every user signs up from loopback
    }


@dataclass
class ServedNode:
    url: str
    process: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)  # its standard output so far

    def kill(self) -> None:
        """SIGKILL: no shutdown of any kind, as when a machine dies."""
        self.process.kill()
        self.process.wait(timeout=30)


@contextlib.contextmanager
def served_node(env: dict[str, str], port: int | None = None) -> Iterator[ServedNode]:
    """`protolearn serve` on a loopback port, ready (``/readyz`` answers 200) when yielded; its
    output is collected in ``lines``. Stopped with SIGINT at the end (unless killed before)."""
    port = port or free_port()
    process = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "-m", "protolearn", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    node = ServedNode(f"http://127.0.0.1:{port}", process)
    reader = threading.Thread(target=_collect, args=(process, node.lines), daemon=True)
    reader.start()
    try:
        _until_ready(node)
        yield node
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=30)
        reader.join(timeout=10)


def _collect(process: subprocess.Popen[str], lines: list[str]) -> None:
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line.rstrip("\n"))


def _until_ready(node: ServedNode) -> None:
    deadline = time.monotonic() + START_BOUND_S
    while True:
        if node.process.poll() is not None:
            raise RuntimeError("the server exited before it was ready:\n" + "\n".join(node.lines[-40:]))
        try:
            if httpx.get(f"{node.url}/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError("the server did not become ready:\n" + "\n".join(node.lines[-40:]))
        time.sleep(0.2)
