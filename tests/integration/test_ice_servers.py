"""GET /api/rtc/ice-servers: STUN and TURN for the pages, with TURN credentials each user gets of
their own, as coturn's use-auth-secret checks them (HMAC-SHA1 of "expiry:name" under the secret)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import datetime

import httpx
import msgspec

from protolearn.config import Settings
from tests.support.api import Api
from tests.support.server import running_server

TURN = "turn:turn.school.test:3478?transport=udp,turns:turn.school.test:443?transport=tcp"


async def test_each_user_gets_turn_credentials_that_coturn_accepts_until_they_expire(
    settings: Settings,
) -> None:
    configured = msgspec.structs.replace(
        settings,
        stun_urls="stun:turn.school.test:3478",
        turn_urls=TURN,
        turn_secret="s3cret-shared-with-coturn",
        turn_credential_ttl_seconds=3600,
    )
    async with running_server(configured) as url, httpx.AsyncClient(base_url=url) as http:
        api = Api(http, configured)
        student, teacher = await api.user("student"), await api.user("teacher")
        asked_at = time.time()
        mine, theirs = (
            (await student.get("/api/rtc/ice-servers")),
            (await teacher.get("/api/rtc/ice-servers")),
        )
        anonymous = await http.get("/api/rtc/ice-servers")
    assert mine.status_code == 200, mine.text
    assert anonymous.status_code == 401
    body = mine.json()
    stun, turn = body["ice_servers"]
    assert stun == {"urls": ["stun:turn.school.test:3478"]}
    assert turn["urls"] == TURN.split(",")
    expiry, name = turn["username"].split(":", 1)
    assert name == f"user-{student.user['id']}"
    assert asked_at + 3600 - 5 <= int(expiry) <= time.time() + 3600
    assert datetime.fromisoformat(body["expires_at"]).timestamp() == int(expiry)
    expected = hmac.new(b"s3cret-shared-with-coturn", turn["username"].encode(), hashlib.sha1).digest()
    assert base64.b64decode(turn["credential"]) == expected
    assert theirs.json()["ice_servers"][1]["username"] != turn["username"]  # each their own


async def test_without_ice_servers_configured_peers_connect_directly(api: Api) -> None:
    student = await api.user("student")
    body = (await student.get("/api/rtc/ice-servers")).json()
    assert body == {"ice_servers": [], "expires_at": None}
