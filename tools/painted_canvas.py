"""A painted keyframe with a known answer on every frame: a textured canvas panning under a painting.

The canvas (the built-in scene's textured background, stretched) pans ``step`` pixels a frame to
the left; the painting is a built-in style applied once to the whole canvas, so the right answer
for every frame is the same crop of the painted canvas, and undoing the motion is a shift of
``step`` pixels. The tests and tools/bench_keyframe.py paint one frame with it and check the rest.
"""
from __future__ import annotations

import numpy as np

from engines import open_engine
from stream.media.testsrc import TestScene

MARGIN = 16  # pixels of canvas around every crop (the painting's borders stay out of the answers)


class PaintedCanvas:
    """``frames`` frames of ``width`` x ``height`` at ``fps``; ``frame(t)`` the source at ``t``
    seconds (as the test scene's), ``answer(i)`` frame i as the painting has it."""

    def __init__(self, width: int, height: int, frames: int, fps: int = 25, step: int = 4,
                 style: str = "starry-night", seed: int = 3):
        self.width, self.height, self.frames, self.fps, self.step = width, height, frames, fps, step
        wide = width + step * frames + 2 * MARGIN
        # the test scene's background is (2w + 64) x (h + 64) pixels
        scene = TestScene(max(16, -(-(wide - 64) // 2)), max(16, height + 2 * MARGIN - 64), seed=seed)
        self.canvas = np.ascontiguousarray(scene.background[:height + 2 * MARGIN, :wide])
        self.painted = open_engine("cpu", style).stylize_one(self.canvas)

    def _crop(self, image: np.ndarray, i: int) -> np.ndarray:
        x = MARGIN + self.step * i
        return np.ascontiguousarray(image[MARGIN:MARGIN + self.height, x:x + self.width])

    def source(self, i: int) -> np.ndarray:
        return self._crop(self.canvas, i)

    def answer(self, i: int) -> np.ndarray:
        return self._crop(self.painted, i)

    def frame(self, t: float) -> np.ndarray:
        return self.source(min(self.frames - 1, int(round(t * self.fps))))

    def temporal_error(self, frames: list[np.ndarray]) -> float:
        """Mean absolute change (0-255) between consecutive frames once the pan is undone."""
        s, w = self.step, self.width
        return float(np.mean([np.abs(b[:, :w - s].astype(np.int16) - a[:, s:]).mean() for a, b in zip(frames, frames[1:])]))
