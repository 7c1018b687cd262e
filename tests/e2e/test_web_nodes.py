"""The pages' live channel against a deployment's servers, in real Chromium: the student's peer
connection gets the STUN and TURN servers the server hands out (asked for again at each
connection), and where two nodes share the database and Redis, the student's page and the
teacher's monitor opened on one node follow `moved` to the node the test's live media is pinned
to, and start again from their own origin after a failure. A server that keeps answering `moved`
is followed only a few times in a row."""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from playwright.async_api import Browser, BrowserContext, Page, WebSocketRoute, expect
from prometheus_client.parser import text_string_to_metric_families

from protolearn.cluster.nodes import Node, rendezvous
from protolearn.config import Settings
from protolearn.media.ice_servers import turn_credential
from tests.support.api import PASSWORD, Actor, Api, published_test, started_attempt
from tests.support.browser import LAPTOP, PageErrors, chromium, skip_without_chromium, write_y4m
from tests.support.live import live, publish_over, until, watch_over
from tests.support.peers import FaceCamera
from tests.support.processes import free_port
from tests.support.redis import REDIS_URL, redis_or_skip
from tests.support.server import running_server
from tests.support.web_flows import SLOW, through_consent_and_device_check

skip_without_chromium()

expect.set_options(timeout=20_000)

STUN = "stun:127.0.0.1:3478"
TURN = "turn:127.0.0.1:3478?transport=udp"  # nothing listens: host candidates still meet on loopback
TURN_SECRET = "x"

# Errors the pages may log on purpose: a request refused or cut off while a socket moves.
EXPECTED_ERRORS = ("Failed to load resource", "net::ERR")

# Keeps what the page gives each RTCPeerConnection, and what the browser made of it.
RECORD_PEER_CONFIGURATIONS = """
window.peerConfigurations = [];
const NativePeerConnection = window.RTCPeerConnection;
window.RTCPeerConnection = class extends NativePeerConnection {
    constructor(configuration, ...rest) {
        super(configuration, ...rest);
        window.peerConfigurations.push({
            given: JSON.parse(JSON.stringify(configuration || {})),
            used: this.getConfiguration().iceServers.map((server) => ({urls: server.urls})),
        });
    }
};
"""
# Keeps the page's live-channel sockets within reach: where they went, and to drop them.
TRACK_SOCKETS = """
window.liveSockets = [];
const NativeWebSocket = window.WebSocket;
window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
        super(...args);
        window.liveSockets.push(this);
    }
};
"""
DECODED_FRAMES = """(name) => {
    const video = document.querySelector(`video[aria-label="Camera of ${name}"]`);
    return Boolean(video) && video.videoWidth > 0 && video.getVideoPlaybackQuality().totalVideoFrames >= 5;
}"""


async def sign_in(page: Page, base_url: str, user: Actor, next_path: str) -> None:
    await page.goto(f"{base_url}/login?next={next_path}")
    await page.get_by_label("Email", exact=True).fill(user.email)
    await page.get_by_label("Password", exact=True).fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()


def without_token(url: str) -> str:
    return url.split("?token=")[0]


async def socket_urls(page: Page) -> list[str]:
    """Where the page's live-channel sockets went, in order (their tokens left out)."""
    return [without_token(url) for url in await page.evaluate("window.liveSockets.map((s) => s.url)")]


def ws(base_url: str) -> str:
    return base_url.replace("http", "ws", 1) + "/ws/proctor"


async def new_page(browser: Browser, *scripts: str, bypass_csp: bool = False) -> Page:
    context: BrowserContext = await browser.new_context(viewport=LAPTOP, bypass_csp=bypass_csp)
    for script in scripts:
        await context.add_init_script(script)
    return await context.new_page()


async def metric(base_url: str, name: str) -> float:
    async with httpx.AsyncClient(base_url=base_url, timeout=10) as http:
        text = (await http.get("/metrics")).text
    return sum(s.value for f in text_string_to_metric_families(text) if f.name == name for s in f.samples)


async def until_metric(base_url: str, name: str, wanted: float, within: float = 60.0) -> None:
    """Polls the node's metric until it reads ``wanted``; the bound is only for one that never does."""
    deadline = asyncio.get_running_loop().time() + within
    while (seen := await metric(base_url, name)) != wanted:
        assert asyncio.get_running_loop().time() < deadline, f"{base_url}: {name} is {seen}, not {wanted}"
        await asyncio.sleep(0.2)


