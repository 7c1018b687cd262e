"""PostgreSQL connections in the pool: one that sat idle is checked before use and replaced if
the server dropped it; one in use moments ago is used as it is, without a round trip."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.pool import NullPool

from protolearn.store import database
from protolearn.store.database import create_engine


async def _backend_pid(engine: AsyncEngine) -> int:
    async with engine.connect() as connection:
        return int((await connection.execute(text("SELECT pg_backend_pid()"))).scalar_one())


async def _terminate(url: str, pid: int) -> None:
    killer = create_engine(url, poolclass=NullPool)
    try:
        async with killer.connect() as connection:
            await connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        await killer.dispose()


async def test_an_idle_connection_the_server_dropped_is_replaced_unseen(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(postgres_database, pool_size=1, max_overflow=0)
    try:
        first = await _backend_pid(engine)
        await _terminate(postgres_database, first)
        monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 0.0)  # it has been idle long enough
        second = await _backend_pid(engine)  # no error: the ping found it gone, the pool made a new one
        assert second != first
    finally:
        await engine.dispose()


async def test_a_connection_used_moments_ago_is_not_pinged(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    engine = create_engine(postgres_database, pool_size=1, max_overflow=0)
    try:
        first = await _backend_pid(engine)
        monkeypatch.setattr(database, "PING_AFTER_IDLE_SECONDS", 3600.0)
        assert await _backend_pid(engine) == first  # reused, unchecked
        await _terminate(postgres_database, first)
        # Dropped meanwhile: this request fails (an outage to the API: 503) ...
        with pytest.raises(DBAPIError):
            await _backend_pid(engine)
        # ... and the pool has let the dead connection go: the next one works.
        assert await _backend_pid(engine) != first
    finally:
        await engine.dispose()
