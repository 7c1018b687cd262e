"""What the vision core promises on the labelled accuracy set of tests/support/face_set.py.

Every case is analysed once per backend as a room scan (``analyze([frame], room_scan=True)``),
as benchmarks/face_accuracy.py does: exact face counts overall and per category, more than four
faces and the max_faces cap, the face mesh as the second stage that removes the detector's
false faces, head pose from the mesh (mirror symmetry, turn direction), and following a face
with the mesh alone. The bounds sit a little under what the models measure here, so that a
change of runtime version does not fail them but a lost capability does.
"""

from __future__ import annotations

import re

import numpy as np
import numpy.typing as npt
import pytest

from protolearn.vision.analyzer import AnalyzerOptions, FaceAnalyzer
from protolearn.vision.blazeface import iou
from protolearn.vision.schemas import Face, Observation
from tests.support.face_set import CASES, MIRRORED_PAIRS, FaceCase, case
from tests.support.images import astronaut

Seen = dict[str, Observation]  # case name -> its observation

NEGATIVE = ("faceless", "animal")  # no human face: every face found there is false
# Measured: the onnx backend counts 84 of the 85 cases exactly (it finds one face of three on
# group_right_three_masked), MediaPipe 79 (it misses faces on lfw_row_of_five,
# lfw_grid_of_eight, astronaut_lfw_far, grace_two_lfw_far, cameraman_mirrored and
# group_right_three_masked); neither reports a face on a faceless or animal case.
MIN_EXACT = {"onnx": 83, "mediapipe": 77}
# Per category on the onnx backend: at least this many of its cases counted exactly (measured:
# small_far 10 of 10, group 9 of 9).
MIN_EXACT_IN = {"small_far": 9, "group": 8}
# A mirror turns the head the other way by as much: |yaw + mirrored yaw| is the pose's error.
MAX_SYMMETRY_ERROR = 5.0
SAME_FACE_OFFSET = 0.5  # main faces whose centres lie closer (in face widths) are one person
MIN_TURN_DEGREES = 10.0
MIN_FOLLOW_IOU = 0.6
# A searched frame's pose comes from a second mesh run on the crop the first gave; a followed
# frame's from the crop its box gives (measured: mean 1.6 degrees apart, at most 4.3 but for
# the 40 px face of empty_room_far, 11).
MAX_FOLLOW_YAW_CHANGE = 5.0
# Measured: 30 of the 32 one-face cases are followed (on cameraman_mirrored and
# chandler_mask_white the mesh's presence falls under the follow threshold and the frame is
# searched, finding the same face).
MIN_FOLLOWED_SHARE = 0.9
# Measured with the detector trusted alone: 6 of the 27 faceless and animal cases show a face
# (coffee 0.42, back_wall 0.56, chelsea 0.51, chelsea_mirrored 0.60, cat_head_300 0.49,
# cat_head_150 0.53).
MIN_FALSE_FACES_UNCONFIRMED = 4


def _observe_all(analyzer: FaceAnalyzer) -> Seen:
    return {c.name: analyzer.analyze([c.build()], room_scan=True)[0] for c in CASES}


@pytest.fixture(scope="module")
def onnx_seen(onnx_analyzer: FaceAnalyzer) -> Seen:
    return _observe_all(onnx_analyzer)


@pytest.fixture(scope="module")
def mediapipe_seen(mediapipe_analyzer: FaceAnalyzer) -> Seen:
    return _observe_all(mediapipe_analyzer)


def _wrong(seen: Seen, cases: list[FaceCase]) -> list[str]:
    """The cases whose face count is off, each with its labelled and found counts."""
    return [
        f"{c.name} ({c.category}): {c.faces} labelled, {len(seen[c.name].faces)} found"
        for c in cases
        if len(seen[c.name].faces) != c.faces
    ]


def _in(*categories: str) -> list[FaceCase]:
    return [c for c in CASES if c.category in categories]


