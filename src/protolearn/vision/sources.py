"""Frames out of files, for the `protolearn analyze` command: images, or sampled video frames."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from protolearn.vision.errors import VisionError
from protolearn.vision.frames import Frame

__all__ = ("UnreadableMedia", "frames_of")

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".bmp", ".webp", ".tif", ".tiff", ".pgm", ".ppm"}


class UnreadableMedia(VisionError):
    """A file is missing, or neither an image nor a video we can decode."""


def frames_of(path: Path, every_seconds: float = 1.0) -> Iterator[tuple[int, Frame]]:
    """(frame number, frame) pairs: the image itself (frame 0), or one video frame per
    every_seconds as I420, as a live stream would hand them over."""
    if not path.is_file():
        raise UnreadableMedia(f"{path}: no such file")
    if path.suffix.lower() in IMAGE_SUFFIXES:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR_RGB)
        if image is None:
            raise UnreadableMedia(f"{path}: not a readable image")
        yield 0, np.ascontiguousarray(image)
        return
    yield from _video_frames(path, every_seconds)


def _video_frames(path: Path, every_seconds: float) -> Iterator[tuple[int, Frame]]:
    import av

    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise UnreadableMedia(f"{path}: has no video stream")
            stream = container.streams.video[0]
            next_time = 0.0
            for number, frame in enumerate(container.decode(stream)):
                seconds = float(frame.time) if frame.time is not None else number / 30
                if seconds + 1e-6 < next_time:
                    continue
                next_time = seconds + every_seconds
                if frame.width % 2 or frame.height % 2:
                    yield number, np.ascontiguousarray(frame.to_ndarray(format="rgb24"))
                else:
                    yield number, np.ascontiguousarray(frame.to_ndarray(format="yuv420p"))
    except av.FFmpegError as error:
        raise UnreadableMedia(f"{path}: not a readable image or video ({error})") from error
