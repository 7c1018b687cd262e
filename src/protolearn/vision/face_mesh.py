"""The face mesh as a second stage: is a detector's candidate a face, and where does it point?

MediaPipe's face landmark model takes a 192x192 crop of a face, upright (the eye line
horizontal), 1.5x the detector's box, and returns 468 points (x, y in crop pixels, z the depth
in the same unit, larger away from the camera) and a face flag: a logit that the crop holds a
face at all. The flag is what tells a cat's head, a hand or a patterned cushion from a face when
the detector's own score cannot (those score 0.5-0.6, like a small real face); the points give
a head pose that holds near profile, where one eye and one ear of the detector's six keypoints
are hidden and their guesses pull a perspective-n-point fit off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from protolearn.vision.blazeface import Detection
from protolearn.vision.errors import VisionError
from protolearn.vision.frames import Frame, FrameView

__all__ = ("MESH_INPUT", "MeshCrop", "cut_face", "detection_from_mesh", "mesh_pose", "presence")

MESH_INPUT = 192
MESH_POINTS = 468
# The crop is this much larger than the detector's box (MediaPipe's face landmark graph).
CROP_SCALE = 1.5
# Under this presence (the sigmoid of the face flag) a candidate the detector is unsure of is
# not a face, and a followed face is lost. MediaPipe's FaceLandmarker drops a tracked face at
# 0.5, but a coffee cup of 300 px in a VP8 stream (the detector's 0.40-0.47) read 0.63-0.86 on
# the mesh, while the faces it is there to confirm read over 0.99.
MIN_PRESENCE = 0.95

# Mesh points that mirror each other across the face (the person's right, then left): outer and
# inner eye corners, brows, cheekbones, the face's sides at the ears, mouth corners, jaw; and
# the midline from the forehead down to the chin. They set the template's axes.
RIGHT_SIDE = (33, 133, 70, 105, 234, 93, 61, 132, 58, 172)
LEFT_SIDE = (263, 362, 300, 334, 454, 323, 291, 361, 288, 397)
UPPER_MIDLINE = (10, 151, 9, 8)
LOWER_MIDLINE = (17, 18, 200, 199, 175, 152)
# Points that keep their place on the skull whatever the face does (no lips, jaw or eyelids):
# eye corners, brows' ends, forehead, nose, cheekbones and temples. Pose is fitted to these.
RIGID_POINTS = (
    33, 133, 263, 362, 70, 300, 10, 151, 9, 67, 297, 109, 338, 54, 284,
    1, 4, 5, 6, 168, 197, 195, 234, 454, 93, 323, 127, 356, 116, 345, 50, 280, 123, 352,
)  # fmt: skip
# BlazeFace's six keypoints as mesh points: the eyes' centres (corners and lids), the nose tip,
# the mouth's centre, the tragions.
KEYPOINT_POINTS = ((33, 133, 159, 145), (263, 362, 386, 374), (1,), (13, 14), (234,), (454,))
TEMPLATE_PATH = Path(__file__).with_name("face_template.npy")
# The camera pose is measured in: MediaPipe's face geometry uses a 63 degree vertical field of
# view, so angles here are comparable with its FaceLandmarker's transformation matrices.
VERTICAL_FOV_DEGREES = 63.0


@dataclass(frozen=True, slots=True)
class MeshCrop:
    """A candidate's crop for the mesh and the map back: frame = matrix @ (u, v, 1)."""

    pixels: Frame
    matrix: npt.NDArray[np.float64]  # 2x3, crop pixels -> frame pixels
    scale: float  # frame pixels per crop pixel

    def to_frame(self, points: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """(N, 3) crop points -> frame pixels; z scaled like x and y."""
        out = np.empty_like(points)
        linear, offset = self.matrix[:, :2].astype(np.float32), self.matrix[:, 2].astype(np.float32)
        out[:, :2] = points[:, :2] @ linear.T + offset
        out[:, 2] = points[:, 2] * np.float32(self.scale)
        return out


def cut_face(view: FrameView, face: Detection, gain: float = 1.0) -> MeshCrop:
    """The upright 192x192 RGB crop of a candidate: square, CROP_SCALE times its box's long
    side, centred on the box, rotated so that the eye keypoints are level; brightened by gain
    (a dark frame's, as the detectors saw it)."""
    x0, y0, x1, y1 = (float(v) for v in face.box)
    right_eye, left_eye = face.keypoints[0], face.keypoints[1]
    angle = math.atan2(float(left_eye[1] - right_eye[1]), float(left_eye[0] - right_eye[0]))
    side = max(x1 - x0, y1 - y0, 4.0) * CROP_SCALE
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2])
    scale = side / MESH_INPUT
    cos, sin = math.cos(angle) * scale, math.sin(angle) * scale
    matrix = np.array([[cos, -sin, 0.0], [sin, cos, 0.0]])
    matrix[:, 2] = centre - matrix[:, :2] @ np.array([MESH_INPUT / 2, MESH_INPUT / 2])
    half = side * 0.71  # half the diagonal: covers the square at any rotation
    region, rx, ry = view.region_rgb(
        int(centre[0] - half), int(centre[1] - half), math.ceil(centre[0] + half), math.ceil(centre[1] + half)
    )
    if region.size == 0:
        pixels = np.zeros((MESH_INPUT, MESH_INPUT, 3), dtype=np.uint8)
    else:
        local = matrix.copy()
        local[:, 2] -= (rx, ry)
        pixels = cast(
            "Frame",
            cv2.warpAffine(
                np.ascontiguousarray(region),
                local,
                (MESH_INPUT, MESH_INPUT),
                flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_CONSTANT,
            ),
        )
    if gain > 1.0:
        pixels = cast("Frame", cv2.convertScaleAbs(pixels, alpha=gain))
    return MeshCrop(pixels=pixels, matrix=matrix, scale=scale)


