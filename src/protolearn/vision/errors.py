"""Errors the vision core raises; library errors are translated where they enter."""

from __future__ import annotations

__all__ = ("AnalysisFailed", "FrameFormatError", "ModelFilesMissing", "VisionError")


class VisionError(Exception):
    """Root of the vision core's errors."""


class ModelFilesMissing(VisionError):
    """A model file is missing or does not match models/manifest.toml."""


class FrameFormatError(VisionError):
    """A frame is not an RGB (H, W, 3) or I420 (H * 3 / 2, W) uint8 array."""


class AnalysisFailed(VisionError):
    """A model run or an image operation failed on frames that were valid (ONNX Runtime, OpenCV
    and MediaPipe errors, translated where the analyzer calls them)."""
