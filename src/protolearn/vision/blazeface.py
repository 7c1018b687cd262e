"""BlazeFace decoding: SSD anchors, box and keypoint regression, sigmoid scores, weighted NMS.

The parameters are those of MediaPipe's face detection graphs, so the ONNX backend's boxes match
MediaPipe's own on the same model file. Pure numpy; coordinates are normalised to the model input.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from functools import cache

import numpy as np
import numpy.typing as npt

__all__ = (
    "FULL_RANGE",
    "SHORT_RANGE",
    "Detection",
    "DetectorSpec",
    "decode",
    "near_spec",
    "room_scan_spec",
    "same_face",
    "weighted_nms",
)

KEYPOINTS = 6
SCORE_CLIP = 80.0  # MediaPipe clips at 100; exp(100) overflows float32, and the sigmoid is 1 either way


@cache
def ssd_anchors(height: int, width: int, layers: tuple[tuple[int, int], ...]) -> npt.NDArray[np.float32]:
    """Anchor centres (N, 2), normalised to the input, for (stride, anchors per cell) layers,
    row-major; w = h = 1."""
    centres = []
    for stride, per_cell in layers:
        rows, columns = height // stride, width // stride
        xs, ys = np.meshgrid(
            (np.arange(columns, dtype=np.float32) + 0.5) / columns,
            (np.arange(rows, dtype=np.float32) + 0.5) / rows,
        )
        layer = np.stack([xs.ravel(), ys.ravel()], axis=1)
        centres.append(np.repeat(layer, per_cell, axis=0))
    anchors = np.concatenate(centres).astype(np.float32)
    anchors.setflags(write=False)
    return anchors


@dataclass(frozen=True)
class DetectorSpec:
    """One BlazeFace variant run at one input size: the model ("short_range" or "full_range"),
    the input's side, anchor layers and score threshold. fit_to_frame: the input takes the
    frame's shape, input_size its long side and the other side rounded up to a multiple of 32,
    instead of a square (a 4:3 frame then costs 3/4 of the square's pixels)."""

    model: str
    input_size: int
    layers: tuple[tuple[int, int], ...]
    score_threshold: float
    iou_threshold: float = 0.3
    fit_to_frame: bool = False

    @property
    def anchors(self) -> npt.NDArray[np.float32]:
        """The square input's anchors."""
        return ssd_anchors(self.input_size, self.input_size, self.layers)

    def input_shape(self, width: int, height: int) -> tuple[int, int]:
        """(height, width) of the model input for a width x height frame."""
        if not self.fit_to_frame:
            return self.input_size, self.input_size
        longest = max(width, height)

        def side(length: int) -> int:
            return min(self.input_size, max(32, math.ceil(self.input_size * length / longest / 32) * 32))

        return side(height), side(width)


# Short range: 16x16 x 2 anchors (stride 8) then 8x8 x 6 (stride 16) = 896.
SHORT_RANGE = DetectorSpec("short_range", input_size=128, layers=((8, 2), (16, 6)), score_threshold=0.5)
# Full range: one 48x48 layer (stride 4), one anchor per cell = 2304.
FULL_RANGE = DetectorSpec("full_range", input_size=192, layers=((4, 1),), score_threshold=0.6)


@cache
def near_spec(score_threshold: float) -> DetectorSpec:
    """The short-range detector at another score threshold."""
    return replace(SHORT_RANGE, score_threshold=score_threshold)


@cache
def room_scan_spec(input_size: int, score_threshold: float) -> DetectorSpec:
    """The full-range model run at a larger input, shaped like the frame (sides multiples of
    32): it is fully convolutional, so the same weights see a face of 30 px in a 640x480 frame
    as 18 px at 384 instead of 9 px at its native 192, where it misses them. Its regressors are
    in input pixels, so decoding only needs the anchors of the larger grid."""
    if input_size % 32:
        raise ValueError(f"the room scan's input size must be a multiple of 32, not {input_size}")
    return DetectorSpec("full_range", input_size, FULL_RANGE.layers, score_threshold, fit_to_frame=True)


@dataclass(frozen=True, slots=True)
class Detection:
    """A face: box (x_min, y_min, x_max, y_max) and six keypoints (x, y), in normalised
    model-input coordinates out of decode(), in frame pixels once mapped back."""

    box: npt.NDArray[np.float32]
    score: float
    keypoints: npt.NDArray[np.float32]


def decode(
    regressors: npt.NDArray[np.float32],
    logits: npt.NDArray[np.float32],
    spec: DetectorSpec,
    shape: tuple[int, int] | None = None,
) -> list[Detection]:
    """One frame's raw outputs (N, 16) and (N, 1) -> faces after weighted NMS, for an input of
    shape (height, width) (the square input_size by default)."""
    height, width = shape or (spec.input_size, spec.input_size)
    scores = 1.0 / (1.0 + np.exp(-np.clip(logits[:, 0], -SCORE_CLIP, SCORE_CLIP)))
    keep = np.flatnonzero(scores >= spec.score_threshold)
    if keep.size == 0:
        return []
    # Regressors are in input pixels: x's over the width, y's over the height.
    raw = regressors[keep] / np.array([width, height] * (2 + KEYPOINTS), dtype=np.float32)
    centres = ssd_anchors(height, width, spec.layers)[keep]
    cx = raw[:, 0] + centres[:, 0]
    cy = raw[:, 1] + centres[:, 1]
    half_w, half_h = raw[:, 2] / 2, raw[:, 3] / 2
    boxes = np.stack([cx - half_w, cy - half_h, cx + half_w, cy + half_h], axis=1)
    keypoints = raw[:, 4 : 4 + 2 * KEYPOINTS].reshape(-1, KEYPOINTS, 2) + centres[:, None, :]
    return weighted_nms(
        boxes.astype(np.float32),
        scores[keep].astype(np.float32),
        keypoints.astype(np.float32),
        spec.iou_threshold,
    )


def _intersections(
    box: npt.NDArray[np.float32], boxes: npt.NDArray[np.float32]
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    """Intersection areas of one (x0, y0, x1, y1) box with each of boxes, its area, theirs."""
    x0 = np.maximum(box[0], boxes[:, 0])
    y0 = np.maximum(box[1], boxes[:, 1])
    x1 = np.minimum(box[2], boxes[:, 2])
    y1 = np.minimum(box[3], boxes[:, 3])
    inter = np.clip(x1 - x0, 0, None) * np.clip(y1 - y0, 0, None)
    area = (box[2] - box[0]) * (box[3] - box[1])
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    return inter, area, areas


def iou(box: npt.NDArray[np.float32], boxes: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """Intersection over union of one (x0, y0, x1, y1) box with each of boxes."""
    inter, area, areas = _intersections(box, boxes)
    union = area + areas - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-12), 0.0).astype(np.float32)


def same_face(face: Detection, others: Sequence[Detection]) -> bool:
    """Whether face is one of others: boxes overlapping by IoU over 0.3, or half of the smaller
    box inside the other (one detector's box can be a part of another's: the room scan's tiles
    cut a near face)."""
    if not others:
        return False
    boxes = np.stack([other.box for other in others])
    if float(iou(face.box, boxes).max()) > 0.3:
        return True
    inter, area, areas = _intersections(face.box, boxes)
    return bool((inter > 0.5 * np.maximum(np.minimum(area, areas), 1e-6)).any())


def weighted_nms(
    boxes: npt.NDArray[np.float32],
    scores: npt.NDArray[np.float32],
    keypoints: npt.NDArray[np.float32],
    iou_threshold: float,
) -> list[Detection]:
    """MediaPipe's WEIGHTED suppression: each cluster of overlapping candidates becomes one face
    whose box and keypoints are the score-weighted mean of the cluster, scored by its best."""
    order = np.argsort(-scores, kind="stable")
    boxes, scores, keypoints = boxes[order], scores[order], keypoints[order]
    remaining = np.ones(len(scores), dtype=bool)
    faces = []
    for best in range(len(scores)):
        if not remaining[best]:
            continue
        cluster = remaining & (iou(boxes[best], boxes) > iou_threshold)
        cluster[best] = True
        weights = scores[cluster]
        total = float(weights.sum())
        faces.append(
            Detection(
                box=(boxes[cluster] * weights[:, None]).sum(axis=0) / total,
                score=float(scores[best]),
                keypoints=(keypoints[cluster] * weights[:, None, None]).sum(axis=0) / total,
            )
        )
        remaining &= ~cluster
    return faces
