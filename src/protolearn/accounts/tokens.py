"""RS256 access tokens and opaque refresh tokens."""

from __future__ import annotations

import hashlib
import os
import secrets
import time
import uuid
from pathlib import Path

import jwt
import msgspec
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from protolearn.config import Settings
from protolearn.errors import Unauthenticated
from protolearn.store.users import Role

__all__ = (
    "AccessClaims",
    "AccessTokenCodec",
    "hash_refresh_token",
    "load_or_create_key_pair",
    "new_refresh_token",
)

_ALGORITHM = "RS256"


class AccessClaims(msgspec.Struct, frozen=True):
    sub: str
    role: Role
    exp: float
    iat: float
    jti: str

    @property
    def user_id(self) -> int:
        return int(self.sub)


def load_or_create_key_pair(private_path: Path, public_path: Path) -> tuple[bytes, bytes]:
    """Read the PEM key pair, generating a 2048-bit RSA pair on first start."""
    if private_path.exists():
        private_pem = private_path.read_bytes()
        if public_path.exists():
            return private_pem, public_path.read_bytes()
        key = serialization.load_pem_private_key(private_pem, password=None)
        public_pem = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        public_path.write_bytes(public_pem)
        return private_pem, public_pem

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    private_path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as private_file:
        private_file.write(private_pem)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.write_bytes(public_pem)
    return private_pem, public_pem


class AccessTokenCodec:
    """Issues and checks short-lived access tokens carrying ``sub``, ``role``, ``exp``, ``jti``."""

    def __init__(self, private_pem: bytes, public_pem: bytes, *, ttl_seconds: int, issuer: str) -> None:
        self._private_key = serialization.load_pem_private_key(private_pem, password=None)
        self._public_key = serialization.load_pem_public_key(public_pem)
        self.ttl_seconds = ttl_seconds
        self._issuer = issuer

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessTokenCodec:
        """The codec over the configured key pair, generated on first start when missing."""
        private_pem, public_pem = load_or_create_key_pair(settings.private_key_path, settings.public_key_path)
        return cls(
            private_pem, public_pem, ttl_seconds=settings.access_token_ttl_seconds, issuer=settings.jwt_issuer
        )

    def issue(self, user_id: int, role: str) -> str:
        now = time.time()
        claims = {
            "sub": str(user_id),
            "role": role,
            "iat": now,
            "exp": now + self.ttl_seconds,
            "iss": self._issuer,
            "jti": uuid.uuid4().hex,
        }
        return jwt.encode(claims, self._private_key, algorithm=_ALGORITHM)  # type: ignore[arg-type]

    def decode(self, token: str) -> AccessClaims:
        try:
            claims = jwt.decode(
                token,
                self._public_key,  # type: ignore[arg-type]
                algorithms=[_ALGORITHM],
                issuer=self._issuer,
                options={"require": ["sub", "role", "exp", "iat", "jti"]},
            )
            return msgspec.convert(claims, AccessClaims, strict=False)
        except jwt.ExpiredSignatureError as exc:
            raise Unauthenticated("access token expired") from exc
        except (jwt.InvalidTokenError, msgspec.ValidationError) as exc:
            raise Unauthenticated("invalid access token") from exc


def new_refresh_token() -> str:
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
