"""What the relay reads of a VP8 frame without decoding it (RFC 6386 section 9.1)."""

from __future__ import annotations

__all__ = ("is_vp8_keyframe", "keyframe_size")

_START_CODE = b"\x9d\x01\x2a"


def is_vp8_keyframe(data: bytes) -> bool:
    """Bit 0 of the first byte of a VP8 frame is 0 for a key frame."""
    return bool(data) and data[0] & 1 == 0


def keyframe_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a key frame's header (3-byte tag, start code 9d 01 2a, then 14-bit
    width and height, little-endian); None when the bytes are not a key frame's header."""
    if len(data) < 10 or not is_vp8_keyframe(data) or data[3:6] != _START_CODE:
        return None
    return int.from_bytes(data[6:8], "little") & 0x3FFF, int.from_bytes(data[8:10], "little") & 0x3FFF
