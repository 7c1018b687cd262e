"""VP8 payloads for tests of what the relay does with a publisher's video: real libvpx
frames of a picture, and forged key frame headers."""

from __future__ import annotations

import fractions
import random

import av
import cv2
import numpy as np
import numpy.typing as npt

from tests.support.peers import FPS

__all__ = ("encode_vp8", "forged_keyframe")


def encode_vp8(
    picture: npt.NDArray[np.uint8], frames: int, width: int, height: int, shift: int = 0
) -> list[bytes]:
    """Real VP8 (libvpx, realtime) of an RGB picture at width x height, swaying 3 px a frame
    from `shift` px to the right: a key frame, then deltas."""
    codec = av.CodecContext.create("libvpx", "w")
    codec.width, codec.height, codec.pix_fmt = width, height, "yuv420p"
    codec.time_base = fractions.Fraction(1, FPS)
    codec.bit_rate = 600_000
    codec.options = {"deadline": "realtime", "cpu-used": "8"}
    if picture.shape[:2] != (height, width):
        picture = cv2.resize(picture, (width, height), interpolation=cv2.INTER_AREA)
    packets: list[bytes] = []
    for index in range(frames):
        moved = np.ascontiguousarray(np.roll(picture, shift + 3 * index, axis=1))
        frame = av.VideoFrame.from_ndarray(moved, format="rgb24").reformat(format="yuv420p")
        frame.pts = index
        packets += [bytes(packet) for packet in codec.encode(frame)]
    packets += [bytes(packet) for packet in codec.encode(None)]
    return packets


def forged_keyframe(width: int, height: int, body: int, rng: random.Random) -> bytes:
    """A VP8 key frame header claiming width x height, followed by `body` random bytes."""
    size = body.to_bytes(3, "little")
    tag = bytes([(size[0] << 5) & 0xE0 | 0x10, size[1], size[2]])  # key frame, shown
    header = tag + b"\x9d\x01\x2a" + width.to_bytes(2, "little") + height.to_bytes(2, "little")
    return header + rng.randbytes(body)
