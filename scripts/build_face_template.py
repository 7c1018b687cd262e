"""Build src/protolearn/vision/face_template.npy: the mean face mesh that head pose is fitted to.

    python scripts/build_face_template.py          # needs `make models` and the dev extras

The face mesh model is run on the 100 faces of scikit-image's Labeled Faces in the Wild subset
and on their mirror images (so the mean is left-right symmetric), the 200 meshes are aligned by
generalised Procrustes (rotation, scale, translation), and the mean is turned into the face's
own axes: x from the right side to the left (mirror pairs of points), y down the midline, z away
from the camera. A head pose is then the rotation that best maps this template onto a face's
mesh (vision/face_mesh.py). The file is committed; this script is how it was made.
"""

from __future__ import annotations

import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "src" / "protolearn" / "vision" / "face_template.npy"


def meshes() -> list[np.ndarray]:
    from skimage import data

    from protolearn.vision.blazeface import SHORT_RANGE
    from protolearn.vision.face_mesh import MIN_PRESENCE, cut_face, presence
    from protolearn.vision.frames import view_of
    from protolearn.vision.runtimes import create_analyzer

    runtime = create_analyzer("onnx").runtime
    found = []
    for face in data.lfw_subset()[:100]:
        tile = cv2.resize((face * 255).astype(np.uint8), (200, 200), interpolation=cv2.INTER_CUBIC)
        for picture in (tile, tile[:, ::-1]):
            frame = np.full((480, 640, 3), 96, dtype=np.uint8)
            frame[140:340, 220:420] = picture[..., None]
            view = view_of(frame)
            candidates = runtime.detect([view], [1.0], SHORT_RANGE)[0]
            if not candidates:
                continue
            crop = cut_face(view, max(candidates, key=lambda candidate: candidate.score))
            points, flags = runtime.face_mesh([crop.pixels])
            if presence(float(flags[0])) >= MIN_PRESENCE:
                found.append(crop.to_frame(points[0]).astype(np.float64))
    return found


def aligned(shape: np.ndarray, target: np.ndarray) -> np.ndarray:
    """shape moved onto target by the similarity transform that fits it best."""
    a, b = shape - shape.mean(axis=0), target - target.mean(axis=0)
    u, s, vt = np.linalg.svd(a.T @ b)
    d = np.sign(np.linalg.det(vt.T @ u.T))
    rotation = vt.T @ np.diag([1.0, 1.0, d]) @ u.T
    scale = float((s * [1.0, 1.0, d]).sum() / (a**2).sum())
    return scale * a @ rotation.T


def main() -> int:
    from protolearn.vision.face_mesh import LEFT_SIDE, LOWER_MIDLINE, RIGHT_SIDE, UPPER_MIDLINE

    shapes = meshes()
    if len(shapes) < 150:
        print(f"only {len(shapes)} of 200 meshes found: are the model files there?", file=sys.stderr)
        return 1
    mean = shapes[0] - shapes[0].mean(axis=0)
    for _ in range(5):
        mean = np.mean([aligned(shape, mean) for shape in shapes], axis=0)
        mean /= np.sqrt((mean**2).sum(axis=1).mean())  # unit RMS distance from the centre
    across = mean[list(LEFT_SIDE)].mean(axis=0) - mean[list(RIGHT_SIDE)].mean(axis=0)
    down = mean[list(LOWER_MIDLINE)].mean(axis=0) - mean[list(UPPER_MIDLINE)].mean(axis=0)
    x_axis = across / np.linalg.norm(across)
    down -= x_axis * (down @ x_axis)
    y_axis = down / np.linalg.norm(down)
    axes = np.stack([x_axis, y_axis, np.cross(x_axis, y_axis)], axis=1)
    template = (mean @ axes).astype(np.float32)
    np.save(TARGET, template)
    asymmetry = np.abs(template[list(LEFT_SIDE)] * [-1, 1, 1] - template[list(RIGHT_SIDE)]).max()
    print(f"{TARGET.relative_to(ROOT)}: {len(shapes)} meshes, mirror pairs within {asymmetry:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
