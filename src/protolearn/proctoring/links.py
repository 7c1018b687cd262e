"""Signed evidence links: a URL of a clip that a ``<video>`` element can load without an
``Authorization`` header.

The link names the evidence, the viewer and an expiry, signed with HMAC-SHA256 under a key
derived from the server's access-token private key (so it exists wherever tokens can be issued,
and changes when that key is replaced). A request carrying a link is authenticated as the viewer
it names, if that account is still active; the route's own checks (role, the teacher's own test)
and its audit log then apply to that viewer as to a bearer-token request.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from datetime import UTC, datetime

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from protolearn.accounts.schemas import Principal
from protolearn.accounts.tokens import load_or_create_key_pair
from protolearn.config import Settings
from protolearn.errors import PermissionDenied
from protolearn.store.users import User

__all__ = ("LINK_TTL_SECONDS", "EvidenceLink", "EvidenceLinkRefused", "EvidenceLinks", "video_path")

LINK_TTL_SECONDS = 300
_KEY_LABEL = b"protolearn evidence links v1"


class EvidenceLinkRefused(PermissionDenied):
    title = "Link refused"


class EvidenceLink(msgspec.Struct, frozen=True):
    url: str
    expires_at: datetime


def video_path(evidence_id: int) -> str:
    return f"/api/evidence/{evidence_id}/video"


class EvidenceLinks:
    """Signs and checks evidence links."""

    def __init__(self, key: bytes, *, ttl_seconds: int = LINK_TTL_SECONDS) -> None:
        self._key = key
        self.ttl_seconds = ttl_seconds

    @classmethod
    def from_settings(cls, settings: Settings) -> EvidenceLinks:
        private_pem, _ = load_or_create_key_pair(settings.private_key_path, settings.public_key_path)
        return cls(hmac.new(private_pem, _KEY_LABEL, hashlib.sha256).digest())

    def signature(self, evidence_id: int, viewer_id: int, expires: int) -> str:
        message = f"{evidence_id}:{viewer_id}:{expires}".encode()
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def url(self, evidence_id: int, viewer_id: int, expires: int) -> str:
        signature = self.signature(evidence_id, viewer_id, expires)
        return f"{video_path(evidence_id)}?viewer={viewer_id}&expires={expires}&signature={signature}"

    def issue(self, evidence_id: int, viewer_id: int, *, now: float | None = None) -> EvidenceLink:
        expires = int(now if now is not None else time.time()) + self.ttl_seconds
        return EvidenceLink(
            url=self.url(evidence_id, viewer_id, expires),
            expires_at=datetime.fromtimestamp(expires, UTC),
        )

    def check(self, evidence_id: int, viewer: str, expires: str, signature: str) -> int:
        """The viewer's user id, if the link is genuine, for this evidence and unexpired."""
        try:
            viewer_id, expiry = int(viewer), int(expires)
        except ValueError as error:
            raise EvidenceLinkRefused("this evidence link is malformed") from error
        expected = self.signature(evidence_id, viewer_id, expiry)
        if not hmac.compare_digest(expected, signature):
            raise EvidenceLinkRefused("this evidence link is not valid for this clip")
        if expiry <= time.time():
            raise EvidenceLinkRefused("this evidence link has expired; open the clip again")
        return viewer_id

    async def viewer(
        self, session: AsyncSession, evidence_id: int, viewer: str, expires: str, signature: str
    ) -> Principal:
        """The principal a request carrying this link acts as: the signer, while still active."""
        user = await session.get(User, self.check(evidence_id, viewer, expires, signature))
        if user is None or not user.is_active:
            raise EvidenceLinkRefused("the account that opened this link is no longer active")
        return Principal(user_id=user.id, role=user.role, email=user.email, name=user.name)
