"""The ICE servers WebRTC peers use to reach the SFU: STUN, and TURN with credentials of the
TURN REST scheme that coturn checks with ``use-auth-secret``: the username is the expiry time
(unix seconds) and a name, the password the base64 HMAC-SHA1 of the username under the secret
shared with coturn. Nothing is stored: coturn recomputes it, and refuses it after the expiry.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from dataclasses import dataclass

from aiortc import RTCIceServer

__all__ = ("IceServer", "IceServers", "turn_credential")


def turn_credential(secret: str, name: str, expires_at: int) -> tuple[str, str]:
    """(username, password) valid until ``expires_at``, for ``name`` (who it was issued to)."""
    username = f"{expires_at}:{name}"
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return username, base64.b64encode(digest).decode()


@dataclass(frozen=True, slots=True)
class IceServer:
    urls: tuple[str, ...]
    username: str | None = None
    credential: str | None = None


@dataclass(frozen=True, slots=True)
class IceServers:
    """What the deployment's settings say: STUN URLs, TURN URLs and their shared secret."""

    stun_urls: tuple[str, ...] = ()
    turn_urls: tuple[str, ...] = ()
    turn_secret: str = ""
    ttl_seconds: int = 12 * 3600
    relay_url: str = ""  # the TURN URL the SFU's own connections use (empty: none)

    @classmethod
    def parse(cls, stun: str, turn: str, secret: str, ttl_seconds: int, relay_url: str = "") -> IceServers:
        def urls(text: str) -> tuple[str, ...]:
            return tuple(url.strip() for url in text.split(",") if url.strip())

        return cls(urls(stun), urls(turn), secret, ttl_seconds, relay_url.strip())

    def for_peer(self, name: str, now: float | None = None) -> tuple[list[IceServer], int]:
        """The servers a page should use, with credentials of its own; and when they expire."""
        expires_at = int(now if now is not None else time.time()) + self.ttl_seconds
        servers = [IceServer(self.stun_urls)] if self.stun_urls else []
        if self.turn_urls:
            username, password = turn_credential(self.turn_secret, name, expires_at)
            servers.append(IceServer(self.turn_urls, username, password))
        return servers, expires_at

    def for_relay(self) -> list[RTCIceServer]:
        """The SFU's own: where browsers cannot reach the nodes (containers on a private network),
        the server relays its side of each connection through TURN as well."""
        if not self.relay_url:
            return []
        username, password = turn_credential(self.turn_secret, "sfu", int(time.time()) + self.ttl_seconds)
        return [RTCIceServer(urls=self.relay_url, username=username, credential=password)]
