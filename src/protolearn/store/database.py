"""Engine and session factory for SQLite (embedded default) and PostgreSQL (asyncpg)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

__all__ = ("CONNECT_TIMEOUT_SECONDS", "create_engine", "create_sessionmaker")

CONNECT_TIMEOUT_SECONDS = 10.0


def create_engine(database_url: str, **engine_kwargs: Any) -> AsyncEngine:
    """An async engine; on SQLite, foreign keys are enforced and writers wait instead of failing."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        engine_kwargs.setdefault("pool_pre_ping", True)  # a connection the server dropped is replaced
        # A host that stops answering (rather than refusing) costs a request 10 s, not asyncpg's 60.
        engine_kwargs.setdefault("connect_args", {"timeout": CONNECT_TIMEOUT_SECONDS})
        return create_async_engine(url, **engine_kwargs)

    if url.database and url.database != ":memory:":
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    # SQLite has one writer at a time. With several pooled connections, waiting writers sleep in
    # SQLite's busy handler (1-100 ms steps); one connection makes them queue in the async pool
    # instead and wake the moment it is free.
    engine_kwargs.setdefault("pool_size", 1)
    engine_kwargs.setdefault("max_overflow", 0)
    engine = create_async_engine(url, **engine_kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    return engine


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)
