"""FaceAnalyzer: frames in, one Observation per frame out, on either backend.

The pipeline is the same for both backends; only the model runs differ (see runtimes.py):
  1. brightness; a dark frame is brightened for the models (and reported as dark);
  2. following (where the caller passes a stream's previous faces): the face mesh looks for
     them where they were, and those it finds stand;
  3. searching (where asked, on room scans, and where following missed a face): short-range
     BlazeFace, and on room scans the full-range BlazeFace at a larger input for small, far
     faces (the caller decides how often: someone else in the room is rare, and the
     several-faces rule needs seconds of evidence anyway);
  4. the face mesh as a second stage (face_mesh.py): a candidate the detector is not sure of
     counts only when the mesh's face flag confirms it (a cat's head, a cup or a cushion
     scores like a small real face on the detector, not on the mesh);
  5. head pose from the mesh (the main face's from a second run on the crop the first gives),
     else from the detector's six keypoints (pose.py);
  6. gaze only for the main (largest) face, only when the head faces the camera closely enough
     for the eyes to matter, and from one eye: the one the head turns towards the camera.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

import msgspec
import numpy as np
import numpy.typing as npt

from protolearn.vision.blazeface import Detection, DetectorSpec, near_spec, room_scan_spec, same_face
from protolearn.vision.errors import AnalysisFailed, VisionError
from protolearn.vision.face_mesh import (
    MIN_PRESENCE,
    MeshCrop,
    cut_face,
    detection_from_mesh,
    mesh_pose,
    presence,
)
from protolearn.vision.frames import Frame, FrameView, view_of
from protolearn.vision.gaze import cut_eye, read_gaze
from protolearn.vision.memory import HeapTrimmer
from protolearn.vision.pose import HeadPose, head_pose
from protolearn.vision.schemas import Face, Gaze, Observation

__all__ = ("Analyzer", "AnalyzerOptions", "Backend", "FaceAnalyzer", "ModelRuntime")

# A frame follows at most this many faces; with more it is searched (following costs a mesh
# run per face, searching a detector run and the mesh on the main face and the unsure ones).
MAX_FOLLOWED = 2
# An unsure candidate scored at least this (the short-range detector's native threshold) gets
# a second look from the mesh when the first one doubts it; the faceless candidates of the
# accuracy set and the coffee cup of a VP8 stream score under it or read far under the bar twice.
SECOND_LOOK_SCORE = 0.5

Backend = Literal["onnx", "mediapipe"]


class AnalyzerOptions(msgspec.Struct, frozen=True, kw_only=True):
    """Tuning of the analyzer; defaults suit a webcam at a desk."""

    dark_threshold: float = 40.0  # mean luma under which a frame is dark
    max_faces: int = 16  # faces reported per frame at most, largest first
    # A candidate the detector scores under this counts only if the face mesh confirms it
    # (presence at least min_presence); at or above it, the detector's word is enough.
    confirm_below_score: float = 0.7
    min_presence: float = MIN_PRESENCE
    # The short-range detector's score threshold (its native one is 0.5: lower finds more
    # faces, and the second stage removes what else that lets through).
    near_threshold: float = 0.4
    # A mesh of at least this presence gives the head pose (a masked or half-hidden face, too
    # unsure to count on the mesh's word alone, still has a mesh that fits it).
    pose_min_presence: float = 0.1
    # A face followed from the stream's previous frame stays found down to this presence
    # (MediaPipe's face landmarker's); on a searched frame, under min_presence it stays only
    # where the detector has a candidate too, so that nothing face-like in the background can
    # stand in for a student who left.
    follow_min_presence: float = 0.5
    # The room scan: the full-range detector with this long side of its input (a multiple of
    # 32; at its native 192 a face of 30 px in a 640x480 frame is 9 px and missed) and score
    # threshold (under the native 0.6: the second stage removes what that lets through).
    room_scan_size: int = 512
    room_scan_threshold: float = 0.4
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

    def face_mesh(self, crops: Sequence[Frame]) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
        """(N, 468, 3) mesh points in crop pixels and (N,) face flag logits, for 192x192 crops."""

    def close(self) -> None: ...


class Analyzer(Protocol):
    """What analyses frames: a FaceAnalyzer, or one in processes of its own
    (analysis_processes.AnalysisProcesses)."""

    @property
    def backend(self) -> str: ...

    def analyze(
        self,
        frames: Sequence[Frame],
        room_scan: bool | Sequence[bool] = True,
        follow: Sequence[Sequence[Face]] | None = None,
        search: bool | Sequence[bool] = True,
        gaze: bool | Sequence[bool] = True,
    ) -> list[Observation]: ...

    def close(self) -> None: ...


class FaceAnalyzer:
    """Analyses batches of frames. Thread-safe: several threads may call analyze() at once."""

    def __init__(self, backend: Backend, runtime: ModelRuntime, options: AnalyzerOptions) -> None:
        self.backend = backend
        self.options = options
        self.runtime = runtime  # the backend's model runs, e.g. the detector alone for benchmarks
        self._heap = HeapTrimmer()

    def analyze(
        self,
        frames: Sequence[Frame],
        room_scan: bool | Sequence[bool] = True,
        follow: Sequence[Sequence[Face]] | None = None,
        search: bool | Sequence[bool] = True,
        gaze: bool | Sequence[bool] = True,
    ) -> list[Observation]:
        """One Observation per frame (RGB (H, W, 3) or I420 (H*3/2, W) uint8 arrays, any size).

        room_scan: whether to run the full-range detector too, for all frames or per frame.
        follow: per frame, the faces of the same stream's previous observation (or none): the
        face mesh looks for them where they were, as MediaPipe's face landmarker does in a
        video, and those it finds stand (a face the detector cannot box well stays found).
        search: per frame, whether to run the detector for other faces too; a frame that is not
        searched is searched all the same when the mesh misses a face it follows, or has none. A stream's
        camera moves little between two analysed frames, so following saves the detector on
        most frames; a face that newly came is seen on the next frame that is searched (the
        caller decides how often: FrameBatcher searches each stream at least once a second).
        A room-scanned frame is always searched.
        gaze: per frame, whether to read the main face's gaze (the iris model: about half the
        cost of a followed frame); a frame without it says so (Observation.gaze_read).
        Raises FrameFormatError for a frame that is neither, AnalysisFailed when a model run or
        an image operation fails (never a library's own exception).
        """
        views = [view_of(frame) for frame in frames]
        if not views:
            return []
        scans = [room_scan] * len(views) if isinstance(room_scan, bool) else list(room_scan)
        follows: list[Sequence[Face]] = list(follow) if follow is not None else [()] * len(views)
        searches = [search] * len(views) if isinstance(search, bool) else list(search)
        gazes = [gaze] * len(views) if isinstance(gaze, bool) else list(gaze)
        if not len(scans) == len(follows) == len(searches) == len(gazes) == len(views):
            raise ValueError("room_scan, follow, search and gaze must have one entry per frame")
        try:
            return self._analyze(views, scans, follows, searches, gazes)
        except VisionError:
            raise
        except Exception as error:  # ONNX Runtime, OpenCV and MediaPipe raise their own types
            raise AnalysisFailed(f"analysis of {len(views)} frame(s) failed: {error!r}") from error

    def _analyze(
        self,
        views: list[FrameView],
        scans: list[bool],
        follows: list[Sequence[Face]],
        searches: list[bool],
        gazes: list[bool],
    ) -> list[Observation]:
        started = time.perf_counter()
        brightness = [view.brightness() for view in views]
        gains = [
            view.dark_gain() if level < self.options.dark_threshold else 1.0
            for view, level in zip(views, brightness, strict=True)
        ]
        found: list[list[Detection]] = [[] for _ in views]
        poses: list[list[HeadPose]] = [[] for _ in views]
        doubtful = [0] * len(views)
        known, missed = self._follow(views, gains, follows)
        # Searched: when asked, on a room scan, when a followed face was missed, or with none.
        searched = [i for i in range(len(views)) if searches[i] or scans[i] or i in missed or not follows[i]]
        for i in set(range(len(views))) - set(searched):
            ordered = sorted(known[i], key=lambda item: _area(item.face), reverse=True)
            found[i], poses[i] = [item.face for item in ordered], [item.pose for item in ordered]
        if searched:
            pick = [views[i] for i in searched], [gains[i] for i in searched]
            candidates = self._find_faces(*pick, [scans[i] for i in searched])
            confirmed = self._confirm(*pick, candidates, [known[i] for i in searched])
            for i, faces, face_poses, left_out in zip(searched, *confirmed, strict=True):
                found[i], poses[i], doubtful[i] = faces, face_poses, left_out
        # Gaze: one eye of each frame's main face, all crops in one model run.
        crops: list[Frame] = []
        crop_of: dict[int, tuple[int, bool]] = {}  # frame -> (crop index, mirrored)
        for i, (view, faces) in enumerate(zip(views, found, strict=True)):
            if gazes[i] and faces and abs(poses[i][0][0]) <= self.options.gaze_max_head_yaw:
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
                    followed=i not in searched,
                    doubtful=doubtful[i],
                    gaze_read=gazes[i],
                    latency_ms=elapsed_ms,
                    width=view.width,
                    height=view.height,
                )
            )
        self._heap.maybe_trim()
        return observations

    def _follow(
        self, views: list[FrameView], gains: list[float], follows: list[Sequence[Face]]
    ) -> tuple[list[list[_Followed]], set[int]]:
        """The previous faces the mesh finds where they were, per frame (box and keypoints from
        the mesh, with their poses and presence), and the frames where it missed one of them
        (or had more than MAX_FOLLOWED to follow, or a face outside the frame: its size
        changed)."""
        jobs: list[tuple[int, MeshCrop, float]] = []
        missed: set[int] = set()
        for i, (view, previous) in enumerate(zip(views, follows, strict=True)):
            inside = all(
                0 <= x + w / 2 < view.width and 0 <= y + h / 2 < view.height
                for x, y, w, h in (f.box for f in previous)
            )
            if len(previous) > MAX_FOLLOWED or not inside:
                missed.add(i)
                continue
            for face in previous:
                x, y, w, h = face.box
                where = Detection(
                    box=np.array([x, y, x + w, y + h], dtype=np.float32),
                    score=face.score,
                    keypoints=np.array(face.keypoints, dtype=np.float32),
                )
                jobs.append((i, cut_face(view, where, gains[i]), face.score))
        found: list[list[_Followed]] = [[] for _ in views]
        if jobs:
            points, flags = self.runtime.face_mesh([crop.pixels for _, crop, _ in jobs])
            for (i, crop, score), mesh, flag in zip(jobs, points, flags, strict=True):
                seen = presence(float(flag))
                if seen < self.options.follow_min_presence:
                    missed.add(i)  # gone, or moved: the frame is searched
                    continue
                frame_points = crop.to_frame(mesh)
                pose = mesh_pose(frame_points, views[i].width, views[i].height)
                found[i].append(_Followed(detection_from_mesh(frame_points, score), pose, seen))
        return found, missed

    def _find_faces(
        self, views: list[FrameView], gains: list[float], scans: list[bool]
    ) -> list[tuple[list[Detection], list[Detection]]]:
        """Candidate faces per frame: the short-range detector's and, where scanned, the room
        scan's; dark frames brightened for the detectors."""
        near = self.runtime.detect(views, gains, near_spec(self.options.near_threshold))
        far: list[list[Detection]] = [[] for _ in views]
        scanned = [i for i, scan in enumerate(scans) if scan]
        if scanned:
            spec = room_scan_spec(self.options.room_scan_size, self.options.room_scan_threshold)
            wide = self.runtime.detect([views[i] for i in scanned], [gains[i] for i in scanned], spec)
            for i, faces in zip(scanned, wide, strict=True):
                far[i] = faces
        return list(zip(near, far, strict=True))

    def _confirm(
        self,
        views: list[FrameView],
        gains: list[float],
        candidates: list[tuple[list[Detection], list[Detection]]],
        known: list[list[_Followed]],
    ) -> tuple[list[list[Detection]], list[list[HeadPose]], list[int]]:
        """The faces that count, largest first and at most max_faces per frame, with their
        poses, and how many doubtful candidates were left out. A candidate the detector scores
        under confirm_below_score counts only if the face mesh confirms it; the room scan's
        candidates that are a short-range face already are dropped (the short-range box is the
        tighter one near the camera), unless that face was not confirmed. The main face's pose
        comes from a second mesh run on the crop its first mesh gives (as following does, and
        MediaPipe's tracking): the detector's box of a turned head is off-centre, and the pose of
        a mirrored face read from it differed by up to 9.5 degrees, from the refined crop 3.6.
        Mesh runs of a batch go in one model run per step."""
        frames = [
            _Candidates(self.options, view, gain, near, far, followed)
            for view, gain, (near, far), followed in zip(views, gains, candidates, known, strict=True)
        ]
        self._run_mesh([(frame, face) for frame in frames for face in frame.to_confirm()])
        self._second_look([(frame, face) for frame in frames for face in frame.doubtful()])
        for frame in frames:
            frame.decide()
        self._run_mesh([(frame, frame.kept[0]) for frame in frames if frame.needs_main_mesh()])
        self._refine([frame for frame in frames if frame.refinable()])
        found: list[list[Detection]] = []
        poses: list[list[HeadPose]] = []
        for frame in frames:
            faces = frame.kept[: self.options.max_faces]
            found.append(faces)
            poses.append([frame.pose(face) for face in faces])
        return found, poses, [len(frame.doubtful()) for frame in frames]

    def _run_mesh(self, jobs: list[tuple[_Candidates, Detection]]) -> None:
        """One face mesh run over some candidates of some frames; results kept by the frame."""
        if not jobs:
            return
        crops = [cut_face(frame.view, face, frame.gain) for frame, face in jobs]
        points, flags = self.runtime.face_mesh([crop.pixels for crop in crops])
        for (frame, face), crop, mesh, flag in zip(jobs, crops, points, flags, strict=True):
            frame.meshes[id(face)] = (presence(float(flag)), crop.to_frame(mesh))

    def _second_look(self, jobs: list[tuple[_Candidates, Detection]]) -> None:
        """The mesh again for doubtful candidates, on the crop their first mesh gives: a turned
        or half-hidden face that the detector boxed off-centre (the cameraman behind his camera,
        in a VP8 stream: 0.02-0.5 from the detector's box, 0.998 from the mesh's; the faceless
        candidates of the accuracy set at most 0.34). Where the mesh reads higher, that stands."""
        if not jobs:
            return
        crops = [
            cut_face(frame.view, detection_from_mesh(frame.meshes[id(face)][1], face.score), frame.gain)
            for frame, face in jobs
        ]
        points, flags = self.runtime.face_mesh([crop.pixels for crop in crops])
        for (frame, face), crop, mesh, flag in zip(jobs, crops, points, flags, strict=True):
            seen = presence(float(flag))
            if seen > frame.meshes[id(face)][0]:
                frame.meshes[id(face)] = (seen, crop.to_frame(mesh))

    def _refine(self, frames: list[_Candidates]) -> None:
        """The main face's mesh again, on the crop its first mesh gives."""
        if not frames:
            return
        crops = []
        for frame in frames:
            main = frame.kept[0]
            crops.append(
                cut_face(frame.view, detection_from_mesh(frame.meshes[id(main)][1], main.score), frame.gain)
            )
        points, flags = self.runtime.face_mesh([crop.pixels for crop in crops])
        for frame, crop, mesh, flag in zip(frames, crops, points, flags, strict=True):
            if presence(float(flag)) >= self.options.pose_min_presence:
                key = id(frame.kept[0])
                frame.meshes[key] = (frame.meshes[key][0], crop.to_frame(mesh))

    def close(self) -> None:
        self.runtime.close()


@dataclass(frozen=True, slots=True)
class _Followed:
    """A face found again where it was in the stream's previous frame."""

    face: Detection
    pose: HeadPose
    presence: float


class _Candidates:
    """One frame's candidate faces on their way to the faces that count."""

    def __init__(
        self,
        options: AnalyzerOptions,
        view: FrameView,
        gain: float,
        near: list[Detection],
        far: list[Detection],
        known: list[_Followed],
    ) -> None:
        self.options = options
        self.view = view
        self.gain = gain
        # Faces followed from the stream's previous frame stand (when sure, or where the
        # detector sees a face too); candidates on them are them.
        detected = [*near, *far]
        standing = [
            item for item in known if item.presence >= options.min_presence or same_face(item.face, detected)
        ]
        self.known = {id(item.face): item.pose for item in standing}
        known_faces = [item.face for item in standing]
        self.near = sorted(
            (face for face in near if not same_face(face, known_faces)), key=_area, reverse=True
        )
        # Room scan candidates that are a confidently found short-range face are that face.
        trusted = [*known_faces, *(face for face in self.near if self._trusted(face))]
        self.far = [face for face in far if not same_face(face, trusted)]
        self.meshes: dict[int, tuple[float, npt.NDArray[np.float32]]] = {}
        self.kept: list[Detection] = known_faces

    def _trusted(self, face: Detection) -> bool:
        return face.score >= self.options.confirm_below_score

    def _confirmed(self, face: Detection) -> bool:
        mesh = self.meshes.get(id(face))
        return mesh is not None and mesh[0] >= self.options.min_presence

    def to_confirm(self) -> list[Detection]:
        """The candidates the mesh must look at: the unsure ones, and the main one (its pose)
        unless a followed face is larger."""
        unsure = [face for face in [*self.near, *self.far] if not self._trusted(face)]
        largest_known = max((_area(face) for face in self.kept), default=0.0)
        main = self.near[:1] if self.near and self._trusted(self.near[0]) else []
        return [*(face for face in main if _area(face) > largest_known), *unsure]

    def doubtful(self) -> list[Detection]:
        """Unsure candidates that the detector scored at its native threshold or over and the
        mesh did not confirm at their box (a cat's head or a cup reads far under the bar twice)."""
        return [
            face
            for face in [*self.near, *self.far]
            if not self._trusted(face)
            and face.score >= SECOND_LOOK_SCORE
            and self.meshes[id(face)][0] < self.options.min_presence
        ]

    def decide(self) -> None:
        near = [face for face in self.near if self._trusted(face) or self._confirmed(face)]
        far = [face for face in self.far if self._trusted(face) or self._confirmed(face)]
        far = [face for face in far if not same_face(face, near)]
        self.kept = sorted([*self.kept, *near, *far], key=_area, reverse=True)

    def refinable(self) -> bool:
        """Whether the main face has a mesh from a detector's box that a second run can refine."""
        if not self.kept or id(self.kept[0]) in self.known:
            return False
        mesh = self.meshes.get(id(self.kept[0]))
        return mesh is not None and mesh[0] >= self.options.pose_min_presence

    def needs_main_mesh(self) -> bool:
        return bool(self.kept) and id(self.kept[0]) not in self.meshes and id(self.kept[0]) not in self.known

    def pose(self, face: Detection) -> HeadPose:
        """From the mesh where it ran and saw a face, else from the detector's keypoints."""
        if id(face) in self.known:
            return self.known[id(face)]
        width, height = self.view.width, self.view.height
        mesh = self.meshes.get(id(face))
        if mesh is not None and mesh[0] >= self.options.pose_min_presence:
            return mesh_pose(mesh[1], width, height)
        return head_pose(face.keypoints, width, height)


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
