"""Serving the app over HTTP: uvicorn's configuration, with deadlines for slow clients.

A client that opens a connection and trickles its request line and headers holds a socket and
a slot for as long as it likes; so does one that trickles a body. Here a connection has
``http_header_timeout_seconds`` to finish each request's head (from the connection or from its
first byte after a keep-alive pause), and a body may pause at most
``http_body_timeout_seconds`` between two chunks (a long upload on a slow link is fine; one that
stops is not). The first is cut at the protocol, the second answers 408.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import uvicorn
from litestar.enums import ScopeType
from litestar.exceptions import HTTPException
from litestar.types import ASGIApp, Receive, ReceiveMessage, Scope, Send
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from protolearn.api.request_log import RequestLog
from protolearn.config import Settings
from protolearn.process_tuning import settle_garbage_collector

__all__ = ("Server", "SlowBodyMiddleware", "server_config")

log = logging.getLogger(__name__)


class Server(uvicorn.Server):
    """uvicorn's server, with the garbage collector settled once the app has started
    (protolearn/process_tuning.py)."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        settle_garbage_collector()
        loop = type(asyncio.get_running_loop())
        log.info("serving on %s.%s", loop.__module__, loop.__qualname__, extra={"event": "serving"})


def server_config(app: ASGIApp, settings: Settings, host: str, port: int, **options: Any) -> uvicorn.Config:
    """uvicorn's configuration for the app: its request log in place of uvicorn's access log."""
    return uvicorn.Config(
        RequestLog(app),
        host=host,
        port=port,
        access_log=False,
        http=_with_header_deadline(settings.http_header_timeout_seconds),
        # A live-channel message past live_max_message_bytes is refused by the app (413); past
        # this one the socket is closed unread (1009), instead of uvicorn's 16 MiB.
        ws_max_size=max(settings.max_request_bytes, settings.live_max_message_bytes),
        **options,
    )


def _with_header_deadline(seconds: float) -> type[HttpToolsProtocol]:
    class HeaderDeadlineProtocol(HttpToolsProtocol):
        """uvicorn's httptools protocol, closing a connection whose request head is late."""

        _deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            if self._deadline is None and self._between_requests():
                self._arm()
            super().data_received(data)
            if not self._between_requests():
                self._disarm()  # the head is in: the app has the request

        def handle_websocket_upgrade(self) -> None:
            self._disarm()  # the connection is a WebSocket now: its protocol owns the transport
            super().handle_websocket_upgrade()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _between_requests(self) -> bool:
            return self.cycle is None or self.cycle.response_complete

        def _arm(self) -> None:
            self._deadline = self.loop.call_later(seconds, self._too_slow)

        def _disarm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
                self._deadline = None

        def _too_slow(self) -> None:
            self._deadline = None
            upgraded = self.transport.get_protocol() is not self
            if self._between_requests() and not upgraded and not self.transport.is_closing():
                self.transport.close()

    return HeaderDeadlineProtocol


class SlowBodyMiddleware:
    """Answers 408 when a request body stops arriving for longer than the setting allows."""

    def __init__(self, app: ASGIApp, pause_seconds: float) -> None:
        self.app = app
        self.pause_seconds = pause_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await self.app(scope, receive, send)
            return
        body_done = False

        async def receive_in_time() -> ReceiveMessage:
            nonlocal body_done
            if body_done:  # after the body, a receive waits for the client to leave: no deadline
                return await receive()
            try:
                async with asyncio.timeout(self.pause_seconds):
                    message = await receive()
            except TimeoutError:
                raise HTTPException(
                    status_code=408, detail="the request body stopped arriving; send it again"
                ) from None
            body_done = message["type"] != "http.request" or not message.get("more_body", False)
            return message

        await self.app(scope, receive_in_time, send)
