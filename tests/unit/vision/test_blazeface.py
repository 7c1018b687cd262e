"""BlazeFace decoding: anchors, regression, NMS, and agreement with MediaPipe's own decoder."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
from skimage import data

from protolearn.vision.blazeface import (
    FULL_RANGE,
    SHORT_RANGE,
    Detection,
    decode,
    iou,
    same_face,
    weighted_nms,
)
from protolearn.vision.frames import view_of
from protolearn.vision.models import DEFAULT_MODELS_DIR
from protolearn.vision.runtimes import MediaPipeRuntime, OnnxRuntime
from tests.support.images import astronaut, cameraman, two_people


def test_anchor_layout_matches_mediapipe() -> None:
    assert SHORT_RANGE.anchors.shape == (896, 2)
    assert FULL_RANGE.anchors.shape == (2304, 2)
    # First layer: 16x16 cells of stride 8, two anchors each, row-major, centred in the cell.
    np.testing.assert_allclose(SHORT_RANGE.anchors[0], SHORT_RANGE.anchors[1])
    np.testing.assert_allclose(SHORT_RANGE.anchors[0], [0.5 / 16, 0.5 / 16])
    np.testing.assert_allclose(SHORT_RANGE.anchors[2], [1.5 / 16, 0.5 / 16])
    # Second layer starts after 512 anchors: 8x8 cells, six anchors each.
    np.testing.assert_allclose(SHORT_RANGE.anchors[512], [0.5 / 8, 0.5 / 8])
    np.testing.assert_allclose(SHORT_RANGE.anchors[517], [0.5 / 8, 0.5 / 8])
    np.testing.assert_allclose(SHORT_RANGE.anchors[518], [1.5 / 8, 0.5 / 8])


def _raw(count: int) -> tuple[np.ndarray, np.ndarray]:
    return np.zeros((count, 16), np.float32), np.full((count, 1), -10.0, np.float32)


def test_decode_regresses_from_the_anchor_and_thresholds_the_sigmoid() -> None:
    regressors, logits = _raw(896)
    anchor = 600
    cx, cy = SHORT_RANGE.anchors[anchor]
    regressors[anchor, :4] = [6.4, -12.8, 32.0, 25.6]  # pixels of the 128x128 input
    regressors[anchor, 4:6] = [-6.4, 0.0]  # first keypoint
    logits[anchor] = 2.0  # sigmoid 0.88
    # The next anchor shares the cell: the same face at sigmoid 0.5 (just kept), merged away.
    logits[anchor + 1] = 0.0
    regressors[anchor + 1] = regressors[anchor]

    faces = decode(regressors, logits, SHORT_RANGE)

    assert len(faces) == 1  # the two candidates overlap entirely: one face
    face = faces[0]
    assert face.score == pytest.approx(1 / (1 + np.exp(-2.0)), abs=1e-6)
    centre_x, centre_y = cx + 0.05, cy - 0.1
    np.testing.assert_allclose(
        face.box, [centre_x - 0.125, centre_y - 0.1, centre_x + 0.125, centre_y + 0.1], atol=1e-6
    )
    np.testing.assert_allclose(face.keypoints[0], [cx - 0.05, cy], atol=1e-6)


def test_decode_with_nothing_over_threshold_finds_nobody() -> None:
    regressors, logits = _raw(896)
    logits[:] = -0.1
    assert decode(regressors, logits, SHORT_RANGE) == []
    logits[:] = 1e9  # clipped before the exponential: no overflow, every anchor a candidate
    assert len(decode(regressors, logits, SHORT_RANGE)) > 1


def test_weighted_nms_averages_a_cluster_by_score_and_keeps_separate_faces() -> None:
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.6, 0.7], np.float32)
    keypoints = np.zeros((3, 6, 2), np.float32)
    keypoints[1] += 10

    faces = weighted_nms(boxes, scores, keypoints, iou_threshold=0.3)

    assert [round(face.score, 2) for face in faces] == [0.9, 0.7]
    np.testing.assert_allclose(faces[0].box, [0.4, 0.4, 10.4, 10.4], atol=1e-5)
    np.testing.assert_allclose(faces[0].keypoints, np.full((6, 2), 4.0), atol=1e-5)
    np.testing.assert_allclose(faces[1].box, boxes[2])


def test_same_face_is_an_overlapping_box_or_one_inside_another() -> None:
    def face(x: float, size: float = 10) -> Detection:
        return Detection(
            box=np.array([x, 0, x + size, size], np.float32), score=0.9, keypoints=np.zeros((6, 2))
        )

    near = [face(0)]
    assert same_face(face(1), near)  # IoU 0.82
    assert not same_face(face(100), near)
    assert not same_face(face(5), [])
    # A quarter of a large box, inside it: IoU 0.25, yet the same face.
    assert same_face(face(0, 5), [face(0, 10)])
    assert not same_face(face(8, 5), [face(0, 10)])  # a corner overlap only


@pytest.fixture(scope="module")
def runtimes() -> tuple[OnnxRuntime, MediaPipeRuntime]:
    onnx, mediapipe = OnnxRuntime(DEFAULT_MODELS_DIR), MediaPipeRuntime(DEFAULT_MODELS_DIR)
    yield onnx, mediapipe  # type: ignore[misc]
    mediapipe.close()


def _lfw(index: int) -> np.ndarray:
    face = (data.lfw_subset()[index] * 255).astype(np.uint8)
    return np.repeat(cv2.resize(face, (192, 192), interpolation=cv2.INTER_CUBIC)[..., None], 3, axis=2)


@pytest.mark.parametrize(
    "build",
    [
        astronaut,
        cameraman,
        two_people,
        lambda: data.astronaut(),
        *(lambda i=i: _lfw(i) for i in range(0, 100, 11)),
    ],
    ids=[
        "astronaut-640",
        "cameraman",
        "two-people",
        "astronaut-512",
        *(f"lfw-{i}" for i in range(0, 100, 11)),
    ],
)
def test_our_decoder_finds_the_boxes_mediapipe_finds(
    runtimes: tuple[OnnxRuntime, MediaPipeRuntime], build: object
) -> None:
    """Same short-range model file, our letterbox + decoder + NMS vs MediaPipe Tasks' graph, on
    full-size frames: each side shrinks the frame its own way (area averaging here, bilinear
    sampling there), which moves a small or weak face's box a little."""
    onnx, mediapipe = runtimes
    view = view_of(np.ascontiguousarray(build()))  # type: ignore[operator]
    ours = sorted(onnx.detect([view], [1.0], SHORT_RANGE)[0], key=lambda f: float(f.box[0]))
    theirs = sorted(mediapipe.detect([view], [1.0], SHORT_RANGE)[0], key=lambda f: float(f.box[0]))
    assert len(ours) == len(theirs) >= 1
    for a, b in zip(ours, theirs, strict=True):
        assert float(iou(a.box, b.box[None])[0]) >= 0.8, (a.box, b.box)
        assert abs(a.score - b.score) <= 0.05


