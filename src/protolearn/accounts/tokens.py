"""RS256 access tokens and opaque refresh tokens.

The signing key rotates: each token names its key (``kid``, from the public key's hash), and
the public keys used before (``PROTOLEARN_JWT_PREVIOUS_PUBLIC_KEY_PATHS``, and the
``.previous.pem`` beside the public key that ``protolearn jwt-rotate`` leaves) still verify the
tokens they signed until those expire (15 minutes by default); then the old key can go. A token
without a ``kid`` (issued before rotation existed) is checked against the current key.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
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
    "key_id",
    "load_or_create_key_pair",
    "new_refresh_token",
    "rotate_key_pair",
)

_ALGORITHM = "RS256"
# Tokens verified lately, kept so that a student's autosave every 10 s checks its signature once
# (an RS256 verification was a twentieth of an autosave's CPU): at most this many, oldest first out.
VERIFIED_CACHE_SIZE = 8192


class AccessClaims(msgspec.Struct, frozen=True):
    sub: str
    role: Role
    exp: float
    iat: float
    jti: str

    @property
    def user_id(self) -> int:
        return int(self.sub)


def rotate_key_pair(private_path: Path, public_path: Path) -> tuple[str, str]:
    """A new signing key pair in place of the current one, whose public key is kept beside it
    (``.previous.pem``) to verify the tokens it signed; the old and new key ids."""
    if not private_path.exists() or not public_path.exists():
        raise FileNotFoundError(f"no key pair at {private_path} and {public_path} (made at the first start)")
    old_public = public_path.read_bytes()
    previous_key_path(public_path).write_bytes(old_public)
    private_pem, public_pem = _new_key_pair()
    partial = private_path.with_name(private_path.name + ".new")
    partial.unlink(missing_ok=True)
    _write_private(partial, private_pem)
    public_path.write_bytes(public_pem)
    partial.replace(private_path)
    return key_id(old_public), key_id(public_pem)


def _new_key_pair() -> tuple[bytes, bytes]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return private_pem, public_pem


def _write_private(path: Path, private_pem: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as private_file:
        private_file.write(private_pem)


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

    private_pem, public_pem = _new_key_pair()
    _write_private(private_path, private_pem)
    public_path.parent.mkdir(parents=True, exist_ok=True)
    public_path.write_bytes(public_pem)
    return private_pem, public_pem


def key_id(public_pem: bytes) -> str:
    """The ``kid`` of a public key: the start of its DER encoding's SHA-256."""
    public = serialization.load_pem_public_key(public_pem)
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()[:16]


def previous_public_keys(settings: Settings) -> list[bytes]:
    """The public keys used before the current one, which still verify their tokens."""
    paths = [Path(p.strip()) for p in settings.jwt_previous_public_key_paths.split(",") if p.strip()]
    beside = previous_key_path(settings.public_key_path)
    if beside.exists():
        paths.append(beside)
    return [path.read_bytes() for path in paths]


def previous_key_path(public_path: Path) -> Path:
    return public_path.with_name(public_path.stem + ".previous.pem")


class AccessTokenCodec:
    """Issues and checks short-lived access tokens carrying ``sub``, ``role``, ``exp``, ``jti``."""

    def __init__(
        self,
        private_pem: bytes,
        public_pem: bytes,
        *,
        ttl_seconds: int,
        issuer: str,
        previous_public_pems: Sequence[bytes] = (),
    ) -> None:
        self._private_key = serialization.load_pem_private_key(private_pem, password=None)
        self._public_key = serialization.load_pem_public_key(public_pem)
        self.key_id = key_id(public_pem)
        previous = {key_id(pem): serialization.load_pem_public_key(pem) for pem in previous_public_pems}
        self._verifiers = previous
        self._verifiers[self.key_id] = self._public_key  # the current key, by its id too
        self.ttl_seconds = ttl_seconds
        self._issuer = issuer
        self._verified: OrderedDict[str, AccessClaims] = OrderedDict()
        self._verified_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> AccessTokenCodec:
        """The codec over the configured key pair, generated on first start when missing."""
        private_pem, public_pem = load_or_create_key_pair(settings.private_key_path, settings.public_key_path)
        return cls(
            private_pem,
            public_pem,
            ttl_seconds=settings.access_token_ttl_seconds,
            issuer=settings.jwt_issuer,
            previous_public_pems=previous_public_keys(settings),
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
        return jwt.encode(
            claims,
            self._private_key,  # type: ignore[arg-type]
            algorithm=_ALGORITHM,
            headers={"kid": self.key_id},
        )

    def decode(self, token: str) -> AccessClaims:
        """The token's claims; a token verified before is not verified again until it expires
        (whether its account may still act is the caller's check, on every request)."""
        with self._verified_lock:
            claims = self._verified.get(token)
        if claims is not None:
            if claims.exp <= time.time():
                raise Unauthenticated("access token expired")
            return claims
        claims = self._verify(token)
        with self._verified_lock:
            self._verified[token] = claims
            while len(self._verified) > VERIFIED_CACHE_SIZE:
                self._verified.popitem(last=False)
        return claims

    def _verify(self, token: str) -> AccessClaims:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            verifier = self._public_key if kid is None else self._verifiers.get(str(kid))
            if verifier is None:
                raise Unauthenticated("the access token was signed with a retired key; sign in again")
            claims = jwt.decode(
                token,
                verifier,  # type: ignore[arg-type]
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
