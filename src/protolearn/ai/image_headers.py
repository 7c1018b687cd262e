"""The size of a PNG or JPEG picture, read from its header without decoding a pixel.

The walk also checks the file's structure cheaply (PNG: the header's checksum and chunks up to
IEND; JPEG: a frame header before the first scan), so a cut-short upload is refused at once.
Decoding is left to the extraction process.
"""

from __future__ import annotations

import struct
import zlib

from protolearn.ai.errors import UnreadableMaterial

__all__ = ("PNG_SIGNATURE", "picture_size")

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# JPEG frame headers (baseline, progressive, lossless, arithmetic): C0-CF but DHT, JPG and DAC.
_JPEG_FRAMES = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length: TEM, the restart markers.
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})


def picture_size(data: bytes) -> tuple[int, int]:
    """(width, height) of a PNG or JPEG, or ``UnreadableMaterial`` for a broken or cut-short one."""
    if data.startswith(PNG_SIGNATURE):
        return _png_size(data)
    if data.startswith(b"\xff\xd8"):
        return _jpeg_size(data)
    raise UnreadableMaterial("the image is neither a PNG nor a JPEG")


def _png_size(data: bytes) -> tuple[int, int]:
    size: tuple[int, int] | None = None
    has_pixels = False
    at = len(PNG_SIGNATURE)
    while True:
        if at + 12 > len(data):
            raise UnreadableMaterial("the PNG image is cut short; upload the whole file")
        length, kind = struct.unpack_from(">I4s", data, at)
        end = at + 12 + length
        if end > len(data):
            raise UnreadableMaterial("the PNG image is cut short; upload the whole file")
        if size is None:
            header = data[at + 4 : at + 8 + length]
            (checksum,) = struct.unpack_from(">I", data, at + 8 + length)
            if kind != b"IHDR" or length != 13 or zlib.crc32(header) != checksum:
                raise UnreadableMaterial("the PNG image has no valid header")
            width, height = struct.unpack_from(">II", data, at + 8)
            if width == 0 or height == 0:
                raise UnreadableMaterial("the PNG image has no pixels")
            size = (width, height)
        elif kind == b"IDAT":
            has_pixels = True
        elif kind == b"IEND":
            if not has_pixels:
                raise UnreadableMaterial("the PNG image holds no image data")
            return size
        at = end


def _jpeg_size(data: bytes) -> tuple[int, int]:
    at = 2
    while True:
        if at + 4 > len(data):
            raise UnreadableMaterial("the JPEG image is cut short; upload the whole file")
        if data[at] != 0xFF:
            raise UnreadableMaterial("the JPEG image is damaged")
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker in _JPEG_STANDALONE:
            at += 2
            continue
        if marker in (0xD8, 0xD9, 0xDA):  # a second start, the end, or pixels before any frame
            raise UnreadableMaterial("the JPEG image has no frame header")
        (length,) = struct.unpack_from(">H", data, at + 2)
        if length < 2 or at + 2 + length > len(data):
            raise UnreadableMaterial("the JPEG image is cut short; upload the whole file")
        if marker in _JPEG_FRAMES:
            if length < 8:
                raise UnreadableMaterial("the JPEG image is damaged")
            height, width = struct.unpack_from(">HH", data, at + 5)
            if width == 0 or height == 0:
                raise UnreadableMaterial("the JPEG image has no pixels")
            return width, height
        at += 2 + length
