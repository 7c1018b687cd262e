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
async def running_server(settings: Settings) -> AsyncIterator[str]:
    """Serve the app built from ``settings`` on a free port; yield its base URL."""
    config = server_config(create_app(settings), settings, "127.0.0.1", 0, log_level="warning", lifespan="on")
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
        await asyncio.wait_for(task, timeout=10)
