"""The two model runtimes behind FaceAnalyzer: ONNX Runtime (batched) and MediaPipe Tasks.

Both run the same source models: BlazeFace short- and full-range and the iris landmark model.
The ONNX runtime letterboxes a whole batch into one tensor per detector and decodes it itself
(blazeface.py); MediaPipe Tasks' FaceDetector does its own pre- and post-processing, one image
at a time, which is what makes it the reference for our decoder.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, cast

import cv2
import numpy as np
import numpy.typing as npt

from protolearn.vision.analyzer import AnalyzerOptions, Backend, FaceAnalyzer, ModelRuntime
from protolearn.vision.blazeface import FULL_RANGE, SHORT_RANGE, Detection, DetectorSpec, decode
from protolearn.vision.errors import VisionError
from protolearn.vision.frames import Frame, FrameView
from protolearn.vision.gaze import IRIS_INPUT
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
            spec.input_size: session(name)
            for spec, name in (
                (SHORT_RANGE, "face_detection_short_range.onnx"),
                (FULL_RANGE, "face_detection_full_range.onnx"),
            )
        }
        self._iris = session("iris_landmark.onnx")

    def detect(
        self, views: Sequence[FrameView], gains: Sequence[float], spec: DetectorSpec
    ) -> list[list[Detection]]:
        size = spec.input_size
        batch = np.empty((len(views), 3, size, size), dtype=np.float32)
        boxes = [
            view.letterbox_into(batch[i], gain)
            for i, (view, gain) in enumerate(zip(views, gains, strict=True))
        ]
        regressors, logits = self._detectors[size].run(None, {"input": batch})
        faces = []
        for i, letterbox in enumerate(boxes):
            frame_faces = []
            view = views[i]
            for face in decode(regressors[i], logits[i], spec):
                # Clipped to the frame, as MediaPipe does; keypoints may lie outside it.
                corners = letterbox.to_frame(face.box.reshape(2, 2), size).reshape(4)
                np.clip(corners, 0, [view.width, view.height, view.width, view.height], out=corners)
                keypoints = letterbox.to_frame(face.keypoints, size)
                frame_faces.append(Detection(box=corners, score=face.score, keypoints=keypoints))
            faces.append(frame_faces)
        return faces

    def eye_landmarks(
        self, crops: Sequence[Frame]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        batch = np.stack(crops).transpose(0, 3, 1, 2).astype(np.float32) * np.float32(1 / 255)
        contours, iris = self._iris.run(None, {"input_1": batch})
        return contours.reshape(-1, CONTOUR_POINTS, 3), iris.reshape(-1, IRIS_POINTS, 3)

    def close(self) -> None:
        self._detectors.clear()


class MediaPipeRuntime:
    """MediaPipe Tasks: FaceDetector for both detectors, ImageEmbedder running the iris model
    (its raw output heads are the landmarks). Task objects are not shared between threads:
    each thread gets its own, made on first use."""

    def __init__(self, models_dir: Path) -> None:
        from mediapipe.tasks.python import BaseOptions, vision

        self._vision = vision
        self._base_options = BaseOptions
        self._paths = {
            128: model_path(models_dir, "face_detection_short_range.tflite"),
            192: model_path(models_dir, "face_detection_full_range_sparse.tflite"),
            IRIS_INPUT: model_path(models_dir, "iris_landmark_tasks.tflite"),
        }
        self._local = threading.local()
        self._made: list[Any] = []
        self._lock = threading.Lock()
        self._tasks()  # the creating thread's set now, so a load error surfaces here

    def _tasks(self) -> dict[int, Any]:
        tasks: dict[int, Any] | None = getattr(self._local, "tasks", None)
        if tasks is None:
            try:
                tasks = self._make_tasks()
            except (RuntimeError, ValueError, OSError) as error:
                raise VisionError(f"MediaPipe cannot load its models: {error}") from error
            self._local.tasks = tasks
            with self._lock:
                self._made.extend(tasks.values())
        return tasks

    def _make_tasks(self) -> dict[int, Any]:
        vision, base = self._vision, self._base_options
        tasks: dict[int, Any] = {}
        for spec in (SHORT_RANGE, FULL_RANGE):
            options = vision.FaceDetectorOptions(
                base_options=base(model_asset_path=str(self._paths[spec.input_size])),
                min_detection_confidence=spec.score_threshold,
                min_suppression_threshold=spec.iou_threshold,
            )
            tasks[spec.input_size] = vision.FaceDetector.create_from_options(options)
        tasks[IRIS_INPUT] = vision.ImageEmbedder.create_from_options(
            vision.ImageEmbedderOptions(
                base_options=base(model_asset_path=str(self._paths[IRIS_INPUT])),
                l2_normalize=False,
                quantize=False,
            )
        )
        return tasks

    def detect(
        self, views: Sequence[FrameView], gains: Sequence[float], spec: DetectorSpec
    ) -> list[list[Detection]]:
        import mediapipe as mp

        detector = self._tasks()[spec.input_size]
        faces = []
        for view, gain in zip(views, gains, strict=True):
            rgb = view.resized_rgb(view.width, view.height)
            if gain > 1.0:
                rgb = cast("Frame", cv2.convertScaleAbs(rgb, alpha=gain))
            result = detector.detect(
                mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(rgb))
            )
            frame_faces = []
            for found in result.detections:
                box = found.bounding_box
                corners = np.array(
                    [box.origin_x, box.origin_y, box.origin_x + box.width, box.origin_y + box.height],
                    dtype=np.float32,
                )
                keypoints = np.array(
                    [[point.x * view.width, point.y * view.height] for point in found.keypoints],
                    dtype=np.float32,
                )
                frame_faces.append(
                    Detection(box=corners, score=float(found.categories[0].score), keypoints=keypoints)
                )
            faces.append(frame_faces)
        return faces

    def eye_landmarks(
        self, crops: Sequence[Frame]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        import mediapipe as mp

        embedder = self._tasks()[IRIS_INPUT]
        contours, irises = [], []
        for crop in crops:
            heads = embedder.embed(
                mp.Image(image_format=mp.ImageFormat.SRGB, data=np.ascontiguousarray(crop))
            ).embeddings
            contours.append(np.asarray(heads[0].embedding, dtype=np.float32).reshape(CONTOUR_POINTS, 3))
            irises.append(np.asarray(heads[1].embedding, dtype=np.float32).reshape(IRIS_POINTS, 3))
        return np.stack(contours), np.stack(irises)

    def close(self) -> None:
        with self._lock:
            for task in self._made:
                task.close()
            self._made.clear()


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
