"""Engine and session factory for SQLite (embedded default) and PostgreSQL (asyncpg)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import InvalidatePoolError
from sqlalchemy.ext.asyncio import (
    AsyncConnection,
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

__all__ = (
    "CONNECT_TIMEOUT_SECONDS",
    "PING_AFTER_IDLE_SECONDS",
    "create_engine",
    "create_sessionmaker",
    "lone_statement_connection",
)

CONNECT_TIMEOUT_SECONDS = 10.0
PING_AFTER_IDLE_SECONDS = 5.0  # a pooled connection idle longer is checked before use


def create_engine(database_url: str, **engine_kwargs: Any) -> AsyncEngine:
    """An async engine; on SQLite, foreign keys are enforced and writers wait instead of failing."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        # A host that stops answering (rather than refusing) costs a request 10 s, not asyncpg's 60.
        engine_kwargs.setdefault("connect_args", {"timeout": CONNECT_TIMEOUT_SECONDS})
        # Connections enough for a class's requests at once without opening and closing
        # overflow ones under a burst (a new connection is several round trips and a server
        # process: with 10 kept, 20 autosaves at once spent a twentieth of their CPU connecting).
        if "poolclass" not in engine_kwargs:
            engine_kwargs.setdefault("pool_size", 20)
            engine_kwargs.setdefault("max_overflow", 20)
        engine = create_async_engine(url, **engine_kwargs)
        _ping_when_idle(engine)
        return engine

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


def _ping_when_idle(engine: AsyncEngine) -> None:
    """A pooled connection idle for PING_AFTER_IDLE_SECONDS is checked before use, and replaced
    if the server dropped it (a restart, a failover, an idle timeout on the way). SQLAlchemy's
    pool_pre_ping checks every checkout, in three round trips on asyncpg (BEGIN, a query,
    ROLLBACK), twice per request (the account check and the handler): most of an autosave's
    round trips. A connection in use moments ago is used as it is; should the server have gone
    since, the request fails as an outage (503, Retry-After). Either way the pool drops every
    connection made before the failure."""

    @event.listens_for(engine.sync_engine, "checkin")
    def _idle(_dbapi_connection: Any, record: Any) -> None:
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _check(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.pop("idle_since", None)
        if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:  # the driver's own error types
            # The server went away (a restart, a failover): every connection made before now is
            # dropped, and the pool tries a new one for this checkout.
            raise InvalidatePoolError(f"a pooled connection was dropped: {error!r}") from error


def create_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


async def lone_statement_connection(session: AsyncSession) -> AsyncConnection:
    """The session's connection for one statement that is atomic by itself, outside a
    transaction block on PostgreSQL (autocommit): the statement alone is one round trip, where
    a transaction adds BEGIN and COMMIT (or ROLLBACK) round trips. The session must not have
    begun; end its use of the connection with ``session.rollback()`` or by closing it, after
    which it begins transactions as usual. On SQLite the session's own connection (its round
    trips are in process)."""
    if session.get_bind().dialect.name == "postgresql":
        return await session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
    return await session.connection()
