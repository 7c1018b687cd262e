"""Frames as the vision core takes them: RGB (H, W, 3) or I420 (H * 3 / 2, W) uint8 arrays.

I420 is what a decoded WebRTC frame gives for almost nothing (`VideoFrame.to_ndarray(format=
"yuv420p")`); converting it to RGB at full size costs more than the detector, so it is only ever
converted after shrinking, or for the small regions a model needs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import cv2
import numpy as np
import numpy.typing as npt

from protolearn.vision.errors import FrameFormatError

__all__ = ("Frame", "FrameView", "Letterbox", "view_of")

Frame = npt.NDArray[np.uint8]
# Luma is sampled on this grid for brightness: 80x60 samples of a 640x480 frame.
BRIGHTNESS_STEP = 8


@dataclass(frozen=True, slots=True)
class Letterbox:
    """How a frame was fitted into a model input of width x height: input = frame * scale + pad."""

    scale: float
    pad_x: float
    pad_y: float
    width: int
    height: int

    def to_frame(self, points: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
        """Normalised model coordinates ([0, 1] of the input) -> frame pixels."""
        result = points * np.array([self.width, self.height], dtype=np.float32)
        result[..., 0] -= self.pad_x
        result[..., 1] -= self.pad_y
        result /= self.scale
        return result


@dataclass(frozen=True, slots=True)
class FrameView:
    """A validated frame and its geometry."""

    pixels: Frame
    width: int
    height: int
    is_i420: bool

    def brightness(self) -> float:
        """Mean luma, 0-255 (BT.601 weights for RGB)."""
        if self.is_i420:
            # Video luma is limited range (16-235): stretch it to 0-255 like RGB's.
            luma = float(self.pixels[: self.height : BRIGHTNESS_STEP, ::BRIGHTNESS_STEP].mean())
            return max(0.0, min(255.0, (luma - 16.0) * 255.0 / 219.0))
        sample = self.pixels[::BRIGHTNESS_STEP, ::BRIGHTNESS_STEP].astype(np.float32)
        return float((sample @ np.array([0.299, 0.587, 0.114], dtype=np.float32)).mean())

    def dark_gain(self, limit: float = 4.0) -> float:
        """How much to brighten a dark frame so its brightest parts (99th percentile of luma)
        reach near white, at most `limit`x. Scaling by the percentile, not the mean, leaves a
        lit face in a dark room alone instead of burning it out."""
        if self.is_i420:
            luma = self.pixels[: self.height : BRIGHTNESS_STEP, ::BRIGHTNESS_STEP]
        else:
            luma = self.pixels[::BRIGHTNESS_STEP, ::BRIGHTNESS_STEP].max(axis=2)
        bright = float(np.percentile(luma, 99))
        return max(1.0, min(limit, 230.0 / max(bright, 1.0)))

    def resized_rgb(self, width: int, height: int) -> Frame:
        """The whole frame as RGB at width x height (I420 planes shrink before conversion)."""
        if not self.is_i420:
            return cast("Frame", cv2.resize(self.pixels, (width, height), interpolation=cv2.INTER_AREA))
        even_w, even_h = width + width % 2, height + height % 2
        y, u, v = self._planes()
        small = np.empty((even_h * 3 // 2, even_w), dtype=np.uint8)
        cv2.resize(y, (even_w, even_h), dst=small[:even_h], interpolation=cv2.INTER_AREA)
        chroma = small[even_h:].reshape(2, even_h // 2, even_w // 2)
        cv2.resize(u, (even_w // 2, even_h // 2), dst=chroma[0], interpolation=cv2.INTER_AREA)
        cv2.resize(v, (even_w // 2, even_h // 2), dst=chroma[1], interpolation=cv2.INTER_AREA)
        rgb = cast("Frame", cv2.cvtColor(small, cv2.COLOR_YUV2RGB_I420))
        return rgb[:height, :width]

    def region_rgb(self, x0: int, y0: int, x1: int, y1: int) -> tuple[Frame, int, int]:
        """RGB pixels of a rectangle clipped to the frame, with the clipped rectangle's origin."""
        if self.is_i420:
            # Chroma is subsampled 2x2: align the region to even coordinates.
            x0, y0 = max(0, x0) & ~1, max(0, y0) & ~1
            x1, y1 = min(self.width, x1 + (x1 & 1)), min(self.height, y1 + (y1 & 1))
            if x1 - x0 < 2 or y1 - y0 < 2:
                return np.zeros((0, 0, 3), dtype=np.uint8), x0, y0
            y, u, v = self._planes()
            w, h = x1 - x0, y1 - y0
            region = np.empty((h * 3 // 2, w), dtype=np.uint8)
            region[:h] = y[y0:y1, x0:x1]
            chroma = region[h:].reshape(2, h // 2, w // 2)
            chroma[0] = u[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2]
            chroma[1] = v[y0 // 2 : y1 // 2, x0 // 2 : x1 // 2]
            return cast("Frame", cv2.cvtColor(region, cv2.COLOR_YUV2RGB_I420)), x0, y0
        x0, y0 = max(0, x0), max(0, y0)
        x1, y1 = min(self.width, x1), min(self.height, y1)
        if x1 <= x0 or y1 <= y0:
            return np.zeros((0, 0, 3), dtype=np.uint8), x0, y0
        return self.pixels[y0:y1, x0:x1], x0, y0

    def block_luma(self, block: int = 32, step: int = 4) -> npt.NDArray[np.float32]:
        """Mean luma (green for RGB) of each whole block x block square of the picture, from
        every step-th sample of every step-th row: a camera's noise averages out, a face or a
        person coming into a square does not."""
        rows, columns = self.height // block, self.width // block
        grid = self.pixels[: rows * block : step, : columns * block : step]
        if not self.is_i420:
            grid = grid[..., 1]
        per = block // step
        means = grid.reshape(rows, per, columns, per).mean(axis=(1, 3), dtype=np.float32)
        return cast("npt.NDArray[np.float32]", means)

    def letterbox_into(self, target: npt.NDArray[np.float32], gain: float = 1.0) -> Letterbox:
        """Fit the frame into a (3, H, W) model input in [-1, 1], centred, padded with black.

        gain > 1 brightens a dark frame first, so a face in a dim room is still found.
        """
        input_h, input_w = target.shape[-2:]
        scale = min(input_w / self.width, input_h / self.height)
        width = max(1, min(input_w, round(self.width * scale)))
        height = max(1, min(input_h, round(self.height * scale)))
        pad_x, pad_y = (input_w - width) // 2, (input_h - height) // 2
        rgb = self.resized_rgb(width, height)
        target.fill(-1.0)
        content = target[:, pad_y : pad_y + height, pad_x : pad_x + width]
        np.multiply(rgb.transpose(2, 0, 1), np.float32(gain / 127.5), out=content, casting="unsafe")
        content -= 1.0
        if gain > 1.0:
            np.minimum(content, 1.0, out=content)
        return Letterbox(scale=scale, pad_x=float(pad_x), pad_y=float(pad_y), width=input_w, height=input_h)

    def _planes(self) -> tuple[Frame, Frame, Frame]:
        h, w = self.height, self.width
        chroma = self.pixels[h:].reshape(2, h // 2, w // 2)
        return self.pixels[:h], chroma[0], chroma[1]


def view_of(frame: object) -> FrameView:
    """Validates a frame: RGB (H, W, 3) or I420 (H * 3 / 2, W), uint8, at least 16x16."""
    if not isinstance(frame, np.ndarray) or frame.dtype != np.uint8:
        raise FrameFormatError("a frame must be a uint8 numpy array")
    if frame.ndim == 3 and frame.shape[2] == 3:
        height, width = frame.shape[:2]
        view = FrameView(pixels=frame, width=width, height=height, is_i420=False)
    elif frame.ndim == 2 and frame.shape[0] % 3 == 0 and frame.shape[1] % 2 == 0:
        height, width = frame.shape[0] * 2 // 3, frame.shape[1]
        if height % 2:
            raise FrameFormatError(f"I420 frame height must be even, got {height}")
        view = FrameView(pixels=frame, width=width, height=height, is_i420=True)
    else:
        raise FrameFormatError(f"expected RGB (H, W, 3) or I420 (H*3/2, W) pixels, got shape {frame.shape}")
    if view.width < 16 or view.height < 16:
        raise FrameFormatError(f"frame too small: {view.width}x{view.height}")
    return view
