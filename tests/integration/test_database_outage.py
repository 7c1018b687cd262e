"""PostgreSQL going away (a restart, a failover) under a running server: requests answer 503
with Retry-After, not 500; when it is back the same requests succeed with no server restart, and
every answer acknowledged before is in the database. On a PostgreSQL of the test's own, which it
stops and starts (tests/support/postgres.py)."""

from __future__ import annotations

import contextlib
import logging
import socket
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from protolearn.api.errors import PROBLEM_JSON
from protolearn.config import Settings
from protolearn.store.database import create_engine
from protolearn.store.migrate import upgrade
from protolearn.store.outage import database_unreachable
from tests.support.api import Actor, Api, published_test, started_attempt
from tests.support.live import exchange, live
from tests.support.postgres import Postgres, postgres_missing
from tests.support.processes import free_port
from tests.support.server import running_server

pytestmark = pytest.mark.skipif(postgres_missing() is not None, reason=str(postgres_missing()))


@pytest.fixture
async def postgres(tmp_path: Path) -> AsyncIterator[Postgres]:
    """A migrated PostgreSQL of this test's own."""
    with Postgres(tmp_path / "postgres") as server:
        engine = create_engine(server.url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()
        yield server


@pytest.fixture
def settings(postgres: Postgres, tmp_path: Path, jwt_keys: tuple[Path, Path]) -> Settings:
    """The suite's settings (conftest.py), on this test's PostgreSQL: not one per backend."""
    return Settings.from_env(
        {},
        database_url=postgres.url,
        data_dir=str(tmp_path / "var"),
        jwt_private_key_path=str(jwt_keys[0]),
        jwt_public_key_path=str(jwt_keys[1]),
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        argon2_parallelism=1,
    )


async def saved_answers(database_url: str, attempt_id: int) -> dict[int, str]:
    """The attempt's answers as the database holds them, read apart from the server."""
    engine = create_engine(database_url)
    try:
        async with engine.connect() as connection:
            rows = await connection.execute(
                text("SELECT question_id, answer FROM answers WHERE attempt_id = :id"), {"id": attempt_id}
            )
            return {int(question): str(answer) for question, answer in rows}
    finally:
        await engine.dispose()


class Records(logging.Handler):
    """The app's log records, kept (the app's logging set-up replaces the root's handlers)."""

    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def app_log() -> Iterator[Records]:
    records, logger = Records(), logging.getLogger("protolearn")
    logger.addHandler(records)
    try:
        yield records
    finally:
        logger.removeHandler(records)


def assert_database_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert int(response.headers["retry-after"]) >= 1
    body = response.json()
    assert body["title"] == "Database unavailable"
    assert body["status"] == 503
    assert body["code"] == "DatabaseUnavailable"
    assert "try again" in body["detail"]
    assert body["instance"] == response.request.url.path


async def test_an_outage_answers_503_and_the_server_recovers_without_a_restart(
    postgres: Postgres, settings: Settings
) -> None:
    async with running_server(settings) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        api = Api(http, settings)
        teacher, student = await api.user("teacher"), await api.user("student")
        test = await published_test(teacher)
        attempt = await started_attempt(student, test["id"])
        attempt_id = attempt["attempt_id"]
        first, second, third = (question["id"] for question in attempt["questions"])

        async def autosave(who: Actor, answers: dict[int, str]) -> httpx.Response:
            return await who.put(f"/api/attempts/{attempt_id}/answers", json={"answers": answers})

        acknowledged: dict[int, str] = {}
        for answers in ({first: "Lyon", second: "true"}, {first: "Paris"}):
            saved = await autosave(student, answers)
            assert saved.status_code == 200, saved.text
            acknowledged |= answers

        warn = {"type": "warn", "attempt_id": attempt_id, "message": "eyes on the screen"}
        async with live(url, teacher) as teacher_socket:
            postgres.stop()
            # The live channel says so too, and stays open: the page sends it again later.
            [unavailable] = await exchange(teacher_socket, warn)
            assert (unavailable["type"], unavailable["status"], unavailable["code"]) == (
                "error",
                503,
                "DatabaseUnavailable",
            )
            assert unavailable["in_reply_to"] == "warn"
            postgres.start()
            [sent] = await exchange(teacher_socket, warn)
            assert sent["type"] == "warning-sent"
            postgres.stop()
        with app_log() as log:
            refused = [
                await autosave(student, {third: "Au"}),
                await student.get(f"/api/attempts/{attempt_id}"),
                await autosave(student, {third: "Au"}),  # again: the pool has nothing to hand out
            ]
        for response in refused:
            assert_database_unavailable(response)
        # One warning line per refused request, and no traceback: an outage is not a bug.
        outage_lines = [r for r in log.records if r.getMessage().startswith("database unavailable")]
        assert len(outage_lines) == len(refused)
        assert all(r.levelno == logging.WARNING and r.exc_info is None for r in outage_lines)
        requests_failing = [r for r in log.records if r.name.startswith("protolearn.api")]
        assert not [r.getMessage() for r in requests_failing if r.levelno >= logging.ERROR]

        postgres.start()
        saved = await autosave(student, {third: "Au"})
        assert saved.status_code == 200, saved.text
        acknowledged[third] = "Au"
        detail = await student.get(f"/api/attempts/{attempt_id}")
        assert detail.status_code == 200, detail.text
        assert detail.json()["status"] == "in_progress"

    assert await saved_answers(postgres.url, attempt_id) == acknowledged


async def test_errors_of_the_app_itself_are_not_taken_for_an_outage(tmp_path: Path) -> None:
    # A missing file, and a refused connection that is no database's: 500s, still.
    with pytest.raises(FileNotFoundError) as missing:
        (tmp_path / "no-such-clip.webm").read_bytes()
    assert not database_unreachable(missing.value)
    with socket.socket() as probe, pytest.raises(ConnectionRefusedError) as refused:
        probe.connect(("127.0.0.1", free_port()))
    assert not database_unreachable(refused.value)

    # The same refusal met by the driver, connecting to a PostgreSQL that is not there, is one.
    engine = create_engine(f"postgresql+asyncpg://postgres@127.0.0.1:{free_port()}/postgres")
    try:
        with pytest.raises(ConnectionRefusedError) as down:
            async with engine.connect():
                pass
    finally:
        await engine.dispose()
    assert database_unreachable(down.value)
