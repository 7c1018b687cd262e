"""Two nodes, as `protolearn serve` processes on loopback, sharing the machine's PostgreSQL and
Redis: a class and its teacher meet on the node the test is pinned to, wherever their sockets
first land, and what happens on one node reaches the sockets of the other."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from protolearn.cluster.nodes import Node, rendezvous
from protolearn.config import Settings
from tests.support.api import Actor, Api, published_test, started_attempt
from tests.support.live import live, publish_over, receive_until, until, until_face_seen, watch_over
from tests.support.peers import FaceCamera, SceneSwitch, Tone
from tests.support.processes import ServedNode, base_env, free_port, served_node
from tests.support.redis import REDIS_URL, redis_or_skip


async def metric(node: ServedNode, name: str) -> float:
    async with httpx.AsyncClient(base_url=node.url) as http:
        text = (await http.get("/metrics")).text
    return sum(s.value for f in text_string_to_metric_families(text) if f.name == name for s in f.samples)


@pytest.fixture
async def two_nodes(
    request: pytest.FixtureRequest,
    settings: Settings,
    backend: str,
    tmp_path: Path,
    jwt_keys: tuple[Path, Path],
) -> AsyncIterator[dict[str, ServedNode]]:
    """node-a and node-b; a test parametrizing the fixture indirectly gives node-b's extra settings."""
    node_b_settings: dict[str, str] = getattr(request, "param", {})
    if backend != "postgresql":
        pytest.skip("several nodes share one PostgreSQL")
    await (await redis_or_skip()).aclose()
    private, public = jwt_keys
    prefix = f"test-{uuid.uuid4().hex[:12]}"  # this test's keys and channels only
    nodes: dict[str, ServedNode] = {}
    with ExitStack() as stack:
        for name in ("node-a", "node-b"):
            port = free_port()
            env = base_env(tmp_path / "data", settings.database_url) | {
                "PROTOLEARN_REDIS_URL": REDIS_URL,
                "PROTOLEARN_REDIS_PREFIX": prefix,
                "PROTOLEARN_NODE_ID": name,
                "PROTOLEARN_NODE_URL": f"http://127.0.0.1:{port}",
                "PROTOLEARN_NODE_HEARTBEAT_SECONDS": "0.5",
                "PROTOLEARN_NODE_EXPIRY_SECONDS": "3",
                "PROTOLEARN_JWT_PRIVATE_KEY_PATH": str(private),
                "PROTOLEARN_JWT_PUBLIC_KEY_PATH": str(public),
            }
            if name == "node-b":
                env |= node_b_settings
            nodes[name] = stack.enter_context(served_node(env, port))
        for node in nodes.values():
            await until_metric(node, "protolearn_live_nodes", 2)
        yield nodes


async def until_metric(node: ServedNode, name: str, wanted: float, within: float = 60.0) -> None:
    """Polls the node's metric until it reads ``wanted``; the bound is only for a node that never does."""
    deadline = asyncio.get_running_loop().time() + within
    while (seen := await metric(node, name)) != wanted:
        assert asyncio.get_running_loop().time() < deadline, f"{node.url}: {name} is {seen}, not {wanted}"
        await asyncio.sleep(0.2)


def on(actor: Actor, http: httpx.AsyncClient) -> Actor:
    """The same signed-in user, talking to another node."""
    return replace(actor, client=http)