@pytest.fixture
async def nodes(settings: Settings) -> AsyncIterator[dict[str, str]]:
    """Two nodes in this process on the test's database and the machine's Redis: id -> base URL."""
    redis = await redis_or_skip()
    prefix = f"test-{uuid.uuid4().hex[:12]}"  # this test's keys and channels only
    urls: dict[str, str] = {}
    try:
        async with AsyncExitStack() as stack:
            for name in ("node-a", "node-b"):
                port = free_port()  # known before the server starts: its settings name its address
                url = f"http://127.0.0.1:{port}"
                node = msgspec.structs.replace(
                    settings,
                    redis_url=REDIS_URL,
                    redis_prefix=prefix,
                    node_id=name,
                    node_url=url,
                    node_heartbeat_seconds=0.5,
                )
                urls[name] = await stack.enter_async_context(running_server(node, port))
                assert urls[name] == url
            for url in urls.values():
                await until_metric(url, "protolearn_live_nodes", 2)
            yield urls
    finally:
        keys = [key async for key in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
        await redis.aclose()


def home_and_away(test_id: int, urls: dict[str, str]) -> tuple[str, str]:
    """The base URLs of the node the test's live media is pinned to, and of the other one."""
    owner = rendezvous(f"test:{test_id}", [Node(name, url) for name, url in urls.items()])
    [away] = [url for name, url in urls.items() if name != owner.id]
    return owner.url, away


async def test_the_student_page_connects_with_the_servers_ice_servers(
    settings: Settings, tmp_path: Path
) -> None:
    with_turn = msgspec.structs.replace(settings, stun_urls=STUN, turn_urls=TURN, turn_secret=TURN_SECRET)
    async with (
        running_server(with_turn) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=30) as http,
    ):
        api = Api(http, with_turn)
        teacher, student = await api.user("teacher"), await api.user("student")
        test = await published_test(teacher, title="Optics quiz", proctoring={"camera_required": True})
        async with chromium(camera=write_y4m(tmp_path / "face.y4m")) as browser:
            page = await new_page(browser, RECORD_PEER_CONFIGURATIONS, TRACK_SOCKETS)
            errors = PageErrors(page)
            asked: list[str] = []
            page.on("request", lambda r: asked.append(r.url) if "/api/rtc/ice-servers" in r.url else None)
            await sign_in(page, base_url, student, f"/student/tests/{test['id']}")
            await through_consent_and_device_check(page)
            camera_status = page.get_by_test_id("camera-status")
            await expect(camera_status).to_have_text("Camera live")  # monitoring-started came

            # The live channel drops: the new connection asks for servers (and credentials) again.
            await page.evaluate("window.liveSockets.forEach((socket) => socket.close())")
            await expect(camera_status).to_have_text("Camera reconnecting…")
            await expect(camera_status).to_have_text("Camera live", timeout=SLOW)
            configurations = await page.evaluate("window.peerConfigurations")
            assert errors.unexpected(*EXPECTED_ERRORS) == []

    assert asked == [f"{base_url}/api/rtc/ice-servers"] * 2
    assert len(configurations) == 2
    for configuration in configurations:
        stun, turn = configuration["given"]["iceServers"]
        assert stun == {"urls": [STUN]}  # no username or credential where the server gives none
        assert turn["urls"] == [TURN]
        expires, name = turn["username"].split(":")
        assert name == f"user-{student.id}"
        assert (turn["username"], turn["credential"]) == turn_credential(TURN_SECRET, name, int(expires))
        assert configuration["used"] == [{"urls": [STUN]}, {"urls": [TURN]}]  # the browser took them


