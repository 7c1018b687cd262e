"""What the vision core returns: one Observation per frame. Plain data, sent on the wire as is."""

from __future__ import annotations

import msgspec

__all__ = ("Face", "Gaze", "Observation")


class Gaze(msgspec.Struct, frozen=True, kw_only=True):
    """Where the eyes point relative to the head, in degrees (0, 0 = straight ahead of the face).

    yaw > 0: towards the image's right; pitch > 0: up. Same signs as the head pose.
    """

    yaw: float
    pitch: float


class Face(msgspec.Struct, frozen=True, kw_only=True):
    """One detected face, in the pixel coordinates of the frame it came from.

    box: [x, y, w, h]. keypoints: BlazeFace's six, [x, y] each, in the order right eye, left eye
    (the person's), nose tip, mouth, right ear, left ear. Head pose in degrees: yaw > 0 when the
    face turns towards the image's right, pitch > 0 when it tilts up, roll > 0 when it leans
    clockwise in the image. gaze is None where it was not measured (head turned too far to
    matter, or the face is not the frame's main face); eyes_visible says whether an open eye was
    seen facing the camera.
    """

    box: tuple[float, float, float, float]
    score: float
    keypoints: tuple[tuple[float, float], ...]
    yaw: float
    pitch: float
    roll: float
    gaze: Gaze | None
    eyes_visible: bool


class Observation(msgspec.Struct, frozen=True, kw_only=True):
    """What one frame shows.

    faces are largest first: faces[0] is the main face, the only one whose gaze is measured.
    brightness is the mean luma (0-255); dark is brightness under the analyzer's threshold, so
    an empty face list on a dark frame reads "too dark to tell", not "nobody there".
    room_scanned says whether the full-range detector looked for small (distant) faces too.
    followed says the faces were found by following the stream's previous ones with the face
    mesh, without the detector (so no other face was looked for in this frame). doubtful counts
    the candidates the detector scored at its native threshold or over that the mesh did not
    confirm (not faces, or faces it cannot read from the detector's box: FrameBatcher then
    gives the stream a room scan soon, whose boxes are better).
    latency_ms is the time from the frame's arrival at the analyzer (or its queue) to the result.
    gaze_read says whether the main face's gaze was asked for (the iris model ran); when it was
    not, a face's gaze None means "not measured", not "not measurable".
    still says no model ran: the picture had not changed since the stream's last analysed
    frame, which (like the one before it) showed nobody, and that finding stands
    (FrameBatcher's still_empty_s).
    """

    faces: tuple[Face, ...]
    brightness: float
    dark: bool
    room_scanned: bool
    latency_ms: float
    width: int
    height: int
    followed: bool = False
    doubtful: int = 0
    gaze_read: bool = True
    still: bool = False
