"""A real ProtoLearn server on a loopback port, run inside the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import uvicorn

from protolearn.api.serving import server_config
from protolearn.app import create_app
from protolearn.config import Settings


@contextlib.asynccontextmanager
async def running_server(settings: Settings, port: int = 0) -> AsyncIterator[str]:
    """Serve the app built from ``settings`` on ``port`` (a free one by default); yield its base URL.
    A port chosen beforehand lets settings name the server's own address (``node_url``)."""
    config = server_config(
        create_app(settings), settings, "127.0.0.1", port, log_level="warning", lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()  # raises the start-up error
                raise RuntimeError("server stopped before it started")
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        # Shutting down closes sockets, stops background work and leaves Redis: seconds on a
        # busy machine. The bound is for a server that never stops, not for a slow one.
        await asyncio.wait_for(task, timeout=120)
