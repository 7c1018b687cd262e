"""The browser app is served at / with history-mode routes, its vendored files verified and cached
for good, its page under a Content-Security-Policy; the API, live channel and schema untouched."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("path", ["/", "/login", "/student/tests/3/take", "/teacher/tests/12/results"])
async def test_every_app_route_answers_with_the_page(client: httpx.AsyncClient, path: str) -> None:
    page = await client.get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<script type="module" src="/web/main.js">' in page.text
    assert page.headers["cache-control"] == "no-cache"


async def test_the_page_policy_allows_its_import_map_and_nothing_inline(client: httpx.AsyncClient) -> None:
    page = await client.get("/")
    policy = page.headers["content-security-policy"]
    import_map = re.search(r'<script type="importmap">(.*?)</script>', page.text, re.DOTALL)
    assert import_map is not None
    digest = base64.b64encode(hashlib.sha256(import_map.group(1).encode()).digest()).decode()
    script_src = next(part for part in policy.split("; ") if part.startswith("script-src"))
    assert f"'sha256-{digest}'" in script_src
    assert "'unsafe-inline'" not in script_src
    assert "frame-ancestors 'none'" in policy
    assert "connect-src 'self';" in policy  # the live channel's own host only
    for target in json.loads(import_map.group(1))["imports"].values():
        module = await client.get(target)
        assert module.status_code == 200, target
        assert "javascript" in module.headers["content-type"]
        assert "immutable" in module.headers["cache-control"]


@pytest.mark.parametrize("path", ["/api/nope", "/api", "/web/nothing.js", "/healthz/x", "/ws/nope"])
async def test_unknown_api_and_file_paths_are_404_not_the_page(client: httpx.AsyncClient, path: str) -> None:
    answer = await client.get(path)
    assert answer.status_code == 404
    assert answer.headers["content-type"] == "application/problem+json"


async def test_api_schema_and_app_modules_are_untouched(client: httpx.AsyncClient) -> None:
    assert (await client.get("/api/tests")).status_code == 401
    schema = (await client.get("/schema/openapi.json")).json()
    assert all(path.startswith("/api") for path in schema["paths"] if path not in {"/healthz", "/readyz"})
    module = await client.get("/web/main.js")
    assert module.status_code == 200 and module.headers["cache-control"] == "no-cache"
    assert module.headers["x-content-type-options"] == "nosniff"
    bare = await client.get("/web/index.html")  # the page's file, outside its route: runs nothing
    assert bare.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"
    assert "javascript" in module.headers["content-type"]


def test_vendored_files_match_their_manifest() -> None:
    done = subprocess.run(  # noqa: S603 - our own script
        [sys.executable, str(ROOT / "scripts" / "vendor_web.py"), "--check"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    manifest = json.loads((ROOT / "web" / "vendor" / "manifest.json").read_text())
    names = {package["name"]: package for package in manifest["packages"]}
    assert set(names) == {"vue", "pinia", "vue-router", "katex"}
    page = (ROOT / "web" / "index.html").read_text()
    for package in names.values():
        # Vue's, Pinia's and Vue Router's browser builds; KaTeX ships its ES module as such.
        assert package["file"].endswith(".esm-browser.prod.js" if package["name"] != "katex" else ".mjs")
        assert f"/web/vendor/{package['file']}" in page  # the import map names the vendored file


async def test_the_app_goes_compressed_and_the_api_does_not(client: httpx.AsyncClient) -> None:
    gzip = {"Accept-Encoding": "gzip"}
    vendor = json.loads((ROOT / "web" / "vendor" / "manifest.json").read_text())["packages"][0]["file"]
    module = await client.get(f"/web/vendor/{vendor}", headers=gzip)
    assert module.headers["content-encoding"] == "gzip"
    assert module.content == (ROOT / "web" / "vendor" / vendor).read_bytes()  # httpx inflates it
    schema = await client.get("/schema/openapi.json", headers=gzip)
    assert schema.headers["content-encoding"] == "gzip"
    problem = await client.get("/api/tests", headers=gzip)
    assert "content-encoding" not in problem.headers
