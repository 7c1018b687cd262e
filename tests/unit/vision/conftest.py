"""Analyzers on both backends, loaded once per run from the real model files."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from protolearn.vision.analyzer import FaceAnalyzer
from protolearn.vision.runtimes import create_analyzer


@pytest.fixture(scope="session")
def onnx_analyzer() -> Iterator[FaceAnalyzer]:
    analyzer = create_analyzer("onnx")
    yield analyzer
    analyzer.close()


@pytest.fixture(scope="session")
def mediapipe_analyzer() -> Iterator[FaceAnalyzer]:
    analyzer = create_analyzer("mediapipe")
    yield analyzer
    analyzer.close()


@pytest.fixture(params=["onnx", "mediapipe"])
def analyzer(request: pytest.FixtureRequest) -> FaceAnalyzer:
    fixture: FaceAnalyzer = request.getfixturevalue(f"{request.param}_analyzer")
    return fixture