async def test_the_student_page_publishes_to_the_node_its_test_is_pinned_to(
    nodes: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    async with httpx.AsyncClient(base_url=nodes["node-a"], timeout=30) as http:
        api = Api(http, settings)
        teacher, student = await api.user("teacher"), await api.user("student")
        test = await published_test(teacher, title="Acoustics quiz", proctoring={"camera_required": True})
        home, away = home_and_away(test["id"], nodes)
        async with chromium(camera=write_y4m(tmp_path / "face.y4m")) as browser:
            # In production every node is a path of one origin behind the proxy (deploy/Caddyfile),
            # which the page's CSP (connect-src 'self') allows; here each node is an origin of its
            # own, so the page opened on one may reach the other only with the CSP set aside.
            page = await new_page(browser, TRACK_SOCKETS, bypass_csp=True)
            errors = PageErrors(page)
            await sign_in(page, away, student, f"/student/tests/{test['id']}")
            await through_consent_and_device_check(page)
            camera_status = page.get_by_test_id("camera-status")
            await expect(camera_status).to_have_text("Camera live")

            # Told `moved` on the node it was served from, the page offered again on the pinned one.
            assert await socket_urls(page) == [
                ws(away),
                ws(home),
            ]
            await until_metric(home, "protolearn_live_publishers", 1)
            assert await metric(away, "protolearn_live_publishers") == 0
            attempt_id = (await teacher.get(f"/api/results/{test['id']}")).json()[0]["attempt_id"]
            async with live(home, teacher) as socket:
                viewer, frames = await watch_over(socket, {"type": "watch", "attempt_id": attempt_id})
                await until(lambda: len(frames) >= 5, within=30)
                await viewer.close()

            # After a drop the page starts again at its own origin, not at the node remembered.
            await page.evaluate("window.liveSockets.forEach((socket) => socket.close())")
            await expect(camera_status).to_have_text("Camera reconnecting…")
            await expect(camera_status).to_have_text("Camera live", timeout=SLOW)
            assert await socket_urls(page) == [
                ws(away),
                ws(home),
                ws(away),
                ws(home),
            ]
            await until_metric(home, "protolearn_live_publishers", 1)
            assert await metric(away, "protolearn_live_publishers") == 0
            assert errors.unexpected(*EXPECTED_ERRORS) == []


async def test_the_monitor_on_the_other_node_follows_the_class_and_plays_its_video(
    nodes: dict[str, str], settings: Settings
) -> None:
    async with httpx.AsyncClient(base_url=nodes["node-a"], timeout=30) as http:
        api = Api(http, settings)
        teacher = await api.user("teacher")
        student = await api.user("student", name="Lise Meitner")
        test = await published_test(teacher, title="Nuclear physics", proctoring={"camera_required": True})
        attempt_id = (await started_attempt(student, test["id"]))["attempt_id"]
        home, away = home_and_away(test["id"], nodes)
        async with live(home, student) as student_socket, chromium() as browser:
            publisher = await publish_over(student_socket, attempt_id, camera=FaceCamera())
            page = await new_page(browser, TRACK_SOCKETS, bypass_csp=True)  # two origins: as above
            errors = PageErrors(page)
            await sign_in(page, away, teacher, f"/teacher/tests/{test['id']}/live")
            tile = page.locator("article.monitor-tile").filter(has_text="Lise Meitner")
            await expect(tile).to_be_visible()
            await page.wait_for_function(DECODED_FRAMES, arg="Lise Meitner", timeout=SLOW)
            await expect(tile.get_by_text("Connected")).to_be_visible()
            await expect(page.get_by_role("status").filter(has_text="Live")).to_be_visible()
            assert await socket_urls(page) == [
                ws(away),
                ws(home),
            ]
            await until_metric(home, "protolearn_live_viewers", 1)
            assert await metric(away, "protolearn_live_viewers") == 0
            assert errors.unexpected(*EXPECTED_ERRORS) == []
            await publisher.close()


async def test_pages_follow_moved_a_few_times_in_a_row_then_start_again_at_their_origin(
    base_url: str, api: Api, tmp_path: Path
) -> None:
    teacher, student = await api.user("teacher"), await api.user("student", name="Emmy Noether")
    test = await published_test(teacher, title="Algebra check", proctoring={"camera_required": True})
    elsewhere = f"{base_url}/nodes/elsewhere"  # every socket is told the class meets there

    async def always_moved(route: WebSocketRoute, opened: list[str]) -> None:
        opened.append(without_token(route.url))

        def reply(text: str | bytes) -> None:
            message: dict[str, Any] = json.loads(text)
            if message["type"] in ("webrtc-offer", "watch-test"):
                moved = {"type": "moved", "node_url": elsewhere, "in_reply_to": message["type"]}
                route.send(json.dumps(moved | {"test_id": test["id"]}))

        route.on_message(reply)

    origin, moved_to = ws(base_url), ws(elsewhere)
    expected = [origin, moved_to, moved_to, moved_to, origin]
    async with chromium(camera=write_y4m(tmp_path / "face.y4m")) as browser:
        student_sockets: list[str] = []
        student_page = await new_page(browser)
        await student_page.route_web_socket(
            re.compile(r"/ws/proctor\?"), lambda route: always_moved(route, student_sockets)
        )
        await sign_in(student_page, base_url, student, f"/student/tests/{test['id']}")
        await expect(student_page.get_by_role("heading", name="Before you begin")).to_be_visible()
        await student_page.get_by_label("I understand what is recorded").check()
        await student_page.get_by_role("button", name="Continue to device check").click()
        await expect(student_page.get_by_text("Camera: working")).to_be_visible(timeout=SLOW)
        await student_page.get_by_role("button", name="Start test").click()
        await until(lambda: len(student_sockets) >= len(expected), within=60)
        assert student_sockets[: len(expected)] == expected
        await expect(student_page.get_by_test_id("camera-status")).not_to_have_text("Camera live")

        teacher_sockets: list[str] = []
        teacher_page = await new_page(browser)
        await teacher_page.route_web_socket(
            re.compile(r"/ws/proctor\?"), lambda route: always_moved(route, teacher_sockets)
        )
        await sign_in(teacher_page, base_url, teacher, f"/teacher/tests/{test['id']}/live")
        await expect(
            teacher_page.locator("article.monitor-tile").filter(has_text="Emmy Noether")
        ).to_be_visible()
        await until(lambda: len(teacher_sockets) >= len(expected), within=60)
        assert teacher_sockets[: len(expected)] == expected
