"""Test frames built from the real photographs that ship with scikit-image.

Each builder returns a fresh RGB uint8 array; the cases table names every frame the accuracy
tests check, with the expected values kept in expected/faces.json.
"""

from __future__ import annotations

from collections.abc import Callable

import cv2
import numpy as np
from skimage import data

Frame = np.ndarray


def astronaut() -> Frame:
    """One face (Eileen Collins), 640x480 as a webcam would give it."""
    return cv2.resize(data.astronaut(), (640, 480), interpolation=cv2.INTER_AREA)


def empty_room() -> Frame:
    """No one in view: a cup of coffee on a table, 640x480."""
    return cv2.resize(data.coffee(), (640, 480), interpolation=cv2.INTER_AREA)


def cameraman() -> Frame:
    """One face in three-quarter view, turned towards the image's right (into his camera),
    grayscale, 512x512."""
    return np.ascontiguousarray(np.repeat(data.camera()[..., None], 3, axis=2))


def _head_and_shoulders(image: Frame, cx: int, cy: int, half: int) -> Frame:
    crop = image[max(0, cy - half) : cy + half, max(0, cx - half) : cx + half]
    return cv2.resize(crop, (320, 320), interpolation=cv2.INTER_AREA)


def two_people() -> Frame:
    """Two people side by side in one 640x480 frame."""
    frame = np.zeros((480, 640, 3), dtype=np.uint8)
    frame[80:400, :320] = _head_and_shoulders(data.astronaut(), 225, 150, 150)
    frame[80:400, 320:] = _head_and_shoulders(cameraman(), 225, 160, 150)
    return frame


def two_lfw_faces() -> Frame:
    """Two faces of the Labeled Faces in the Wild subset, upscaled, side by side."""
    frame = np.full((480, 640, 3), 96, dtype=np.uint8)
    for slot, face in enumerate(data.lfw_subset()[:2]):
        tile = cv2.resize((face * 255).astype(np.uint8), (200, 200), interpolation=cv2.INTER_CUBIC)
        frame[140:340, 80 + slot * 280 : 280 + slot * 280] = tile[..., None]
    return frame


def mirrored(build: Callable[[], Frame]) -> Callable[[], Frame]:
    return lambda: np.ascontiguousarray(build()[:, ::-1])


def darkened(build: Callable[[], Frame], factor: float) -> Callable[[], Frame]:
    return lambda: (build().astype(np.float32) * factor).astype(np.uint8)


def low_resolution() -> Frame:
    """The astronaut at 160x120, the size of a starved video stream."""
    return cv2.resize(astronaut(), (160, 120), interpolation=cv2.INTER_AREA)


def tilted_clockwise(build: Callable[[], Frame], degrees: float) -> Callable[[], Frame]:
    """The head leaning towards one shoulder: the picture rotated clockwise about its centre."""

    def rotate() -> Frame:
        image = build()
        h, w = image.shape[:2]
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), -degrees, 1.0)
        return cv2.warpAffine(image, matrix, (w, h), borderMode=cv2.BORDER_REPLICATE)

    return rotate


CASES: dict[str, Callable[[], Frame]] = {
    "astronaut": astronaut,
    "astronaut_mirrored": mirrored(astronaut),
    "cameraman": cameraman,
    "cameraman_mirrored": mirrored(cameraman),
    "two_people": two_people,
    "two_lfw_faces": two_lfw_faces,
    "coffee": lambda: cv2.resize(data.coffee(), (640, 480)),
    "chelsea_the_cat": lambda: cv2.resize(data.chelsea(), (640, 480)),
    "rocket": lambda: cv2.resize(data.rocket(), (640, 480)),
    "astronaut_dark": darkened(astronaut, 0.12),
    "astronaut_very_dark": darkened(astronaut, 0.06),
    "black": lambda: np.zeros((480, 640, 3), dtype=np.uint8),
    "astronaut_low_resolution": low_resolution,
    "astronaut_tilted_clockwise": tilted_clockwise(astronaut, 25),
    "astronaut_tilted_anticlockwise": tilted_clockwise(astronaut, -25),
}


def i420(rgb: Frame) -> Frame:
    """The same picture as a decoded video frame hands it over."""
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2YUV_I420)
