"""`protolearn analyze` and the model files as a user meets them."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from protolearn.vision.errors import ModelFilesMissing
from protolearn.vision.models import DEFAULT_MODELS_DIR, model_path
from protolearn.vision.runtimes import create_analyzer
from tests.support.images import astronaut, two_people

ROOT = Path(__file__).resolve().parents[2]


def _analyze(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "protolearn", "analyze", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture(scope="module")
def two_faces_png(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("images") / "two people.png"
    cv2.imwrite(str(path), cv2.cvtColor(two_people(), cv2.COLOR_RGB2BGR))
    return path


@pytest.mark.parametrize("backend", ["onnx", "mediapipe"])
def test_two_faces_with_poses_as_json_lines(two_faces_png: Path, backend: str) -> None:
    result = _analyze(str(two_faces_png), "--json", "--backend", backend)

    assert result.returncode == 0, result.stderr
    [line] = result.stdout.splitlines()
    observation = json.loads(line)
    assert observation["path"] == str(two_faces_png)
    assert observation["frame"] == 0
    assert len(observation["faces"]) == 2
    for face in observation["faces"]:
        assert len(face["box"]) == 4
        assert len(face["keypoints"]) == 6
        assert all(isinstance(face[angle], float) for angle in ("yaw", "pitch", "roll"))
    assert observation["latency_ms"] > 0


def test_plain_output_and_sampled_video_frames(two_faces_png: Path, tmp_path: Path) -> None:
    video = tmp_path / "exam.mp4"
    with av.open(str(video), "w") as container:
        stream = container.add_stream("mpeg4", rate=10)
        stream.width, stream.height, stream.pix_fmt = 640, 480, "yuv420p"
        stream.time_base = Fraction(1, 10)
        picture = astronaut()
        for number in range(25):
            frame = av.VideoFrame.from_ndarray(
                picture if number < 15 else np.zeros_like(picture), format="rgb24"
            )
            frame.pts = number
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))

    result = _analyze(str(two_faces_png), str(video), "--every", "1")

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith(f"{two_faces_png} frame 0: 2 face(s) yaw")
    assert [line.split(":")[0] for line in lines[1:]] == [f"{video} frame {n}" for n in (0, 10, 20)]
    assert "1 face(s)" in lines[1]
    assert lines[3].endswith("0 face(s) (dark)")


def test_unreadable_input_is_a_message_not_a_traceback(tmp_path: Path) -> None:
    not_an_image = tmp_path / "notes.png"
    not_an_image.write_text("hello")
    not_a_video = tmp_path / "notes.txt"
    not_a_video.write_text("hello")
    for path, message in (
        (tmp_path / "missing.jpg", "no such file"),
        (not_an_image, "not a readable image"),
        (not_a_video, "not a readable image or video"),
    ):
        result = _analyze(str(path))
        assert result.returncode == 1
        assert message in result.stderr
        assert "Traceback" not in result.stderr
    result = _analyze(str(not_an_image), "--backend", "tensorflow")
    assert result.returncode == 2
    assert "invalid choice" in result.stderr


def test_models_come_from_the_models_dir_setting_with_the_packages_hashes(
    two_faces_png: Path, tmp_path: Path
) -> None:
    models = tmp_path / "models"
    models.mkdir()
    for file in (
        "face_detection_short_range.onnx",
        "face_detection_full_range.onnx",
        "iris_landmark.onnx",
        "face_landmark.onnx",
    ):
        shutil.copy2(DEFAULT_MODELS_DIR / file, models / file)
    env = os.environ | {"PROTOLEARN_MODELS_DIR": str(models)}

    found = _analyze(str(two_faces_png), "--json", env=env)
    assert found.returncode == 0, found.stderr
    assert len(json.loads(found.stdout)["faces"]) == 2

    # An altered file is refused even beside a manifest of its own that vouches for it.
    altered = b"not the iris model"
    (models / "iris_landmark.onnx").write_bytes(altered)
    (models / "manifest.toml").write_text(
        f'[[converted]]\nfile = "iris_landmark.onnx"\nsha256 = "{hashlib.sha256(altered).hexdigest()}"\n'
    )
    refused = _analyze(str(two_faces_png), env=env)
    assert refused.returncode == 1
    assert f"model file {models / 'iris_landmark.onnx'} does not match its sha256" in refused.stderr
    assert "PROTOLEARN_MODELS_DIR" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_models_are_present_verified_and_never_used_when_altered(tmp_path: Path) -> None:
    check = subprocess.run(  # noqa: S603
        [sys.executable, str(ROOT / "scripts" / "fetch_models.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert check.returncode == 0, check.stderr

    copy = tmp_path / "models"
    shutil.copytree(DEFAULT_MODELS_DIR, copy, ignore=shutil.ignore_patterns("*.tflite", "*.task"))
    with (copy / "iris_landmark.onnx").open("r+b") as model:
        model.seek(1000)
        model.write(b"\0\0\0\0")
    with pytest.raises(ModelFilesMissing, match="does not match its sha256"):
        model_path(copy, "iris_landmark.onnx")
    (copy / "face_detection_short_range.onnx").unlink()
    with pytest.raises(ModelFilesMissing, match=re.escape("missing: run `python scripts/fetch_models.py`")):
        create_analyzer("onnx", models_dir=copy)
