"""A real HTTP server on loopback that speaks the chat-completions wire protocol, scripted per test.

It stands in for Groq (``/openai/v1/chat/completions``) and OpenAI-compatible servers; every
request it receives is kept for the test to read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass
class Reply:
    """One scripted answer: a chat completion whose message is ``content``, or an error status."""

    content: str = ""
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0
    logprobs: list[float] | None = None  # per token, sent when the request asks for them
    error: str = "scripted failure"  # the error message of a failing status
    finish_reason: str = "stop"

    @classmethod
    def json(cls, body: object) -> Reply:
        return cls(content=json.dumps(body))


@dataclass
class FakeLlm:
    replies: deque[Reply] = field(default_factory=deque)
    requests: list[dict[str, Any]] = field(default_factory=list)
    received_at: list[float] = field(default_factory=list)
    url: str = ""

    def script(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    async def __call__(self, scope: dict[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path = scope["path"]
        if scope["method"] == "GET" and path.endswith("/models"):
            await _respond(send, 200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
            return
        if not path.endswith("/chat/completions"):
            await _respond(send, 404, {"error": {"message": f"no route {path}"}})
            return
        self.requests.append(json.loads(body))
        self.received_at.append(asyncio.get_running_loop().time())
        reply = self.replies.popleft() if self.replies else Reply(status=500)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.status != 200:
            await _respond(send, reply.status, {"error": {"message": reply.error}}, reply.headers)
            return
        choice: dict[str, Any] = {
            "index": 0,
            "message": {"role": "assistant", "content": reply.content},
            "finish_reason": reply.finish_reason,
        }
        if reply.logprobs is not None and self.requests[-1].get("logprobs"):
            tokens = [
                {"token": f"t{i}", "logprob": p, "bytes": None, "top_logprobs": []}
                for i, p in enumerate(reply.logprobs)
            ]
            choice["logprobs"] = {"content": tokens}
        await _respond(
            send,
            200,
            {
                "id": "chatcmpl-test",
                "object": "chat.completion",
                "created": 0,
                "model": self.requests[-1].get("model", ""),
                "choices": [choice],
                "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
            },
        )


async def _respond(send: Send, status: int, body: object, headers: dict[str, str] | None = None) -> None:
    payload = json.dumps(body).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw_headers += [(k.encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})


@contextlib.asynccontextmanager
async def fake_llm() -> AsyncIterator[FakeLlm]:
    llm = FakeLlm()
    server = uvicorn.Server(uvicorn.Config(llm, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.01)
        llm.url = f"http://127.0.0.1:{server.servers[0].sockets[0].getsockname()[1]}"
        yield llm
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)
