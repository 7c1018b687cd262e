"""The machine's Redis, for tests of what several nodes share. Set PROTOLEARN_TEST_REDIS_URL to
use another; a test needing Redis skips where none answers, except where
PROTOLEARN_TEST_REQUIRE_REDIS=1 (CI), where it fails."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

from tests.support.processes import free_port

__all__ = ("REDIS_URL", "OwnRedis", "own_redis", "redis_or_skip")

REDIS_URL = os.environ.get("PROTOLEARN_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


async def redis_or_skip() -> Redis:
    """A client of the test Redis, which answered a PING."""
    client = Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        await client.ping()
    except (RedisError, OSError) as error:
        await client.aclose()
        if os.environ.get("PROTOLEARN_TEST_REQUIRE_REDIS") == "1":
            pytest.fail(f"Redis at {REDIS_URL} is required here and does not answer: {error}")
        pytest.skip(f"no Redis at {REDIS_URL}: {error}")
    return client


class OwnRedis:
    """A redis-server of the test's own on a free port, to stop and start again (the machine's
    must stay up for everyone else)."""

    def __init__(self, folder: Path) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            pytest.skip("redis-server is not installed here")
        self._binary = binary
        self._folder = folder
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._folder.mkdir(parents=True, exist_ok=True)
        self._process = subprocess.Popen(  # noqa: S603 - the machine's redis-server
            [
                self._binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            cwd=self._folder,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                if time.monotonic() > deadline or self._process.poll() is not None:
                    raise RuntimeError(f"redis-server did not start on port {self.port}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            self._process.wait(timeout=10)
        self._process = None


@contextlib.contextmanager
def own_redis(folder: Path) -> Iterator[OwnRedis]:
    redis = OwnRedis(folder)
    redis.start()
    try:
        yield redis
    finally:
        redis.stop()
