"""Alembic environment: runs on a connection handed in by ``store.migrate`` or on its own URL."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection

from protolearn.config import Settings
from protolearn.store import Base
from protolearn.store.database import create_engine

target_metadata = Base.metadata


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_with_own_engine(url: str) -> None:
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    url = context.config.get_main_option("sqlalchemy.url") or Settings.from_env().database_url
    asyncio.run(_run_with_own_engine(url))
