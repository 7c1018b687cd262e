"""ProtoLearn installed as a wheel into a fresh environment and served from an unrelated folder.

The installed tests are slow by nature (marked ``slow``, still part of the normal suite): they
build a wheel of the project and install it, then start the real ``protolearn serve``. Nothing
is downloaded: the wheel is built with the dev environment's setuptools, installed without
dependencies, and the dev environment's installed dependencies are made visible to the fresh
one by a ``.pth`` line.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import sysconfig
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import msgspec
import pytest

from protolearn.config import Settings
from tests.support.server import running_server

ROOT = Path(__file__).resolve().parents[2]
# What a wheel is built from; the checkout's build/ and *.egg-info never leak into the wheel.
_SOURCES = ("pyproject.toml", "README.md", "src", "web", "models")
_NOT_SOURCES = shutil.ignore_patterns("__pycache__", "*.egg-info", "*.part")


@dataclass(frozen=True)
class Installed:
    venv: Path
    elsewhere: Path  # a folder that is not the checkout, for the working directory

    @property
    def python(self) -> Path:
        return self.venv / "bin" / "python"

    @property
    def protolearn(self) -> Path:
        return self.venv / "bin" / "protolearn"


def _run(args: list[str | Path], **kwargs: object) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(  # noqa: S603 - our own tools
        [str(arg) for arg in args], capture_output=True, text=True, timeout=300, check=False, **kwargs
    )
    assert result.returncode == 0, f"{args}: {result.stdout}\n{result.stderr}"
    return result


def _clean_env(**settings: str) -> dict[str, str]:
    """The caller's environment without any ProtoLearn setting or import path of the checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PROTOLEARN_") and k != "PYTHONPATH"}
    return env | {"PIP_DISABLE_PIP_VERSION_CHECK": "1", "PIP_NO_INDEX": "1"} | settings


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    source.mkdir()
    for name in _SOURCES:
        if (ROOT / name).is_dir():
            # Links kept as links: src/protolearn/web and models point into the copy.
            shutil.copytree(ROOT / name, source / name, symlinks=True, ignore=_NOT_SOURCES)
        else:
            shutil.copy2(ROOT / name, source / name)
    dist = work / "dist"
    env = _clean_env()
    _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", dist, source],
        env=env,
    )
    (wheel,) = dist.glob("protolearn-*.whl")

    venv = work / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv], env=env)
    # pip of the dev environment installs into the fresh one (which has no pip of its own).
    _run(
        [sys.executable, "-m", "pip", "--python", venv / "bin" / "python", "install", "--no-deps", wheel],
        env=env,
    )
    fresh_site = _run(
        [venv / "bin" / "python", "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], env=env
    ).stdout.strip()
    # A plain path line: the dev site-packages' own .pth files (the editable install's among
    # them) are not processed, so protolearn can only come from the fresh environment.
    (Path(fresh_site) / "protolearn_dev_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    elsewhere = work / "elsewhere"
    elsewhere.mkdir()
    return Installed(venv=venv, elsewhere=elsewhere)


@pytest.mark.slow
def test_the_installed_package_is_imported_with_its_pages_and_models(installed: Installed) -> None:
    probe = _run(
        [
            installed.python,
            "-c",
            "import protolearn, protolearn.config as c; s = c.Settings.from_env();"
            "print(protolearn.__file__); print(s.web_dir); print(s.models_dir)",
        ],
        cwd=installed.elsewhere,
        env=_clean_env(),
    )
    package, web_dir, models_dir = (Path(line) for line in probe.stdout.splitlines())
    assert package.is_relative_to(installed.venv)
    assert web_dir == package.parent / "web"
    assert models_dir == package.parent / "models"
    assert (web_dir / "live.js").read_bytes() == (ROOT / "web" / "live.js").read_bytes()
    assert (models_dir / "manifest.toml").read_bytes() == (ROOT / "models" / "manifest.toml").read_bytes()


@pytest.mark.slow
def test_protolearn_serve_from_another_folder(installed: Installed) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = _clean_env(PROTOLEARN_DATA_DIR=str(installed.elsewhere / "data"), PROTOLEARN_LOG_LEVEL="warning")
    server = subprocess.Popen(  # noqa: S603 - our own command
        [installed.protolearn, "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=installed.elsewhere,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        ready = _wait_until_ready(server, url)
        if ready is not None:
            health = httpx.get(f"{url}/healthz")
            page = httpx.get(f"{url}/web/live.js")
            home = httpx.get(f"{url}/student")
    finally:
        stderr = _stop(server)
    assert ready is not None, f"the server never answered (exit {server.returncode}): {stderr}"
    assert ready.status_code == 200, ready.text
    assert ready.json()["database"] == "ok"
    assert ready.json()["models"] == "ok"
    assert health.status_code == 200
    assert page.status_code == 200
    assert page.content == (ROOT / "web" / "live.js").read_bytes()
    assert home.status_code == 200
    assert home.content == (ROOT / "web" / "index.html").read_bytes()
    assert server.returncode == 0, stderr  # SIGINT: a clean shutdown
    assert "Traceback" not in stderr
    # Keys in the data dir, the default database relative to the working folder: nothing in the checkout.
    assert (installed.elsewhere / "data" / "jwt_private.pem").is_file()
    assert (installed.elsewhere / "var" / "protolearn.db").is_file()


def _wait_until_ready(server: subprocess.Popen[str], url: str) -> httpx.Response | None:
    deadline = time.monotonic() + 120
    while server.poll() is None and time.monotonic() < deadline:
        try:
            return httpx.get(f"{url}/readyz", timeout=10)
        except httpx.TransportError:
            time.sleep(0.2)
    return None


def _stop(server: subprocess.Popen[str]) -> str:
    """Stop the server as Ctrl-C does; its standard error."""
    if server.poll() is None:
        server.send_signal(signal.SIGINT)
    try:
        return server.communicate(timeout=30)[1]
    except subprocess.TimeoutExpired:
        server.kill()
        raise


@pytest.mark.slow
def test_serve_names_the_setting_when_the_models_are_not_there(installed: Installed, tmp_path: Path) -> None:
    result = subprocess.run(  # noqa: S603 - our own command
        [str(installed.protolearn), "serve", "--port", "0"],
        cwd=installed.elsewhere,
        env=_clean_env(PROTOLEARN_DATA_DIR=str(tmp_path / "data"), PROTOLEARN_MODELS_DIR=str(tmp_path)),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert f"PROTOLEARN_MODELS_DIR={tmp_path}" in result.stderr
    assert "is missing" in result.stderr
    assert "Traceback" not in result.stderr


async def test_pages_and_models_come_from_their_settings(settings: Settings, tmp_path: Path) -> None:
    pages = tmp_path / "pages"
    pages.mkdir()
    (pages / "hello.js").write_text("export const hello = 1;")
    (pages / "index.html").write_text("<p>hello</p>")
    moved = msgspec.structs.replace(settings, web_dir=pages, models_dir=tmp_path / "no-models")
    async with running_server(moved) as url, httpx.AsyncClient(base_url=url) as client:
        page = await client.get("/teacher")
        module = await client.get("/web/hello.js")
        ready = await client.get("/readyz")
        live = await client.get("/healthz")
    assert page.status_code == 200
    assert page.text == "<p>hello</p>"
    assert module.text == "export const hello = 1;"
    assert ready.status_code == 503
    assert ready.headers["content-type"].startswith("application/problem+json")
    assert "models unavailable" in ready.json()["detail"]
    assert "PROTOLEARN_MODELS_DIR" in ready.json()["detail"]
    checks = ready.json()["checks"]
    assert checks["database"] == "ok" and checks["models"].startswith("unavailable")
    assert live.status_code == 200
