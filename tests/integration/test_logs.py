"""The server's log as an operator reads it: with PROTOLEARN_LOG_FORMAT=json, one JSON object per
line, each request and live-channel socket a line with its request id, user and attempt, and no
token or password anywhere, not even from a URL that carries one."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from websockets.asyncio.client import connect

from protolearn.config import Settings
from tests.support.api import PASSWORD, Api
from tests.support.processes import base_env, served_node


async def test_json_lines_carry_request_user_and_attempt_and_no_secret(
    settings: Settings, tmp_path: Path, jwt_keys: tuple[Path, Path]
) -> None:
    private, public = jwt_keys
    env = base_env(tmp_path / "node", settings.database_url) | {
        "PROTOLEARN_LOG_FORMAT": "json",
        "PROTOLEARN_JWT_PRIVATE_KEY_PATH": str(private),
        "PROTOLEARN_JWT_PUBLIC_KEY_PATH": str(public),
    }
    with served_node(env) as node:
        async with httpx.AsyncClient(base_url=node.url) as http:
            api = Api(http, settings)
            student = await api.user("student")
            me = await student.get("/api/auth/me", headers={"X-Request-ID": "trace-0123456789"})
            missing = await student.get("/api/attempts/424242")
            async with connect(
                node.url.replace("http", "ws", 1) + f"/ws/proctor?token={student.access_token}"
            ) as socket:
                await socket.send("not json")
                await socket.recv()
    assert me.status_code == 200 and me.headers["x-request-id"] == "trace-0123456789"
    assert missing.status_code == 404 and len(missing.headers["x-request-id"]) == 32

    lines = [json.loads(line) for line in node.lines if line.startswith("{")]
    printed = [line for line in node.lines if line and not line.startswith("{")]
    assert printed == [printed[0]] and printed[0].startswith("ProtoLearn serving on")  # all else JSON
    [serving] = [line for line in lines if line.get("event") == "serving"]
    assert serving["message"].startswith("serving on uvloop")  # uvicorn takes uvloop where installed
    requests = [line for line in lines if line.get("event") == "request"]
    [mine] = [line for line in requests if line["path"] == "/api/auth/me"]
    assert mine["request_id"] == "trace-0123456789"
    assert (mine["user_id"], mine["method"], mine["status"]) == (student.user["id"], "GET", 200)
    assert mine["level"] == "info" and mine["duration_ms"] >= 0
    [attempt] = [line for line in requests if line["path"] == "/api/attempts/424242"]
    assert (attempt["attempt_id"], attempt["status"], attempt["route"]) == (
        424242,
        404,
        "/api/attempts/{attempt_id}",
    )
    [socket_line] = [line for line in requests if line["path"] == "/ws/proctor"]
    assert (socket_line["method"], socket_line["status"], socket_line["user_id"]) == (
        "WS",
        101,
        student.user["id"],
    )
    log = "\n".join(node.lines)
    assert student.access_token not in log and student.refresh_token not in log
    assert PASSWORD not in log
    assert "token=" not in log or "token=[redacted]" in log
