"""The machine's Redis, for tests of what several nodes share. Set PROTOLEARN_TEST_REDIS_URL to
use another; a test needing Redis skips where none answers, except where
PROTOLEARN_TEST_REQUIRE_REDIS=1 (CI), where it fails."""

from __future__ import annotations

import os

import pytest
from redis.asyncio import Redis
from redis.exceptions import RedisError

__all__ = ("REDIS_URL", "redis_or_skip")

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
