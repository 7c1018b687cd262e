"""``GET /api/rtc/ice-servers``: the STUN and TURN servers a page gives its RTCPeerConnection,
with TURN credentials of its own that expire (coturn's shared-secret scheme, media/ice_servers.py).
Empty where none are configured: on a campus network or a laptop, peers reach the SFU directly."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.datastructures import State

from protolearn.api.security import principal_of
from protolearn.media.ice_servers import IceServers
from protolearn.wire import Response

__all__ = ("RtcController",)


class IceServerOut(Response, frozen=True, omit_defaults=True):
    urls: list[str]
    username: str | None = None
    credential: str | None = None


class IceServersOut(Response, frozen=True):
    ice_servers: list[IceServerOut]
    expires_at: datetime | None = msgspec.field(default=None)  # when the TURN credentials end


class RtcController(Controller):
    path = "/api/rtc"
    tags = ["live"]

    @get("/ice-servers")
    async def ice_servers(self, request: Request[Any, Any, Any], state: State) -> IceServersOut:
        """The ICE servers for this user's peer connections, to ask for again before
        ``expires_at`` (a page asks each time it connects)."""
        configured: IceServers = state.ice_servers
        principal = principal_of(request)
        servers, expires_at = configured.for_peer(f"user-{principal.user_id}")
        return IceServersOut(
            ice_servers=[IceServerOut(list(s.urls), s.username, s.credential) for s in servers],
            expires_at=datetime.fromtimestamp(expires_at, UTC) if configured.turn_urls else None,
        )
