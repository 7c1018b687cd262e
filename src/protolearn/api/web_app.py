"""Serving the browser app: ``web/`` under ``/web``, and its page at ``/`` and every route of it.

The app routes in the browser (history mode), so any path that is not the API, the live channel
or the OpenAPI document answers with ``web/index.html``: a deep link reloads to the same page.
The page carries a Content-Security-Policy naming the hash of its inline import map. Vendored
files have versioned names and are cached for good; the app's own modules are revalidated.
"""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path
from typing import Any

from litestar import Response, Router, get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.static_files import create_static_files_router

__all__ = ("web_app_routes",)

_IMPORT_MAP = re.compile(r'<script type="importmap">(.*?)</script>', re.DOTALL)
# Paths the page never answers for: a typo under /api is a JSON 404, not the app.
_NOT_THE_APP = re.compile(r"^(api|ws|schema|web|healthz|readyz|metrics)(/|$)")


class _IndexPage:
    """web/index.html and its security headers, read again only when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mtime: float | None = None
        self._body = b""
        self._headers: dict[str, str] = {}

    def response(self) -> Response[bytes]:
        mtime = self.path.stat().st_mtime
        if mtime != self._mtime:
            self._body = self.path.read_bytes()
            self._headers = _page_headers(self._body.decode())
            self._mtime = mtime
        return Response(self._body, media_type="text/html; charset=utf-8", headers=self._headers)


def _page_headers(page: str) -> dict[str, str]:
    scripts = ["'self'"]
    # Vue's browser build compiles the components' templates in the page (new Function).
    scripts.append("'unsafe-eval'")
    for import_map in _IMPORT_MAP.findall(page):
        digest = base64.b64encode(hashlib.sha256(import_map.encode()).digest()).decode()
        scripts.append(f"'sha256-{digest}'")
    policy = "; ".join(
        (
            "default-src 'self'",
            f"script-src {' '.join(scripts)}",
            "style-src 'self'",
            "img-src 'self' data: blob:",
            "media-src 'self' blob:",
            "connect-src 'self'",  # same-origin ws:/wss: included (CSP 3); no other host
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )
    return {
        "Content-Security-Policy": policy,
        "Cache-Control": "no-cache",
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "same-origin",
        "Permissions-Policy": "camera=(self), microphone=(self), display-capture=()",
    }


async def _static_headers(response: Response[Any]) -> Response[Any]:
    """A file under /web is never a page of its own (web/index.html opened there would run
    without the page's policy): nothing in it may run, frame or be sniffed as another type."""
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; frame-ancestors 'none'"
    return response


def web_app_routes(web_dir: Path) -> list[Router]:
    index = _IndexPage(web_dir / "index.html")

    @get("/", exclude_from_auth=True, include_in_schema=False, name="web-home")
    async def home() -> Response[bytes]:
        return index.response()

    @get("/{path:path}", exclude_from_auth=True, include_in_schema=False, name="web-page")
    async def page(path: FromPath[str]) -> Response[bytes]:
        if _NOT_THE_APP.match(path.lstrip("/")):
            raise NotFoundException(f"no such resource: /{path.lstrip('/')}")
        return index.response()

    return [
        Router(path="/", route_handlers=[home, page]),
        create_static_files_router(
            path="/web/vendor",
            directories=[web_dir / "vendor"],
            name="web-vendor",
            cache_control=CacheControlHeader(public=True, max_age=31_536_000, immutable=True),
            after_request=_static_headers,
            opt={"exclude_from_auth": True},
        ),
        create_static_files_router(
            path="/web",
            directories=[web_dir],
            name="web",
            cache_control=CacheControlHeader(no_cache=True),
            after_request=_static_headers,
            opt={"exclude_from_auth": True},
        ),
    ]
