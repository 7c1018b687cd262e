"""The eyes read only where asked: the iris model is about half a followed frame's cost."""

from __future__ import annotations

import pytest

from protolearn.vision.analyzer import FaceAnalyzer
from tests.support.images import astronaut


def test_the_eyes_are_read_only_on_the_frames_that_ask(analyzer: FaceAnalyzer) -> None:
    frame = astronaut()
    with_eyes, without = analyzer.analyze([frame, frame], room_scan=False, gaze=[True, False])
    assert with_eyes.gaze_read and with_eyes.faces[0].gaze is not None
    assert not without.gaze_read and without.faces[0].gaze is None
    # Everything else is the same.
    assert without.faces[0].box == pytest.approx(with_eyes.faces[0].box)
    assert without.faces[0].yaw == pytest.approx(with_eyes.faces[0].yaw)
    assert without.faces[0].eyes_visible == with_eyes.faces[0].eyes_visible