def _xyxy(box: tuple[float, float, float, float]) -> npt.NDArray[np.float32]:
    x, y, w, h = box
    return np.array([x, y, x + w, y + h], dtype=np.float32)


def _centre_offset(face: Face, mirrored: Face, width: int) -> float:
    """How far apart two main faces' centres lie, the mirror's brought back, in face widths."""
    x, y, w, h = mirrored.box
    dx = (face.box[0] + face.box[2] / 2) - (width - x - w / 2)
    dy = (face.box[1] + face.box[3] / 2) - (y + h / 2)
    return float(np.hypot(dx, dy) / max(face.box[2], w, 1e-9))


# --- face counts ---------------------------------------------------------------------------------


def test_onnx_counts_faces_exactly(onnx_seen: Seen) -> None:
    wrong = _wrong(onnx_seen, list(CASES))
    assert len(CASES) - len(wrong) >= MIN_EXACT["onnx"], wrong


def test_onnx_reports_no_false_faces(onnx_seen: Seen) -> None:
    wrong = _wrong(onnx_seen, _in(*NEGATIVE))
    assert not wrong, wrong


@pytest.mark.parametrize("category", sorted(MIN_EXACT_IN))
def test_onnx_counts_a_category(onnx_seen: Seen, category: str) -> None:
    cases = _in(category)
    wrong = _wrong(onnx_seen, cases)
    assert len(cases) - len(wrong) >= MIN_EXACT_IN[category], wrong


def test_mediapipe_counts_faces_exactly(mediapipe_seen: Seen) -> None:
    wrong = _wrong(mediapipe_seen, list(CASES))
    assert len(CASES) - len(wrong) >= MIN_EXACT["mediapipe"], wrong


def test_mediapipe_reports_no_false_faces(mediapipe_seen: Seen) -> None:
    wrong = _wrong(mediapipe_seen, _in(*NEGATIVE))
    assert not wrong, wrong


# --- many faces ----------------------------------------------------------------------------------


def test_more_than_four_faces_are_reported(onnx_seen: Seen) -> None:
    crowded = max(CASES, key=lambda c: c.faces)
    assert crowded.faces > 4
    assert len(onnx_seen[crowded.name].faces) == crowded.faces, onnx_seen[crowded.name]


def test_max_faces_keeps_the_largest(onnx_analyzer: FaceAnalyzer, onnx_seen: Seen) -> None:
    crowded = max(CASES, key=lambda c: c.faces)
    capped = FaceAnalyzer("onnx", onnx_analyzer.runtime, AnalyzerOptions(max_faces=3))
    faces = capped.analyze([crowded.build()], room_scan=True)[0].faces
    assert len(faces) == 3
    assert faces == onnx_seen[crowded.name].faces[:3]


# --- the second stage ----------------------------------------------------------------------------


def test_the_mesh_removes_false_faces(onnx_analyzer: FaceAnalyzer, onnx_seen: Seen) -> None:
    # Every candidate counts on the detector's word alone: the cats' heads and some objects
    # score like small faces. With the defaults the mesh's presence turns them all down.
    alone = FaceAnalyzer("onnx", onnx_analyzer.runtime, AnalyzerOptions(confirm_below_score=0.0))
    negatives = _in(*NEGATIVE)
    unconfirmed = {c.name: alone.analyze([c.build()], room_scan=True)[0] for c in negatives}
    false_faces = _wrong(unconfirmed, negatives)
    assert len(false_faces) >= MIN_FALSE_FACES_UNCONFIRMED, false_faces
    assert not _wrong(onnx_seen, negatives)


# --- head pose -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("original", "mirrored"),
    [pair for pair in MIRRORED_PAIRS if all(case(name).faces for name in pair)],
)
def test_mirroring_a_face_mirrors_its_yaw(onnx_seen: Seen, original: str, mirrored: str) -> None:
    seen, seen_mirrored = onnx_seen[original], onnx_seen[mirrored]
    assert seen.faces and seen_mirrored.faces, (seen, seen_mirrored)
    face, mirror_face = seen.faces[0], seen_mirrored.faces[0]
    if _centre_offset(face, mirror_face, seen.width) > SAME_FACE_OFFSET:
        pytest.skip("the main faces of the picture and its mirror are different people")
    assert abs(face.yaw + mirror_face.yaw) <= MAX_SYMMETRY_ERROR, (face.yaw, mirror_face.yaw)


