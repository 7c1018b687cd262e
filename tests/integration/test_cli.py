"""The ``protolearn`` command as an administrator runs it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx

from protolearn.demo import DEMO_ACCOUNTS


def _run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "protolearn", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROTOLEARN_")}
    env |= {
        "PROTOLEARN_DATA_DIR": str(tmp_path / "var"),
        "PROTOLEARN_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'var' / 'cli.db'}",
        "PROTOLEARN_ARGON2_TIME_COST": "1",
        "PROTOLEARN_ARGON2_MEMORY_KIB": "1024",
        "PROTOLEARN_ARGON2_PARALLELISM": "1",
    }
    return env


def test_migrate_users_create_and_seed_demo(tmp_path: Path) -> None:
    env = _env(tmp_path)
    migrated = _run(["migrate"], env)
    assert migrated.returncode == 0, migrated.stderr
    assert "up to date" in migrated.stdout

    created = _run(
        [
            "users",
            "create",
            "--email",
            "Boss@School.test",
            "--name",
            "Boss",
            "--role",
            "admin",
            "--password",
            "s3cret pass",
        ],
        env,
    )
    assert created.returncode == 0, created.stderr
    assert "created admin boss@school.test" in created.stdout
    again = _run(
        [
            "users",
            "create",
            "--email",
            "boss@school.test",
            "--name",
            "B",
            "--role",
            "admin",
            "--password",
            "s3cret pass",
        ],
        env,
    )
    assert again.returncode == 1 and "already exists" in again.stderr
    short = _run(
        ["users", "create", "--email", "c@school.test", "--name", "C", "--role", "admin", "--password", "x"],
        env,
    )
    assert short.returncode == 1 and "password" in short.stderr and "Traceback" not in short.stderr

    seeded = _run(["seed-demo"], env)
    assert seeded.returncode == 0, seeded.stderr
    assert all(account.email in seeded.stdout for account in DEMO_ACCOUNTS)
    assert "already present" in _run(["seed-demo"], env).stdout
    assert (tmp_path / "var" / "jwt_private.pem").stat().st_mode & 0o077 == 0  # the key is the owner's alone


def test_unknown_setting_is_a_clear_error(tmp_path: Path) -> None:
    result = _run(["migrate"], _env(tmp_path) | {"PROTOLEARN_DATABSE_URL": "typo"})
    assert result.returncode == 1
    assert "unknown setting PROTOLEARN_DATABSE_URL" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_answers_and_logs_in_the_demo_teacher(tmp_path: Path) -> None:
    env = _env(tmp_path) | {"PROTOLEARN_PORT": "0"}
    assert _run(["seed-demo"], env).returncode == 0
    with _free_port() as port:
        pass
    env["PROTOLEARN_PORT"] = str(port)
    server = subprocess.Popen(
        [sys.executable, "-m", "protolearn", "serve", "--host", "127.0.0.1"],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{url}/readyz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.2)
        teacher = DEMO_ACCOUNTS[0]
        login = httpx.post(
            f"{url}/api/auth/login", json={"email": teacher.email, "password": teacher.password}
        )
        assert login.status_code == 200
        tests = httpx.get(
            f"{url}/api/tests", headers={"Authorization": f"Bearer {login.json()['access_token']}"}
        )
        assert tests.json()["total"] == 1
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=15)


class _free_port:
    def __enter__(self) -> int:
        import socket

        self._socket = socket.socket()
        self._socket.bind(("127.0.0.1", 0))
        return int(self._socket.getsockname()[1])

    def __exit__(self, *exc: object) -> None:
        self._socket.close()
