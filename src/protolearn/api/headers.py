"""Security headers on every answer, whichever route, error handler or middleware wrote it (a
``before_send`` hook: it also sees the 401s, 404s and 405s raised before any route runs).

An answer that already names a header keeps its own (the web page's CSP and Referrer-Policy, a
clip's Cache-Control). API answers carry tokens and personal data: nothing may cache them, and
none of them is a document to frame or to run scripts in.
"""

from __future__ import annotations

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

__all__ = ("add_security_headers",)

_EVERYWHERE = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
_API = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
}


async def add_security_headers(message: Message, scope: Scope) -> None:
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    wanted = _EVERYWHERE | _API if scope["path"].startswith("/api/") else _EVERYWHERE
    for name, value in wanted.items():
        if name not in headers:
            headers[name] = value
