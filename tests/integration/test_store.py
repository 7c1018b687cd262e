"""The schema: migrations match the models, constraints hold on both backends."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError, StatementError
from sqlalchemy.ext.asyncio import AsyncEngine

from protolearn.store import Base
from protolearn.store.database import create_engine, create_sessionmaker
from protolearn.store.migrate import current_revision, head_revision, upgrade
from protolearn.store.users import Role, User


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    yield engine
    await engine.dispose()


async def test_migrations_match_the_models(engine: AsyncEngine) -> None:
    assert await current_revision(engine) == head_revision()
    await upgrade(engine)  # a second run is a no-op
    async with engine.connect() as connection:
        differences = await connection.run_sync(
            lambda sync: compare_metadata(MigrationContext.configure(sync), Base.metadata)
        )
    assert differences == []


async def test_foreign_keys_are_enforced(engine: AsyncEngine) -> None:
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO tests (teacher_id, title, subject, description, time_limit,"
                    " passing_score, is_published, shuffle_questions, max_attempts, review_mode,"
                    " camera_required, microphone_required, analysis_fps, updated_at, created_at)"
                    " VALUES (424242, 'orphan', '', '', 10, 50, false, false, 1, 'score', true, true, 2,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )


async def test_check_constraints_hold(engine: AsyncEngine) -> None:
    with pytest.raises(IntegrityError):
        async with engine.begin() as connection:
            await connection.execute(
                text(
                    "INSERT INTO users (email, password_hash, name, role, is_active, tokens_valid_after,"
                    " updated_at, created_at) VALUES ('x@y.z', 'h', 'X', 'overlord', true,"
                    " CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
                )
            )


async def test_enum_columns_read_back_as_their_enums(engine: AsyncEngine) -> None:
    sessionmaker = create_sessionmaker(engine)
    async with sessionmaker() as session:
        session.add(User(email="enum@school.test", password_hash="h", name="E", role="teacher"))
        await session.commit()
    async with sessionmaker() as session:
        stored = await session.scalar(select(User).where(User.role == Role.TEACHER))
        assert stored is not None
        assert stored.role is Role.TEACHER  # the enum, though the column is text
        raw = await session.scalar(text("SELECT role FROM users WHERE email = 'enum@school.test'"))
        assert raw == "teacher"
        session.add(User(email="bad@school.test", password_hash="h", name="B", role="overlord"))
        with pytest.raises(StatementError, match="overlord"):
            await session.commit()
