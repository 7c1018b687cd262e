"""A minimal HTTP/1.1 client for load generators: keep-alive connections over asyncio streams, JSON
bodies, Content-Length responses only. Its purpose is to cost the machine little: httpx spends
about 2 ms of CPU per request, which on a 2-core machine shared with the server under test is
CPU taken from the server (benchmarks/class_load.py measured its load at 0.47 cores for 233
requests/s). This one spends a small fraction of that. It is not a general client: no
redirects, no chunked or compressed answers, no TLS.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

__all__ = ("LeanClient", "LeanResponse", "RequestFailed")


class RequestFailed(Exception):
    """No complete answer came: the connection failed, closed, or the timeout passed."""


class LeanResponse:
    def __init__(self, status_code: int, body: bytes) -> None:
        self.status_code = status_code
        self.content = body

    @property
    def is_success(self) -> bool:
        return 200 <= self.status_code < 300

    def json(self) -> Any:
        return json.loads(self.content)


class LeanClient:
    """At most `connections` keep-alive connections to one host; a request waits for a free one
    (its wait counts in its time, as in any client's pool). A connection whose request failed or
    timed out is closed, and another is opened in its place when needed."""

    def __init__(self, host: str, port: int, connections: int, timeout_s: float) -> None:
        self._host, self._port, self._timeout = host, port, timeout_s
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._slots = asyncio.Semaphore(connections)

    async def request(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: Any = None
    ) -> LeanResponse:
        payload = b"" if body is None else json.dumps(body, separators=(",", ":")).encode()
        head = [f"{method} {path} HTTP/1.1", f"Host: {self._host}", f"Content-Length: {len(payload)}"]
        if body is not None:
            head.append("Content-Type: application/json")
        head += [f"{name}: {value}" for name, value in (headers or {}).items()]
        message = ("\r\n".join(head) + "\r\n\r\n").encode() + payload
        async with self._slots:
            connection = None
            while self._idle and connection is None:
                connection = self._idle.pop()
                if connection[0].at_eof() or connection[1].is_closing():  # the server closed it
                    connection[1].close()
                    connection = None
            try:
                async with asyncio.timeout(self._timeout):
                    if connection is not None:
                        try:
                            response = await self._exchange(*connection, message)
                        except asyncio.IncompleteReadError as closed:
                            if closed.partial:
                                raise
                            # The server closed the idle connection as the request went out
                            # (its keep-alive timeout): sent again on a new one, as clients do.
                            connection[1].close()
                            connection = None
                    if connection is None:
                        connection = await asyncio.open_connection(self._host, self._port)
                        response = await self._exchange(*connection, message)
            except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
                if connection is not None:
                    connection[1].close()
                raise RequestFailed(type(error).__name__) from error
            self._idle.append(connection)
            return response

    @staticmethod
    async def _exchange(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter, message: bytes
    ) -> LeanResponse:
        writer.write(message)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split(" ", 2)[1])
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.lower() == "content-length":
                length = int(value)
            elif name.lower() == "transfer-encoding":
                raise ValueError("chunked answers are not read here")
        return LeanResponse(status, await reader.readexactly(length) if length else b"")

    async def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
        self._idle.clear()

    def get(self, path: str, headers: dict[str, str] | None = None) -> Any:
        return self.request("GET", path, headers)

    def post(self, path: str, headers: dict[str, str] | None = None, json: Any = None) -> Any:
        return self.request("POST", path, headers, json)

    def put(self, path: str, headers: dict[str, str] | None = None, json: Any = None) -> Any:
        return self.request("PUT", path, headers, json)
