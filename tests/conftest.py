"""Databases for the whole suite: SQLite always, PostgreSQL too when PROTOLEARN_TEST_POSTGRES_URL is set.

Each backend is migrated once per run (SQLite: a template file copied per test; PostgreSQL: a
database of its own, truncated between tests and dropped at the end), so every test starts
from an empty, fully migrated schema.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import uuid
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from protolearn.accounts.tokens import load_or_create_key_pair
from protolearn.config import Settings
from protolearn.store import Base
from protolearn.store.database import create_engine
from protolearn.store.migrate import upgrade

logging.getLogger("httpx").setLevel(logging.WARNING)

POSTGRES_URL = os.environ.get("PROTOLEARN_TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgresql"] if POSTGRES_URL else ["sqlite"]


def _run_apart(coroutine: Coroutine[Any, Any, None]) -> None:
    """Run set-up coroutines on a thread of their own: they may be asked for inside a test's loop."""
    with ThreadPoolExecutor(max_workers=1) as executor:
        executor.submit(asyncio.run, coroutine).result()


async def _migrate(url: str) -> None:
    engine = create_engine(url)
    try:
        await upgrade(engine)
    finally:
        await engine.dispose()


async def _admin_execute(admin_url: str, statement: str) -> None:
    engine = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as connection:
            await connection.execute(text(statement))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    _run_apart(_migrate(f"sqlite+aiosqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    if not POSTGRES_URL:
        pytest.skip("PROTOLEARN_TEST_POSTGRES_URL is not set")
    admin_url = make_url(POSTGRES_URL)
    name = f"protolearn_test_{uuid.uuid4().hex[:12]}"
    _run_apart(_admin_execute(POSTGRES_URL, f'CREATE DATABASE "{name}"'))
    url = admin_url.set(database=name).render_as_string(hide_password=False)
    try:
        _run_apart(_migrate(url))
        yield url
    finally:
        _run_apart(_admin_execute(POSTGRES_URL, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def jwt_keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    folder = tmp_path_factory.mktemp("keys")
    private, public = folder / "private.pem", folder / "public.pem"
    load_or_create_key_pair(private, public)
    return private, public


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def database_url(backend: str, request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if backend == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        path = tmp_path / "protolearn.db"
        shutil.copyfile(template, path)
        return f"sqlite+aiosqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    engine = create_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await engine.dispose()
    return url


@pytest.fixture
def settings(database_url: str, tmp_path: Path, jwt_keys: tuple[Path, Path]) -> Settings:
    """Settings for one test: its own database and data dir, cheap Argon2, short deadline grace."""
    return Settings.from_env(
        {},
        database_url=database_url,
        data_dir=str(tmp_path / "var"),
        jwt_private_key_path=str(jwt_keys[0]),
        jwt_public_key_path=str(jwt_keys[1]),
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
        deadline_grace_seconds=1.0,
        deadline_sweep_seconds=2.0,
    )
