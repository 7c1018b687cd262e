"""Head pose, gaze reading and frame handling on synthetic input with known answers."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from protolearn.vision.blazeface import room_scan_spec
from protolearn.vision.errors import FrameFormatError
from protolearn.vision.frames import view_of
from protolearn.vision.gaze import EYEBALL_PER_EYE_WIDTH, RESTING_IRIS_OFFSET, read_gaze
from protolearn.vision.pose import FACE_MODEL, head_pose


def _project(yaw: float, pitch: float, roll: float, width: int = 640, height: int = 480) -> np.ndarray:
    """The face model's six points seen by a webcam, the head turned by the given angles."""
    focal = 0.87 * max(width, height)
    camera = np.array([[focal, 0, width / 2], [0, focal, height / 2], [0, 0, 1]])
    # Turning towards the image's right swings the face's forward axis (-z) towards +x:
    # a rotation about the camera's y axis by -yaw; looking up (pitch > 0) is about x by -pitch.
    rotation = (
        cv2.Rodrigues(np.array([0.0, math.radians(-yaw), 0.0]))[0]
        @ cv2.Rodrigues(np.array([math.radians(-pitch), 0.0, 0.0]))[0]
        @ cv2.Rodrigues(np.array([0.0, 0.0, math.radians(roll)]))[0]
    )
    points, _ = cv2.projectPoints(
        FACE_MODEL, cv2.Rodrigues(rotation)[0], np.array([0.0, 0.0, 600.0]), camera, None
    )
    return points.reshape(-1, 2).astype(np.float32)


@pytest.mark.parametrize(
    ("yaw", "pitch", "roll"),
    [(0, 0, 0), (30, 0, 0), (-30, 0, 0), (0, 20, 0), (0, -20, 0), (0, 0, 15), (25, -10, 5)],
)
def test_head_pose_recovers_the_angles_of_a_projected_head(yaw: float, pitch: float, roll: float) -> None:
    measured = head_pose(_project(yaw, pitch, roll), 640, 480)
    np.testing.assert_allclose(measured, (yaw, pitch, roll), atol=2.0)


def test_a_head_turned_to_the_right_has_its_nose_right_of_its_eyes() -> None:
    points = _project(30, 0, 0)
    assert points[2, 0] > points[:2, 0].mean()
    assert head_pose(points, 640, 480)[0] > 0


def _eye(iris_offset: tuple[float, float], lid_gap: float = 8.0) -> tuple[np.ndarray, np.ndarray]:
    """Crop landmarks of an eye 30 px wide whose iris sits iris_offset eyeball radii from rest."""
    contour = np.zeros((71, 3), np.float32)
    contour[0, :2], contour[8, :2] = (17, 32), (47, 32)
    contour[1:8, 1] = 32 + lid_gap / 2  # lower lid
    contour[9:16, 1] = 32 - lid_gap / 2  # upper lid
    radius = EYEBALL_PER_EYE_WIDTH * 30
    iris = np.zeros((5, 3), np.float32)
    iris[0, 0] = 32 + (RESTING_IRIS_OFFSET[0] + iris_offset[0]) * radius
    iris[0, 1] = 32 + (RESTING_IRIS_OFFSET[1] + iris_offset[1]) * radius
    return contour, iris


def test_gaze_straight_ahead_is_zero() -> None:
    gaze, is_open = read_gaze(*_eye((0.0, 0.0)), mirrored=False)
    assert is_open
    assert gaze is not None
    assert (gaze.yaw, gaze.pitch) == pytest.approx((0.0, 0.0), abs=0.2)


def test_gaze_angles_follow_the_iris_and_mirroring_flips_yaw() -> None:
    gaze, _ = read_gaze(*_eye((0.5, -0.5)), mirrored=False)
    assert gaze is not None
    assert gaze.yaw == pytest.approx(30.0, abs=0.2)  # asin(0.5), towards the image's right
    assert gaze.pitch == pytest.approx(30.0, abs=0.2)  # iris up: looking up
    mirrored, _ = read_gaze(*_eye((0.5, -0.5)), mirrored=True)
    assert mirrored is not None
    assert mirrored.yaw == pytest.approx(-30.0, abs=0.2)


def test_closed_eye_or_iris_outside_the_eyeball_gives_no_gaze() -> None:
    assert read_gaze(*_eye((0.0, 0.0), lid_gap=1.0), mirrored=False) == (None, False)
    assert read_gaze(*_eye((1.5, 0.0)), mirrored=False) == (None, True)


def test_frames_are_validated_with_clear_messages() -> None:
    with pytest.raises(FrameFormatError, match="uint8"):
        view_of(np.zeros((480, 640, 3), np.float32))
    with pytest.raises(FrameFormatError, match="shape"):
        view_of(np.zeros((480, 640, 4), np.uint8))
    with pytest.raises(FrameFormatError, match="too small"):
        view_of(np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(FrameFormatError, match="uint8"):
        view_of([[1, 2], [3, 4]])
    i420 = view_of(np.zeros((720, 640), np.uint8))
    assert (i420.width, i420.height, i420.is_i420) == (640, 480, True)


def test_letterbox_maps_model_coordinates_back_to_frame_pixels() -> None:
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[100:200, 300:400] = 255
    target = np.empty((3, 128, 128), np.float32)
    letterbox = view_of(frame).letterbox_into(target)
    # 640 -> 128: scale 0.2, the 96 rows of picture centred between 16 rows of padding.
    assert (letterbox.scale, letterbox.pad_x, letterbox.pad_y) == (0.2, 0.0, 16.0)
    assert target.min() == -1.0
    assert target.max() == pytest.approx(1.0)
    white = np.argwhere(target[0] > 0.9)
    corners = np.array(
        [[white[:, 1].min(), white[:, 0].min()], [white[:, 1].max() + 1, white[:, 0].max() + 1]]
    )
    mapped = letterbox.to_frame(corners.astype(np.float32) / 128)
    np.testing.assert_allclose(mapped, [[300, 100], [400, 200]], atol=5)


def test_a_frame_shaped_input_fills_with_picture_and_maps_back() -> None:
    frame = np.zeros((480, 640, 3), np.uint8)
    frame[100:200, 300:400] = 255
    spec = room_scan_spec(384, 0.5)
    assert spec.input_shape(640, 480) == (288, 384)
    assert spec.input_shape(1280, 720) == (224, 384)  # 216 rounded up to a multiple of 32
    assert spec.input_shape(480, 640) == (384, 288)
    target = np.empty((3, *spec.input_shape(640, 480)), np.float32)
    letterbox = view_of(frame).letterbox_into(target)
    assert (letterbox.scale, letterbox.pad_x, letterbox.pad_y) == (0.6, 0.0, 0.0)
    white = np.argwhere(target[0] > 0.9)
    corners = np.array(
        [[white[:, 1].min(), white[:, 0].min()], [white[:, 1].max() + 1, white[:, 0].max() + 1]]
    )
    mapped = letterbox.to_frame(corners.astype(np.float32) / np.array([384, 288], np.float32))
    np.testing.assert_allclose(mapped, [[300, 100], [400, 200]], atol=3)


def test_dark_gain_brightens_dim_frames_but_not_a_lit_face_in_the_dark() -> None:
    dim = np.full((480, 640, 3), 20, np.uint8)
    assert view_of(dim).dark_gain() == 4.0  # capped
    lit_face = np.zeros((480, 640, 3), np.uint8)
    lit_face[100:300, 200:400] = 220
    assert view_of(lit_face).dark_gain() == pytest.approx(1.045, abs=0.01)