def detection_from_mesh(points: npt.NDArray[np.float32], score: float) -> Detection:
    """The detector's view of a face the mesh found (frame pixels): its box and six keypoints,
    for following the face into the next frame without running the detector. BlazeFace's box
    is a square 0.97 times the mesh's extent, 0.03 of it lower (medians over the accuracy set's
    faces, spread 0.07 and 0.04)."""
    x0, y0 = points[:, :2].min(axis=0)
    x1, y1 = points[:, :2].max(axis=0)
    half = 0.97 * max(float(x1 - x0), float(y1 - y0)) / 2
    cx, cy = float(x0 + x1) / 2, float(y0 + y1) / 2 + 0.06 * half
    keypoints = np.stack([points[list(group), :2].mean(axis=0) for group in KEYPOINT_POINTS])
    box = np.array([cx - half, cy - half, cx + half, cy + half], dtype=np.float32)
    return Detection(box=box, score=score, keypoints=keypoints.astype(np.float32))


def presence(logit: float) -> float:
    """The face flag's logit as a probability."""
    return 1.0 / (1.0 + math.exp(-max(-80.0, min(80.0, logit))))


def mesh_pose(points: npt.NDArray[np.float32], width: int, height: int) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees from the 468 mesh points in frame pixels (z as x), with the
    signs of pose.head_pose: yaw > 0 towards the image's right, pitch > 0 up, roll > 0 clockwise.

    The rotation is the one that maps the template (the mean face of the mesh, in the face's own
    axes, scripts/build_face_template.py) onto the face's rigid points best (Kabsch). It uses
    the whole shape, foreshortening included, so it holds near profile where the depth of the
    hidden side is a guess. The mesh is a weak-perspective reading relative to the line of
    sight to the face; turning it into the camera's axes keeps a face at the image's edge that
    looks into the lens from reading as turned less than it is (or more).
    """
    observed = points[list(RIGID_POINTS)].astype(np.float64)
    a, b = _rigid_template(), observed - observed.mean(axis=0)
    u, _, vt = np.linalg.svd(a.T @ b)
    d = 1.0 if np.linalg.det(vt.T @ u.T) >= 0 else -1.0
    rotation = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    rotation = _line_of_sight(observed[:, :2].mean(axis=0), width, height) @ rotation
    yaw = -math.degrees(math.atan2(rotation[0, 2], rotation[2, 2]))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, float(rotation[1, 2])))))
    roll = math.degrees(math.atan2(rotation[1, 0], rotation[1, 1]))
    return yaw, pitch, roll


@cache
def _rigid_template() -> npt.NDArray[np.float64]:
    """The template's rigid points about their centre (made once: pose is per frame)."""
    rigid = _template()[list(RIGID_POINTS)]
    centred: npt.NDArray[np.float64] = rigid - rigid.mean(axis=0)
    return centred


@cache
def _template() -> npt.NDArray[np.float64]:
    try:
        template: npt.NDArray[np.float64] = np.load(TEMPLATE_PATH).astype(np.float64)
    except (OSError, ValueError) as error:
        raise VisionError(f"cannot read the face template {TEMPLATE_PATH.name}: {error}") from error
    if template.shape != (MESH_POINTS, 3):
        raise VisionError(f"the face template has shape {template.shape}, not ({MESH_POINTS}, 3)")
    return template


def _line_of_sight(centre: npt.NDArray[np.float64], width: int, height: int) -> npt.NDArray[np.float64]:
    """The rotation taking the optical axis onto the ray to an image point."""
    focal = (height / 2) / math.tan(math.radians(VERTICAL_FOV_DEGREES / 2))
    ray = np.array([(centre[0] - width / 2) / focal, (centre[1] - height / 2) / focal, 1.0])
    ray /= np.linalg.norm(ray)
    axis = np.cross([0.0, 0.0, 1.0], ray)
    sin = float(np.linalg.norm(axis))
    if sin < 1e-9:
        return np.eye(3)
    vector = axis / sin * math.asin(min(1.0, sin))
    return cast("npt.NDArray[np.float64]", cv2.Rodrigues(vector)[0])
