"""The two model runtimes behind FaceAnalyzer: ONNX Runtime (batched) and MediaPipe Tasks.

Both run the same source models: BlazeFace short- and full-range and the iris landmark model.
The ONNX runtime letterboxes a whole batch into one tensor per detector and decodes it itself
(blazeface.py); MediaPipe Tasks' FaceDetector does its own pre- and post-processing, one image
at a time, which is what makes it the reference for our decoder.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt

from protolearn.vision.analyzer import AnalyzerOptions, Backend, FaceAnalyzer, ModelRuntime
from protolearn.vision.blazeface import FULL_RANGE, SHORT_RANGE, Detection, DetectorSpec, decode, weighted_nms
from protolearn.vision.errors import VisionError
from protolearn.vision.face_mesh import MESH_POINTS
from protolearn.vision.frames import Frame, FrameView
from protolearn.vision.models import DEFAULT_MODELS_DIR, model_path

__all__ = ("MediaPipeRuntime", "OnnxRuntime", "create_analyzer")

CONTOUR_POINTS, IRIS_POINTS = 71, 5


class OnnxRuntime:
    """ONNX Runtime sessions, one per model, shared by all threads (run() is thread-safe)."""

    def __init__(
        self, models_dir: Path, threads: int = 1, providers: Sequence[str] = ("CPUExecutionProvider",)
    ):
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        # The arena keeps the largest batch's buffers for good: +240 MB after two threads ran
        # batch 32, for no measurable speed (188 vs 186 frames/s at batch 8 without it).
        options.enable_cpu_mem_arena = False
        self.providers = list(providers)

        def session(file: str) -> Any:
            path = model_path(models_dir, file)
            try:
                return ort.InferenceSession(str(path), options, providers=self.providers)
            except Exception as error:  # onnxruntime raises its own pybind11 exception types
                raise VisionError(f"ONNX Runtime cannot load {path.name}: {error}") from error

        self._detectors = {
            spec.model: session(f"face_detection_{spec.model}.onnx") for spec in (SHORT_RANGE, FULL_RANGE)
        }
        self._iris = session("iris_landmark.onnx")
        self._mesh = session("face_landmark.onnx")

    def detect(
        self, views: Sequence[FrameView], gains: Sequence[float], spec: DetectorSpec
    ) -> list[list[Detection]]:
        faces: list[list[Detection]] = [[] for _ in views]
        # One model run per input shape (frames of one stream share theirs).
        by_shape: dict[tuple[int, int], list[int]] = {}
        for i, view in enumerate(views):
            by_shape.setdefault(spec.input_shape(view.width, view.height), []).append(i)
        for shape, members in by_shape.items():
            batch = np.empty((len(members), 3, *shape), dtype=np.float32)
            boxes = [views[i].letterbox_into(batch[slot], gains[i]) for slot, i in enumerate(members)]
            regressors, logits = self._detectors[spec.model].run(None, {"input": batch})
            for slot, (i, letterbox) in enumerate(zip(members, boxes, strict=True)):
                view = views[i]
                for face in decode(regressors[slot], logits[slot], spec, shape):
                    # Clipped to the frame, as MediaPipe does; keypoints may lie outside it.
                    corners = letterbox.to_frame(face.box.reshape(2, 2)).reshape(4)
                    np.clip(corners, 0, [view.width, view.height, view.width, view.height], out=corners)
                    keypoints = letterbox.to_frame(face.keypoints)
                    faces[i].append(Detection(box=corners, score=face.score, keypoints=keypoints))
        return faces

    def eye_landmarks(
        self, crops: Sequence[Frame]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        batch = np.stack(crops).transpose(0, 3, 1, 2).astype(np.float32) * np.float32(1 / 255)
        contours, iris = self._iris.run(None, {"input_1": batch})
        return contours.reshape(-1, CONTOUR_POINTS, 3), iris.reshape(-1, IRIS_POINTS, 3)

    def face_mesh(self, crops: Sequence[Frame]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        batch = np.stack(crops).transpose(0, 3, 1, 2).astype(np.float32) * np.float32(1 / 255)
        points, flags = self._mesh.run(None, {"input_1": batch})
        return points.reshape(-1, MESH_POINTS, 3), flags.reshape(-1)

    def close(self) -> None:
        self._detectors.clear()


class MediaPipeRuntime:
    """MediaPipe Tasks: FaceDetector for both detectors, ImageEmbedder running the iris model and
    the face mesh (their raw output heads are the landmarks). Task objects are not shared
    between threads: each thread gets its own, made on first use. A room scan above the
    detector's native 192x192 runs it over overlapping tiles of the frame, each the share of
    the frame that the larger input would give 192 pixels (Tasks resizes to the model's input)."""

    def __init__(self, models_dir: Path) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        self._vision = vision
        self._base_options = BaseOptions
        self._paths = {
            "short_range": model_path(models_dir, "face_detection_short_range.tflite"),
            "full_range": model_path(models_dir, "face_detection_full_range_sparse.tflite"),
            "iris": model_path(models_dir, "iris_landmark_tasks.tflite"),
            "mesh": model_path(models_dir, "face_landmark_tasks.tflite"),
        }
        self._local = threading.local()
        self._made: list[Any] = []
        self._lock = threading.Lock()
        # The creating thread's tasks now, so that a load error surfaces here.
        for spec in (SHORT_RANGE, FULL_RANGE):
            self._detector(spec)
        self._embedder("iris")
        self._embedder("mesh")

    def _task(self, key: tuple[str, float], make: Callable[[], Any]) -> Any:
        tasks: dict[tuple[str, float], Any] | None = getattr(self._local, "tasks", None)
        if tasks is None:
            tasks = self._local.tasks = {}
        task = tasks.get(key)
        if task is None:
            try:
                task = tasks[key] = make()
            except (RuntimeError, ValueError, OSError) as error:
                raise VisionError(f"MediaPipe cannot load {key[0]}: {error}") from error
            with self._lock:
                self._made.append(task)
        return task

    def _detector(self, spec: DetectorSpec) -> Any:
        vision, base = self._vision, self._base_options
        options = vision.FaceDetectorOptions(
            base_options=base(model_asset_path=str(self._paths[spec.model])),
            min_detection_confidence=spec.score_threshold,
            min_suppression_threshold=spec.iou_threshold,
        )
        return self._task(
            (spec.model, spec.score_threshold), lambda: vision.FaceDetector.create_from_options(options)
        )

    def _embedder(self, model: str) -> Any:
        vision, base = self._vision, self._base_options
        # A bare model run as an ImageEmbedder: its raw output heads are the landmarks.
        options = vision.ImageEmbedderOptions(
            base_options=base(model_asset_path=str(self._paths[model])), l2_normalize=False, quantize=False
        )
        return self._task((model, 0.0), lambda: vision.ImageEmbedder.create_from_options(options))

    def detect(
        self, views: Sequence[FrameView], gains: Sequence[float], spec: DetectorSpec
    ) -> list[list[Detection]]:
        detector = self._detector(spec)
        native = SHORT_RANGE.input_size if spec.model == "short_range" else FULL_RANGE.input_size
        faces = []
        for view, gain in zip(views, gains, strict=True):
            rgb = view.resized_rgb(view.width, view.height)
            if gain > 1.0:
                rgb = cast("Frame", cv2.convertScaleAbs(rgb, alpha=gain))
            found: list[Detection] = []
            for x0, y0, tile in _tiles(rgb, math.ceil(spec.input_size / native)):
                found += _detections(detector, tile, x0, y0)
            faces.append(_suppress(found, spec.iou_threshold) if spec.input_size > native else found)
        return faces

    def eye_landmarks(
        self, crops: Sequence[Frame]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        contours, irises = self._embed("iris", crops)
        return contours.reshape(-1, CONTOUR_POINTS, 3), irises.reshape(-1, IRIS_POINTS, 3)

    def face_mesh(self, crops: Sequence[Frame]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        points, flags = self._embed("mesh", crops)
        return points.reshape(-1, MESH_POINTS, 3), flags.reshape(-1)

    def _embed(
        self, model: str, crops: Sequence[Frame]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """The two output heads of a landmark model, one row per crop."""
        import mediapipe as mp

        embedder = self._embedder(model)
        first, second = [], []
        for crop in crops:
            heads = embedder.embed(
                mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(crop))
            ).embeddings
            first.append(np.asarray(heads[0].embedding, dtype=np.float32))
            second.append(np.asarray(heads[1].embedding, dtype=np.float32))
        return np.stack(first), np.stack(second)

    def close(self) -> None:
        with self._lock:
            for task in self._made:
                task.close()
            self._made.clear()


def _tiles(rgb: Frame, per_side: int, overlap: float = 0.2) -> list[tuple[int, int, Frame]]:
    """per_side x per_side tiles covering the picture, each overlapping its neighbours by
    `overlap` of its side (a face on a seam is whole in one of them); the whole for 1."""
    if per_side <= 1:
        return [(0, 0, rgb)]
    height, width = rgb.shape[:2]
    tile_w = math.ceil(width / (per_side - (per_side - 1) * overlap))
    tile_h = math.ceil(height / (per_side - (per_side - 1) * overlap))
    tiles = []
    for row in range(per_side):
        for column in range(per_side):
            x0 = (width - tile_w) * column // (per_side - 1)
            y0 = (height - tile_h) * row // (per_side - 1)
            tiles.append((x0, y0, np.ascontiguousarray(rgb[y0 : y0 + tile_h, x0 : x0 + tile_w])))
    return tiles


def _detections(detector: Any, rgb: Frame, x0: int, y0: int) -> list[Detection]:
    """A FaceDetector's faces in a picture placed at (x0, y0) of the frame, in frame pixels."""
    import mediapipe as mp

    height, width = rgb.shape[:2]
    result = detector.detect(mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb)))
    faces = []
    for found in result.detections:
        box = found.bounding_box
        corners = np.array(
            [
                x0 + box.origin_x,
                y0 + box.origin_y,
                x0 + box.origin_x + box.width,
                y0 + box.origin_y + box.height,
            ],
            dtype=np.float32,
        )
        keypoints = np.array(
            [[x0 + point.x * width, y0 + point.y * height] for point in found.keypoints], dtype=np.float32
        )
        faces.append(Detection(box=corners, score=float(found.categories[0].score), keypoints=keypoints))
    return faces


def _suppress(faces: list[Detection], iou_threshold: float) -> list[Detection]:
    """One face per cluster of overlapping tiles' detections."""
    if len(faces) < 2:
        return faces
    return weighted_nms(
        np.stack([face.box for face in faces]),
        np.array([face.score for face in faces], dtype=np.float32),
        np.stack([face.keypoints for face in faces]),
        iou_threshold,
    )


def create_analyzer(
    backend: Backend = "onnx",
    models_dir: Path = DEFAULT_MODELS_DIR,
    options: AnalyzerOptions | None = None,
    providers: Sequence[str] = ("CPUExecutionProvider",),
) -> FaceAnalyzer:
    """A FaceAnalyzer on the named backend. Raises ModelFilesMissing or VisionError."""
    options = options or AnalyzerOptions()
    runtime: ModelRuntime
    if backend == "onnx":
        runtime = OnnxRuntime(models_dir, options.threads, providers)
    elif backend == "mediapipe":
        runtime = MediaPipeRuntime(models_dir)
    else:
        raise VisionError(f"unknown backend {backend!r}: choose onnx or mediapipe")
    return FaceAnalyzer(backend, runtime, options)
