"""Gaze from the iris model: where to cut the eye crop, and how to read its landmarks.

The iris model takes a 64x64 crop of one eye, upright, as a *left-of-image* eye; the other eye's
crop is mirrored (as MediaPipe's iris graph does). Its outputs are 71 eye-contour points (the
first 16 the lids: 0 and 8 the corners, 1-7 the lower lid, 9-15 the upper) and 5 iris points
(centre first), in crop pixels.
"""

from __future__ import annotations

import math
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from protolearn.vision.frames import Frame, FrameView
from protolearn.vision.schemas import Gaze

__all__ = ("IRIS_INPUT", "cut_eye", "read_gaze")

IRIS_INPUT = 64
# Crop side per distance between the eyes. MediaPipe uses 2.3x the eye's corner-to-corner
# width, and an eye is ~0.48 of the interocular distance wide.
EYE_CROP_SCALE = 1.1
# Eyeball radius per eye width (12 mm / ~30 mm): turns the iris's offset into an angle.
EYEBALL_PER_EYE_WIDTH = 0.4
# Lid gap per eye width under which an eye counts as closed.
OPEN_EYE_RATIO = 0.12
# Where the model puts the iris centre of an eye looking straight ahead, relative to the
# corners' midpoint, in eyeball radii and crop axes (median over 27 frontal faces of
# skimage.data: the astronaut, the two-person frame and LFW faces, both eyes).
RESTING_IRIS_OFFSET = (-0.16, -0.09)


def cut_eye(view: FrameView, eye: npt.NDArray[np.float32], other_eye: npt.NDArray[np.float32]) -> Frame:
    """The upright 64x64 RGB crop around eye; mirrored when eye is right of other_eye in the
    image, so the model always sees a left-of-image eye."""
    axis = other_eye - eye
    distance = float(np.hypot(axis[0], axis[1]))
    side = max(EYE_CROP_SCALE * distance, 4.0)
    mirrored = axis[0] < 0
    angle = math.atan2(axis[1], axis[0]) - (math.pi if mirrored else 0.0)
    scale = IRIS_INPUT / side
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    # frame -> crop: rotate the eye line to horizontal, scale, centre the eye; mirror if needed.
    matrix = np.array([[cos, sin, 0.0], [-sin, cos, 0.0]])
    if mirrored:
        matrix[0] *= -1
    matrix[:, 2] = IRIS_INPUT / 2 - matrix[:, :2] @ eye
    half = side * 0.75  # covers the rotated square
    region, x0, y0 = view.region_rgb(
        int(eye[0] - half), int(eye[1] - half), math.ceil(eye[0] + half), math.ceil(eye[1] + half)
    )
    if region.size == 0:
        return np.zeros((IRIS_INPUT, IRIS_INPUT, 3), dtype=np.uint8)
    matrix[:, 2] += matrix[:, :2] @ np.array([x0, y0], dtype=np.float64)
    return cast(
        "Frame",
        cv2.warpAffine(
            region, matrix, (IRIS_INPUT, IRIS_INPUT), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
        ),
    )


def read_gaze(
    contour: npt.NDArray[np.float32], iris: npt.NDArray[np.float32], mirrored: bool
) -> tuple[Gaze | None, bool]:
    """Gaze relative to the head, and whether the eye is open, from one crop's landmarks.

    contour (71, >=2) and iris (5, >=2) in crop pixels. Yaw is the iris centre's offset from the
    corners' midpoint over the eyeball radius (asin); pitch likewise, vertically. An iris the
    model places outside the eyeball (a bad crop, a blurred or hidden eye) gives no gaze.
    """
    corner_a, corner_b = contour[0, :2], contour[8, :2]
    width = float(np.hypot(*(corner_b - corner_a)))
    if width < 1e-3:
        return None, False
    lid_gap = float(np.median(contour[1:8, 1]) - np.median(contour[9:16, 1]))
    is_open = lid_gap / width >= OPEN_EYE_RATIO
    radius = EYEBALL_PER_EYE_WIDTH * width
    dx, dy = (iris[0, :2] - (corner_a + corner_b) / 2) / radius - np.array(RESTING_IRIS_OFFSET)
    if not is_open or abs(dx) >= 1.0 or abs(dy) >= 1.0:
        return None, is_open
    yaw = math.degrees(math.asin(float(dx)))
    pitch = math.degrees(math.asin(float(-dy)))
    return Gaze(yaw=round(-yaw if mirrored else yaw, 1), pitch=round(pitch, 1)), True
