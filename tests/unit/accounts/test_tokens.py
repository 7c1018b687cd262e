from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from protolearn.accounts.tokens import (
    AccessTokenCodec,
    load_or_create_key_pair,
    previous_key_path,
    rotate_key_pair,
)
from protolearn.config import Settings
from protolearn.errors import Unauthenticated


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, bytes]:
    folder = tmp_path_factory.mktemp("keys")
    return load_or_create_key_pair(folder / "private.pem", folder / "public.pem")


def test_key_pair_is_made_once_and_kept_private(tmp_path: Path) -> None:
    first = load_or_create_key_pair(tmp_path / "k" / "private.pem", tmp_path / "k" / "public.pem")
    assert (tmp_path / "k" / "private.pem").stat().st_mode & 0o777 == 0o600
    assert load_or_create_key_pair(tmp_path / "k" / "private.pem", tmp_path / "k" / "public.pem") == first
    (tmp_path / "k" / "public.pem").unlink()  # the public half is derived again from the private one
    assert load_or_create_key_pair(tmp_path / "k" / "private.pem", tmp_path / "k" / "public.pem") == first


def test_round_trip_and_claims(keys: tuple[bytes, bytes]) -> None:
    codec = AccessTokenCodec(*keys, ttl_seconds=900, issuer="protolearn")
    claims = codec.decode(codec.issue(7, "teacher"))
    assert (claims.user_id, claims.role, round(claims.exp - claims.iat)) == (7, "teacher", 900)
    assert jwt.get_unverified_header(codec.issue(7, "teacher"))["alg"] == "RS256"


def test_expired_forged_and_foreign_tokens_are_refused(keys: tuple[bytes, bytes], tmp_path: Path) -> None:
    codec = AccessTokenCodec(*keys, ttl_seconds=900, issuer="protolearn")
    expired = AccessTokenCodec(*keys, ttl_seconds=1, issuer="protolearn")
    token = expired.issue(1, "student")
    time.sleep(1.1)
    with pytest.raises(Unauthenticated, match="expired"):
        codec.decode(token)
    other_keys = load_or_create_key_pair(tmp_path / "o.pem", tmp_path / "o.pub")
    with pytest.raises(Unauthenticated):
        codec.decode(AccessTokenCodec(*other_keys, ttl_seconds=900, issuer="protolearn").issue(1, "admin"))
    with pytest.raises(Unauthenticated):
        codec.decode(AccessTokenCodec(*keys, ttl_seconds=900, issuer="elsewhere").issue(1, "admin"))
    with pytest.raises(Unauthenticated):
        codec.decode(_hs256_signed_with(keys[1]))  # the public key as an HMAC secret: algorithm confusion


def _hs256_signed_with(secret: bytes) -> str:
    def part(value: object) -> bytes:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=")

    now = time.time()
    claims = {"sub": "1", "role": "admin", "exp": now + 60, "iat": now, "jti": "x", "iss": "protolearn"}
    signing_input = part({"alg": "HS256", "typ": "JWT"}) + b"." + part(claims)
    signature = base64.urlsafe_b64encode(hmac.new(secret, signing_input, hashlib.sha256).digest()).rstrip(
        b"="
    )
    return (signing_input + b"." + signature).decode()


def test_after_a_rotation_old_tokens_verify_until_the_old_key_is_dropped(tmp_path: Path) -> None:
    private, public = tmp_path / "jwt_private.pem", tmp_path / "jwt_public.pem"
    old_keys = load_or_create_key_pair(private, public)
    before = AccessTokenCodec(*old_keys, ttl_seconds=900, issuer="protolearn")
    old_token = before.issue(7, "student")
    assert jwt.get_unverified_header(old_token)["kid"] == before.key_id

    old_id, new_id = rotate_key_pair(private, public)
    assert (old_id, private.stat().st_mode & 0o777) == (before.key_id, 0o600)
    settings = Settings.from_env({}, data_dir=str(tmp_path))
    after = AccessTokenCodec.from_settings(settings)  # reads the .previous.pem left beside
    assert after.key_id == new_id != old_id
    new_token = after.issue(8, "teacher")
    assert jwt.get_unverified_header(new_token)["kid"] == new_id
    assert after.decode(old_token).user_id == 7  # the old key still verifies what it signed
    assert after.decode(new_token).user_id == 8
    with pytest.raises(Unauthenticated):
        before.decode(new_token)  # a node not restarted yet does not know the new key

    previous_key_path(public).unlink()  # its tokens have expired: the old key goes
    dropped = AccessTokenCodec.from_settings(settings)
    with pytest.raises(Unauthenticated, match="retired key"):
        dropped.decode(old_token)
    assert dropped.decode(new_token).user_id == 8


def test_a_token_from_before_key_ids_is_checked_against_the_current_key(keys: tuple[bytes, bytes]) -> None:
    codec = AccessTokenCodec(*keys, ttl_seconds=900, issuer="protolearn")
    now = time.time()
    claims = {"sub": "7", "role": "student", "iat": now, "exp": now + 60, "iss": "protolearn", "jti": "x"}
    private = serialization.load_pem_private_key(keys[0], password=None)
    legacy = jwt.encode(claims, private, algorithm="RS256")  # type: ignore[arg-type]
    assert "kid" not in jwt.get_unverified_header(legacy)
    assert codec.decode(legacy).user_id == 7


def test_a_token_verified_once_is_not_verified_again_until_it_expires(
    keys: tuple[bytes, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    codec = AccessTokenCodec(*keys, ttl_seconds=2, issuer="protolearn")
    token = codec.issue(5, "student")
    first = codec.decode(token)
    verified: list[str] = []
    monkeypatch.setattr(jwt, "decode", lambda *a, **k: verified.append("again"))  # would break a 2nd check
    assert codec.decode(token) == first
    assert verified == []
    # Expired, the verified token is refused all the same.
    monkeypatch.setattr(time, "time", lambda: first.exp + 0.001)
    with pytest.raises(Unauthenticated, match="expired"):
        codec.decode(token)


def test_tampered_copies_of_a_verified_token_are_still_checked(keys: tuple[bytes, bytes]) -> None:
    codec = AccessTokenCodec(*keys, ttl_seconds=900, issuer="protolearn")
    token = codec.issue(5, "student")
    codec.decode(token)
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    raised = base64.urlsafe_b64encode(json.dumps({**claims, "role": "admin"}).encode()).rstrip(b"=").decode()
    with pytest.raises(Unauthenticated):
        codec.decode(f"{header}.{raised}.{signature}")


def test_the_verified_tokens_kept_are_bounded(
    keys: tuple[bytes, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("protolearn.accounts.tokens.VERIFIED_CACHE_SIZE", 3)
    codec = AccessTokenCodec(*keys, ttl_seconds=900, issuer="protolearn")
    tokens = [codec.issue(n, "student") for n in range(5)]
    assert [codec.decode(t).user_id for t in tokens] == list(range(5))
    assert list(codec._verified) == tokens[2:]