def _turn_directions() -> list[tuple[str, int]]:
    """The turned cases whose note says which way the head turns (+1 towards the image's right),
    and their mirrors, turned the other way."""
    mirror_of = dict(MIRRORED_PAIRS)
    turns: list[tuple[str, int]] = []
    for c in _in("turned"):
        said = re.search(r"towards the image's (left|right)", c.note)
        if said is None:
            continue
        sign = 1 if said.group(1) == "right" else -1
        turns.append((c.name, sign))
        if c.name in mirror_of:
            turns.append((mirror_of[c.name], -sign))
    return turns


@pytest.mark.parametrize(("name", "sign"), _turn_directions())
def test_head_turn_has_its_direction(onnx_seen: Seen, name: str, sign: int) -> None:
    yaw = onnx_seen[name].faces[0].yaw
    assert yaw * sign >= MIN_TURN_DEGREES, yaw


# --- following -----------------------------------------------------------------------------------


def _followed_alike(first: Observation, again: Observation) -> bool:
    if not (again.followed and len(first.faces) == len(again.faces) == 1):
        return False
    before, after = first.faces[0], again.faces[0]
    overlap = float(iou(_xyxy(after.box), _xyxy(before.box)[None])[0])
    return overlap >= MIN_FOLLOW_IOU and abs(after.yaw - before.yaw) <= MAX_FOLLOW_YAW_CHANGE


# Monica's head is bowed towards the table (the posture of a student reading notes on the desk);
# measured -13.4 and -12.3 degrees of pitch on the picture and its mirror.
LOOKING_DOWN = ("monica", "monica_mirrored")
MAX_LOOKING_DOWN_PITCH = -8.0


@pytest.mark.parametrize("name", LOOKING_DOWN)
def test_a_bowed_head_reads_as_looking_down(onnx_seen: Seen, name: str) -> None:
    main = onnx_seen[name].faces[0]
    assert main.pitch <= MAX_LOOKING_DOWN_PITCH, main


def test_a_face_is_followed_with_the_mesh_alone(onnx_analyzer: FaceAnalyzer) -> None:
    # room_scan=False: a room-scanned frame is always searched, never followed.
    ones = [c for c in CASES if c.faces == 1]
    missed = []
    for c in ones:
        frame = c.build()
        first = onnx_analyzer.analyze([frame], room_scan=True)[0]
        again = onnx_analyzer.analyze([frame], room_scan=False, follow=[first.faces], search=False)[0]
        if not _followed_alike(first, again):
            missed.append(f"{c.name}: {first.faces} then followed={again.followed} {again.faces}")
    assert len(ones) - len(missed) >= MIN_FOLLOWED_SHARE * len(ones), missed


@pytest.fixture(scope="module")
def astronaut_faces(onnx_analyzer: FaceAnalyzer) -> tuple[Face, ...]:
    faces = onnx_analyzer.analyze([astronaut()], room_scan=True)[0].faces
    assert len(faces) == 1
    return faces


@pytest.mark.parametrize("name", [c.name for c in _in("faceless")])
def test_following_a_face_that_is_not_there_finds_none(
    onnx_analyzer: FaceAnalyzer, astronaut_faces: tuple[Face, ...], name: str
) -> None:
    # The astronaut's face, followed into a picture without her: the mesh misses it, the frame
    # is searched and nothing is found.
    frame = case(name).build()
    observation = onnx_analyzer.analyze([frame], room_scan=False, follow=[astronaut_faces], search=False)[0]
    assert not observation.followed
    assert observation.faces == ()
