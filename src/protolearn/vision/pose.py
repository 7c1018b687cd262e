"""Head pose from six facial points: a perspective-n-point fit to a generic 3D head.

The points are BlazeFace's keypoints (or the same places read off a face mesh), so both backends
measure pose the same way. Units of the model are millimetres, in the camera's axes (x right,
y down, z away from the camera) for a face looking straight into it; origin at the nose tip.
"""

from __future__ import annotations

import math

import cv2
import numpy as np
import numpy.typing as npt

__all__ = ("HeadPose", "head_pose")

# right eye, left eye (the person's: the right eye is on the image's left), nose tip, mouth
# centre, right tragion, left tragion. Adult averages: 63 mm between pupils, ears ~140 mm apart
# and ~95 mm behind the nose tip.
FACE_MODEL = np.array(
    [
        [-31.5, -38.0, 22.0],
        [31.5, -38.0, 22.0],
        [0.0, 0.0, 0.0],
        [0.0, 30.0, 12.0],
        [-70.0, -25.0, 95.0],
        [70.0, -25.0, 95.0],
    ],
    dtype=np.float64,
)

HeadPose = tuple[float, float, float]


def head_pose(points: npt.NDArray[np.float32], width: int, height: int) -> HeadPose:
    """(yaw, pitch, roll) in degrees from six image points (pixels) of a width x height frame.

    yaw > 0: the face turns towards the image's right; pitch > 0: up; roll > 0: clockwise.
    The camera is assumed to have a ~60 degree horizontal field of view, as webcams do.
    """
    focal = 0.87 * max(width, height)
    camera = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]], dtype=np.float64)
    image = points.astype(np.float64).reshape(-1, 1, 2)
    ok, rotation_vector, _ = cv2.solvePnP(FACE_MODEL, image, camera, None, flags=cv2.SOLVEPNP_SQPNP)
    if not ok:
        return 0.0, 0.0, 0.0
    rotation, _ = cv2.Rodrigues(rotation_vector)
    # rotation maps the face model's axes to the camera's; read it as R = Ry(-yaw) Rx(-pitch)
    # Rz(roll): turn, then nod, then lean, about the face's own axes.
    yaw = -math.degrees(math.atan2(rotation[0, 2], rotation[2, 2]))
    pitch = math.degrees(math.asin(max(-1.0, min(1.0, float(rotation[1, 2])))))
    roll = math.degrees(math.atan2(rotation[1, 0], rotation[1, 1]))
    return yaw, pitch, roll