async def test_a_teacher_on_one_node_gets_violations_of_a_student_who_reached_the_other(
    two_nodes: dict[str, ServedNode], settings: Settings
) -> None:
    a, b = two_nodes["node-a"], two_nodes["node-b"]
    async with (
        httpx.AsyncClient(base_url=a.url, timeout=30) as on_a,
        httpx.AsyncClient(base_url=b.url, timeout=30) as on_b,
    ):
        api = Api(on_a, settings)
        teacher, student = await api.user("teacher"), await api.user("student")
        test = await published_test(teacher)
        attempt_id = (await started_attempt(student, test["id"]))["attempt_id"]
        owner = rendezvous(f"test:{test['id']}", [Node("node-a", a.url), Node("node-b", b.url)])
        home, away = (a, b) if owner.id == "node-a" else (b, a)
        away_http = on_b if away is b else on_a

        # The student's page reaches the other node first: it is told where the class meets.
        async with live(away.url, student) as first:
            await first.send(
                json.dumps({"type": "webrtc-offer", "attempt_id": attempt_id, "sdp": "v=0\r\n" * 3})
            )
            [moved] = await receive_until(first, "moved")
        assert moved == {
            "type": "moved",
            "node_url": home.url,
            "in_reply_to": "webrtc-offer",
            "attempt_id": attempt_id,
            "test_id": test["id"],
        }
        async with live(away.url, teacher) as teacher_away:
            await teacher_away.send(json.dumps({"type": "watch-test", "test_id": test["id"]}))
            assert (await receive_until(teacher_away, "moved"))[-1]["node_url"] == home.url

        seat = SceneSwitch()
        async with live(home.url, student) as student_socket, live(home.url, teacher) as teacher_socket:
            connection = await publish_over(
                student_socket, attempt_id, camera=FaceCamera(scene=seat), microphone=Tone(0.0)
            )
            viewer, frames = await watch_over(teacher_socket, {"type": "watch-test", "test_id": test["id"]})
            await until_face_seen(teacher_socket)
            seat.scene = "empty"
            violation = (await receive_until(teacher_socket, "violation", within=60))[-1]["violation"]
            seat.scene = "face"
            assert (violation["attempt_id"], violation["type"]) == (attempt_id, "no_face")
            assert frames

            # Extra time given through the other node reaches the student's socket here.
            extended = await on(teacher, away_http).post(
                f"/api/attempts/{attempt_id}/extend", json={"minutes": 5, "reason": "fire alarm"}
            )
            assert extended.status_code == 200, extended.text
            changed = (await receive_until(student_socket, "deadline-changed"))[-1]
            assert (changed["attempt_id"], changed["minutes"]) == (attempt_id, 5)

            # Submitted through the other node: proctoring stops here, and the stream closes.
            submitted = await on(student, away_http).post(
                f"/api/tests/{test['id']}/submit", json={"attempt_id": attempt_id}
            )
            assert submitted.status_code == 200, submitted.text
            await until(lambda: connection.connectionState == "closed", within=30)
            await viewer.close()
        assert await metric(home, "protolearn_proctored_attempts") == 0
        assert await metric(away, "protolearn_proctored_attempts") == 0


@pytest.mark.parametrize("two_nodes", [{"PROTOLEARN_NODE_MEDIA": "false"}], indirect=True)
async def test_a_node_without_media_sends_every_class_to_the_media_node(
    two_nodes: dict[str, ServedNode], settings: Settings
) -> None:
    media, api_node = two_nodes["node-a"], two_nodes["node-b"]
    async with httpx.AsyncClient(base_url=api_node.url, timeout=30) as on_api:
        api = Api(on_api, settings)
        teacher, student = await api.user("teacher"), await api.user("student")
        both = [Node("node-a", media.url), Node("node-b", api_node.url)]
        checked = 0
        while checked < 2:  # tests that rendezvous over both nodes would pin to node-b
            test = await published_test(teacher)
            if rendezvous(f"test:{test['id']}", both).id != "node-b":
                continue
            checked += 1
            attempt_id = (await started_attempt(student, test["id"]))["attempt_id"]
            async with live(api_node.url, student) as socket:
                await socket.send(
                    json.dumps({"type": "webrtc-offer", "attempt_id": attempt_id, "sdp": "v=0\r\n" * 3})
                )
                assert (await receive_until(socket, "moved"))[-1]["node_url"] == media.url
            async with live(api_node.url, teacher) as socket:
                await socket.send(json.dumps({"type": "watch-test", "test_id": test["id"]}))
                assert (await receive_until(socket, "moved"))[-1]["node_url"] == media.url
    assert await metric(api_node, "protolearn_live_nodes") == 2
