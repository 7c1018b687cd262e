"""One log line per request and per live-channel socket, with a request id.

Wraps the whole ASGI app (api/serving.py), so a request no route matched is logged too. The id
is the client's ``X-Request-ID`` when it is a plausible one (a proxy's), else a new one; it is
sent back in ``X-Request-ID`` and carried by every line logged while the request is handled
(protolearn.logs). The line has the path, never the query string: a live-channel URL carries
the access token there. Health checks and scrapes are logged at debug level only.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from litestar.enums import ScopeType
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from protolearn.logs import REQUEST_ID

__all__ = ("RequestLog",)

log = logging.getLogger("protolearn.requests")

_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
_LOGGED: frozenset[str] = frozenset({ScopeType.HTTP, ScopeType.WEBSOCKET})
_QUIET = frozenset({"/healthz", "/readyz", "/metrics"})


class RequestLog:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in _LOGGED:  # uvicorn's lifespan scope
            await self.app(scope, receive, send)
            return
        request_id = _client_id(scope) or uuid.uuid4().hex
        token = REQUEST_ID.set(request_id)
        started = time.perf_counter()
        outcome: dict[str, Any] = {"status": None}

        async def send_with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                outcome["status"] = message["status"]
                message["headers"] = [*message.get("headers", ()), (b"x-request-id", request_id.encode())]
            elif message["type"] == "websocket.accept":
                outcome["status"] = 101
            elif message["type"] == "websocket.close":
                outcome["close_code"] = message.get("code", 1000)
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._log(scope, outcome, (time.perf_counter() - started) * 1000)
            REQUEST_ID.reset(token)

    @staticmethod
    def _log(scope: Scope, outcome: dict[str, Any], duration_ms: float) -> None:
        path: str = scope["path"]
        http = scope["type"] == ScopeType.HTTP
        method = scope.get("method", "WS") if http else "WS"
        status = outcome["status"] or (500 if http else 0)
        principal = scope.get("user")
        fields: dict[str, Any] = {
            "event": "request",
            "method": method,
            "path": path,
            "route": scope.get("path_template"),
            "status": status,
            "duration_ms": round(duration_ms, 1),
        }
        if "close_code" in outcome:
            fields["close_code"] = outcome["close_code"]
        user_id = getattr(principal, "user_id", None)
        if user_id is not None:
            fields["user_id"] = user_id
        attempt_id = (scope.get("path_params") or {}).get("attempt_id")
        if attempt_id is not None:
            fields["attempt_id"] = attempt_id
        level = logging.DEBUG if path in _QUIET and status < 500 else logging.INFO
        log.log(level, "%s %s %s %.1f ms", method, path, status, duration_ms, extra=fields)


def _client_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            candidate = value.decode("latin-1")
            return candidate if _CLIENT_ID.match(candidate) else None
    return None
