"""FaceAnalyzer: frames in, one Observation per frame out, on either backend.

The pipeline is the same for both backends; only the two model runs differ (see runtimes.py):
  1. brightness; a dark frame is brightened for the detector (and reported as dark);
  2. short-range BlazeFace on every frame; full-range BlazeFace too where a room scan is asked
     for (the caller decides how often: small faces, i.e. someone else in the room, are rare and
     the several-faces rule needs seconds of evidence anyway);
  3. head pose from the six keypoints (pose.py);
  4. gaze only for the main (largest) face, only when the head faces the camera closely enough
     for the eyes to matter, and from one eye: the one the head turns towards the camera.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Literal, Protocol

import msgspec
import numpy as np
import numpy.typing as npt

from protolearn.vision.blazeface import FULL_RANGE, SHORT_RANGE, Detection, DetectorSpec, merge
from protolearn.vision.errors import AnalysisFailed, VisionError
from protolearn.vision.frames import Frame, FrameView, view_of
from protolearn.vision.gaze import cut_eye, read_gaze
from protolearn.vision.memory import HeapTrimmer
from protolearn.vision.pose import head_pose
from protolearn.vision.schemas import Face, Gaze, Observation

__all__ = ("AnalyzerOptions", "Backend", "FaceAnalyzer", "ModelRuntime")

Backend = Literal["onnx", "mediapipe"]


class AnalyzerOptions(msgspec.Struct, frozen=True, kw_only=True):
    """Tuning of the analyzer; defaults suit a webcam at a desk."""

    dark_threshold: float = 40.0  # mean luma under which a frame is dark
    max_faces: int = 4
    gaze_max_head_yaw: float = 45.0  # beyond this the head pose alone says "looking away"
    threads: int = 1  # threads per model run; parallelism across batches is the scheduler's


class ModelRuntime(Protocol):
    """The two model runs a backend provides."""

    def detect(
        self, views: Sequence[FrameView], gains: Sequence[float], spec: DetectorSpec
    ) -> list[list[Detection]]:
        """Faces per frame, in frame pixels, after NMS."""

    def eye_landmarks(
        self, crops: Sequence[Frame]
    ) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """(N, 71, 3) eye contours and (N, 5, 3) iris points, in crop pixels."""

    def close(self) -> None: ...


class FaceAnalyzer:
    """Analyses batches of frames. Thread-safe: several threads may call analyze() at once."""

    def __init__(self, backend: Backend, runtime: ModelRuntime, options: AnalyzerOptions) -> None:
        self.backend = backend
        self.options = options
        self.runtime = runtime  # the backend's model runs, e.g. the detector alone for benchmarks
        self._heap = HeapTrimmer()

    def analyze(self, frames: Sequence[Frame], room_scan: bool | Sequence[bool] = True) -> list[Observation]:
        """One Observation per frame (RGB (H, W, 3) or I420 (H*3/2, W) uint8 arrays, any size).

        room_scan: whether to run the full-range detector too, for all frames or per frame.
        Raises FrameFormatError for a frame that is neither, AnalysisFailed when a model run or
        an image operation fails (never a library's own exception).
        """
        views = [view_of(frame) for frame in frames]
        if not views:
            return []
        scans = [room_scan] * len(views) if isinstance(room_scan, bool) else list(room_scan)
        if len(scans) != len(views):
            raise ValueError("room_scan must be a bool or one bool per frame")
        try:
            return self._analyze(views, scans)
        except VisionError:
            raise
        except Exception as error:  # ONNX Runtime, OpenCV and MediaPipe raise their own types
            raise AnalysisFailed(f"analysis of {len(views)} frame(s) failed: {error!r}") from error

    def _analyze(self, views: list[FrameView], scans: list[bool]) -> list[Observation]:
        started = time.perf_counter()
        brightness = [view.brightness() for view in views]
        found = self._find_faces(views, brightness, scans)
        poses = [
            [head_pose(face.keypoints, view.width, view.height) for face in faces]
            for view, faces in zip(views, found, strict=True)
        ]
        # Gaze: one eye of each frame's main face, all crops in one model run.
        crops: list[Frame] = []
        crop_of: dict[int, tuple[int, bool]] = {}  # frame -> (crop index, mirrored)
        for i, (view, faces) in enumerate(zip(views, found, strict=True)):
            if faces and abs(poses[i][0][0]) <= self.options.gaze_max_head_yaw:
                crop, mirrored = _eye_crop(view, faces[0], poses[i][0][0])
                crop_of[i] = (len(crops), mirrored)
                crops.append(crop)
        contours, irises = self.runtime.eye_landmarks(crops) if crops else (None, None)

        elapsed_ms = round((time.perf_counter() - started) * 1000, 3)
        observations = []
        for i, view in enumerate(views):
            faces_out = []
            for rank, (face, (yaw, pitch, roll)) in enumerate(zip(found[i], poses[i], strict=True)):
                gaze: Gaze | None = None
                eyes_visible = abs(yaw) <= self.options.gaze_max_head_yaw
                if rank == 0 and i in crop_of and contours is not None and irises is not None:
                    index, mirrored = crop_of[i]
                    gaze, eyes_visible = read_gaze(contours[index], irises[index], mirrored)
                faces_out.append(_face(face, yaw, pitch, roll, gaze, eyes_visible))
            observations.append(
                Observation(
                    faces=tuple(faces_out),
                    brightness=round(brightness[i], 1),
                    dark=brightness[i] < self.options.dark_threshold,
                    room_scanned=scans[i],
                    latency_ms=elapsed_ms,
                    width=view.width,
                    height=view.height,
                )
            )
        self._heap.maybe_trim()
        return observations

    def _find_faces(
        self, views: list[FrameView], brightness: list[float], scans: list[bool]
    ) -> list[list[Detection]]:
        """Faces per frame, largest first, at most max_faces: short-range everywhere, full-range
        added where scanned; dark frames brightened for the detectors."""
        gains = [
            view.dark_gain() if level < self.options.dark_threshold else 1.0
            for view, level in zip(views, brightness, strict=True)
        ]
        found = self.runtime.detect(views, gains, SHORT_RANGE)
        scanned = [i for i, scan in enumerate(scans) if scan]
        if scanned:
            wide = self.runtime.detect([views[i] for i in scanned], [gains[i] for i in scanned], FULL_RANGE)
            for i, faces in zip(scanned, wide, strict=True):
                found[i] = merge(found[i], faces)
        return [sorted(faces, key=_area, reverse=True)[: self.options.max_faces] for faces in found]

    def close(self) -> None:
        self.runtime.close()


def _eye_crop(view: FrameView, face: Detection, yaw: float) -> tuple[Frame, bool]:
    """The crop of the eye that faces the camera best, and whether it is mirrored: turned
    towards the image's right, the image-left eye (the person's right) shows more."""
    right_eye, left_eye = face.keypoints[0], face.keypoints[1]
    eye, other = (right_eye, left_eye) if yaw >= 0 else (left_eye, right_eye)
    return cut_eye(view, eye, other), bool(eye[0] > other[0])


def _area(face: Detection) -> float:
    return float((face.box[2] - face.box[0]) * (face.box[3] - face.box[1]))


def _face(
    face: Detection, yaw: float, pitch: float, roll: float, gaze: Gaze | None, eyes_visible: bool
) -> Face:
    x0, y0, x1, y1 = (float(v) for v in face.box)
    return Face(
        box=(round(x0, 1), round(y0, 1), round(x1 - x0, 1), round(y1 - y0, 1)),
        score=round(face.score, 4),
        keypoints=tuple((round(float(x), 1), round(float(y), 1)) for x, y in face.keypoints),
        yaw=round(yaw, 1),
        pitch=round(pitch, 1),
        roll=round(roll, 1),
        gaze=gaze,
        eyes_visible=eyes_visible,
    )
