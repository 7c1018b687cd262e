"""A PostgreSQL server of a test's own, made with `initdb` and driven with `pg_ctl` on a free
loopback port, so that a test can stop it and start it again as an outage or a failover does to
a production one (the machine's PostgreSQL, shared by the suite, is never touched).

    with Postgres(tmp_path / "pg") as postgres:
        url = postgres.url        # postgresql+asyncpg://postgres@127.0.0.1:PORT/postgres
        postgres.stop()           # every connection ends; new ones are refused
        postgres.start()          # the same data, on the same port

PostgreSQL refuses to run as root: there (a container), its files live in a folder of their own
owned by the `postgres` account (or `nobody`), since a root-owned test folder is closed to it.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from types import TracebackType

from tests.support.processes import free_port

__all__ = ("BINARIES", "Postgres", "postgres_missing")

BINARIES = ("initdb", "pg_ctl", "postgres")
# Only bounds for a server that never comes up or never goes down: pg_ctl -w waits for the fact.
_PG_CTL_TIMEOUT_S = 120


def postgres_missing() -> str | None:
    """Why no PostgreSQL of a test's own can be made here, or None where it can."""
    missing = [name for name in BINARIES if shutil.which(name) is None]
    if missing:
        return f"{', '.join(missing)} not on PATH: no PostgreSQL of the test's own"
    if os.geteuid() == 0 and _unprivileged_account() is None:
        return "running as root with no `postgres` or `nobody` account to run PostgreSQL as"
    return None


def _unprivileged_account() -> pwd.struct_passwd | None:
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            return pwd.getpwnam(name)
    return None


class Postgres:
    """One PostgreSQL cluster: made and started on entering, stopped (and its files removed where
    it made a folder of its own) on leaving. ``start``, ``stop`` and ``restart`` keep its data
    and its port."""

    def __init__(self, folder: Path, port: int | None = None) -> None:
        self.port = port or free_port()
        self._account = _unprivileged_account() if os.geteuid() == 0 else None
        self._own_folder: Path | None = None
        if self._account is not None:
            self._own_folder = Path(tempfile.mkdtemp(prefix="protolearn-pg-"))
            os.chown(self._own_folder, self._account.pw_uid, self._account.pw_gid)
            folder = self._own_folder
        else:
            folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder
        self.data = folder / "data"
        self.sockets = folder / "sockets"
        self.log = folder / "postgres.log"
        self.running = False

    @property
    def url(self) -> str:
        """The URL of its `postgres` database, as PROTOLEARN_DATABASE_URL takes it."""
        return self.database_url("postgres")

    def database_url(self, name: str) -> str:
        return f"postgresql+asyncpg://postgres@127.0.0.1:{self.port}/{name}"

    def __enter__(self) -> Postgres:
        try:
            self._initdb()
            self.start()
        except BaseException:
            self._remove()
            raise
        return self

    def __exit__(
        self, _type: type[BaseException] | None, _value: BaseException | None, _tb: TracebackType | None
    ) -> None:
        try:
            if self.running:
                self.stop()
        finally:
            self._remove()

    def start(self) -> None:
        options = f"-p {self.port} -k {self.sockets} -c listen_addresses=127.0.0.1"
        self._pg_ctl("-o", options, "-l", str(self.log), "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        """``fast``: sessions are ended and the server shuts down cleanly (a restart, a
        switchover); ``immediate``: it quits at once and recovers from its WAL on the next start
        (a crash)."""
        self._pg_ctl("-m", mode, "stop")
        self.running = False

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def _initdb(self) -> None:
        self.sockets.mkdir(exist_ok=True)
        if self._account is not None:
            os.chown(self.sockets, self._account.pw_uid, self._account.pw_gid)
        self._run(["initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "-E", "UTF8"])

    def _pg_ctl(self, *args: str) -> None:
        self._run(["pg_ctl", "-D", str(self.data), "-w", "-t", str(_PG_CTL_TIMEOUT_S), *args])

    def _run(self, command: list[str]) -> None:
        done = subprocess.run(  # noqa: S603 - PostgreSQL's own tools, arguments of ours
            command,
            capture_output=True,
            text=True,
            check=False,
            cwd=self.folder,
            user=self._account.pw_uid if self._account else None,
            group=self._account.pw_gid if self._account else None,
            timeout=_PG_CTL_TIMEOUT_S + 30,
        )
        if done.returncode != 0:
            log = self.log.read_text(errors="replace")[-4000:] if self.log.exists() else ""
            raise RuntimeError(
                f"{command[0]} failed ({done.returncode}):\n{done.stdout}{done.stderr}\n{log}".rstrip()
            )

    def _remove(self) -> None:
        if self._own_folder is not None:
            shutil.rmtree(self._own_folder, ignore_errors=True)