@pytest.mark.parametrize(
    "build", [astronaut, cameraman, two_people], ids=["astronaut", "cameraman", "two-people"]
)
def test_on_the_same_model_input_our_decoder_equals_mediapipe(
    runtimes: tuple[OnnxRuntime, MediaPipeRuntime], build: object
) -> None:
    """Given exactly the 128x128 picture the model sees, boxes and keypoints are MediaPipe's to
    within its integer rounding of boxes: anchors, regression, sigmoid and weighted NMS agree."""
    onnx, mediapipe = runtimes
    picture = cv2.resize(build(), (128, 128), interpolation=cv2.INTER_AREA)  # type: ignore[operator]
    view = view_of(np.ascontiguousarray(picture))
    ours = sorted(onnx.detect([view], [1.0], SHORT_RANGE)[0], key=lambda f: float(f.box[0]))
    theirs = sorted(mediapipe.detect([view], [1.0], SHORT_RANGE)[0], key=lambda f: float(f.box[0]))
    assert len(ours) == len(theirs) >= 1
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.keypoints, b.keypoints, atol=0.1)
        # MediaPipe reports a box as integer origin and integer size: compare those.
        ours_xywh = np.concatenate([a.box[:2], a.box[2:] - a.box[:2]])
        theirs_xywh = np.concatenate([b.box[:2], b.box[2:] - b.box[:2]])
        np.testing.assert_allclose(ours_xywh, theirs_xywh, atol=1.0)
        assert a.score == pytest.approx(b.score, abs=0.01)


def test_models_dir_default_is_the_repository_models() -> None:
    assert Path(__file__).resolve().parents[3] / "models" == DEFAULT_MODELS_DIR
