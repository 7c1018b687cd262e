"""Files encrypted at rest with AES-GCM, readable by byte range without decrypting the rest.

Evidence clips are video of students in their homes: on disk they are sealed, and opened only
to be served. A sealed file is a header (magic, the key's id, a random nonce prefix, the plain
size, the chunk size) and the plain bytes in chunks of ``CHUNK`` sealed one by one: chunk *i*
with the nonce prefix and *i*, its authenticated data the header, *i* and whether it is the last,
so chunks cannot be reordered, swapped between files, or cut off at the end unnoticed. A range
read opens only the chunks it covers (a player's Range requests stay cheap).

A file without the magic is a plain file (a clip written before sealing existed) and is read
as it is. Keys: the current one seals; older ones, by their id, still open what they sealed.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import struct
from collections.abc import Iterable
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

__all__ = ("CHUNK", "SealError", "Sealer", "load_or_create_key")

MAGIC = b"PLSEAL1\n"
CHUNK = 64 * 1024
_HEADER = struct.Struct(">8s8s8sQI")  # magic, key id, nonce prefix, plain size, chunk size
_TAG = 16


class SealError(Exception):
    """A sealed file that cannot be opened: another deployment's key, or changed on disk."""


def _key_id(key: bytes) -> bytes:
    return hashlib.sha256(b"protolearn-seal-key-id" + key).digest()[:8]


def load_or_create_key(configured: str, key_path: Path) -> bytes:
    """The 32-byte key: from its setting (64 hex digits), else from ``key_path``, made there
    (readable by its owner only) on first use. Several nodes must be given the same setting."""
    if configured:
        return parse_key(configured)
    try:
        return parse_key(key_path.read_text().strip())
    except FileNotFoundError:
        pass
    key_path.parent.mkdir(parents=True, exist_ok=True)
    # Written aside, then linked into place: of two processes starting at once one key wins,
    # and neither reads a half-written file.
    aside = key_path.with_name(f".{key_path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    descriptor = os.open(aside, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secrets.token_bytes(32).hex() + "\n")
    try:
        os.link(aside, key_path)
    except FileExistsError:
        pass
    finally:
        aside.unlink()
    return parse_key(key_path.read_text().strip())


def parse_key(text: str) -> bytes:
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise ValueError("an encryption key is 64 hexadecimal digits (openssl rand -hex 32)") from None
    if len(key) != 32:
        raise ValueError("an encryption key is 64 hexadecimal digits (openssl rand -hex 32)")
    return key


class Sealer:
    def __init__(self, key: bytes, old_keys: Iterable[bytes] = ()) -> None:
        self._key_id = _key_id(key)
        self._ciphers = {_key_id(k): AESGCM(k) for k in (*old_keys, key)}

    def seal(self, plain: bytes, target: Path) -> None:
        """Writes ``plain`` sealed to ``target``, atomically (a reader sees the old file or the new)."""
        header = _HEADER.pack(MAGIC, self._key_id, secrets.token_bytes(8), len(plain), CHUNK)
        cipher = self._ciphers[self._key_id]
        count = max(1, -(-len(plain) // CHUNK))
        parts = [header]
        for index in range(count):
            chunk = plain[index * CHUNK : (index + 1) * CHUNK]
            parts.append(
                cipher.encrypt(_nonce(header, index), chunk, _aad(header, index, index == count - 1))
            )
        partial = target.with_name(target.name + ".sealing")
        partial.write_bytes(b"".join(parts))
        partial.replace(target)

    def size(self, path: Path) -> int:
        """The plain size of the file (a plain file's own size)."""
        with path.open("rb") as handle:
            head = handle.read(_HEADER.size)
            if head[: len(MAGIC)] != MAGIC:
                return os.fstat(handle.fileno()).st_size
        return int(_HEADER.unpack(head)[3])

    def read(self, path: Path, offset: int, length: int) -> bytes:
        """Plain bytes offset..offset+length (fewer at the end), opening only their chunks."""
        with path.open("rb") as handle:
            head = handle.read(_HEADER.size)
            if head[: len(MAGIC)] != MAGIC:
                handle.seek(offset)
                return handle.read(length)
            _magic, key_id, _prefix, size, chunk_size = _HEADER.unpack(head)
            cipher = self._ciphers.get(key_id)
            if cipher is None:
                raise SealError(f"{path.name} was sealed with a key this server does not have")
            end = min(size, offset + length)
            if offset >= end:
                return b""
            count = max(1, -(-size // chunk_size))
            first, last = offset // chunk_size, (end - 1) // chunk_size
            handle.seek(_HEADER.size + first * (chunk_size + _TAG))
            plain = bytearray()
            for index in range(first, last + 1):
                sealed = handle.read(min(chunk_size, size - index * chunk_size) + _TAG)
                try:
                    plain += cipher.decrypt(
                        _nonce(head, index), sealed, _aad(head, index, index == count - 1)
                    )
                except InvalidTag:
                    raise SealError(f"{path.name} has changed on disk since it was sealed") from None
        start = offset - first * chunk_size
        return bytes(plain[start : start + (end - offset)])

    def open(self, path: Path) -> bytes:
        """The whole plain file."""
        return self.read(path, 0, self.size(path))


def _nonce(header: bytes, index: int) -> bytes:
    return header[16:24] + struct.pack(">I", index)


def _aad(header: bytes, index: int, last: bool) -> bytes:
    return header + struct.pack(">I?", index, last)
