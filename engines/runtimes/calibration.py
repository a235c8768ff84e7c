"""Frames the package makes itself to calibrate a quantized network (engines/runtimes/openvino.py):
no footage ships with stylecast and none is downloaded, so a quantizer sees pictures with what
footage has, drawn here: soft colour fields at several scales, fine grain, hard edges (shapes of
flat colour), thin lines and smooth gradients, bright and dark.

Measured (docs/benchmarks/cpu.md): int8 calibrated on these keeps SSIM/4 0.98 against fp32 on
held-out real footage (Big Buck Bunny, bikes)."""
from __future__ import annotations

import cv2
import numpy as np


def calibration_frames(width: int, height: int, count: int = 12, seed: int = 0) -> list[np.ndarray]:
    """``count`` uint8 HWC RGB frames of ``width`` x ``height``, the same every time for a seed."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(count):
        layers = [cv2.resize(rng.random((height // s + 2, width // s + 2, 3), np.float32), (width, height),
                             interpolation=cv2.INTER_CUBIC) * w for s, w in ((96, 0.55), (24, 0.3), (4, 0.15))]
        picture = np.clip(sum(layers), 0, 1)
        yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
        picture *= (0.35 + 0.9 * (xx / width if i % 2 else yy / height))[..., None]  # light falling off
        image = (np.clip(picture, 0, 1) * 255).astype(np.uint8)
        for _ in range(6):  # hard edges: shapes of flat colour, thin lines
            colour = tuple(int(c) for c in rng.integers(0, 256, 3))
            x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
            size = int(rng.integers(max(4, width // 40), max(8, width // 6)))
            kind = rng.integers(0, 3)
            if kind == 0:
                cv2.circle(image, (x, y), size, colour, -1, cv2.LINE_AA)
            elif kind == 1:
                cv2.rectangle(image, (x, y), (x + size, y + size // 2), colour, -1)
            else:
                cv2.line(image, (x, y), (int(rng.integers(0, width)), int(rng.integers(0, height))), colour,
                         int(rng.integers(1, 4)), cv2.LINE_AA)
        frames.append(image)
    return frames


def smooth_frames(width: int, height: int, count: int = 2, seed: int = 0) -> list[np.ndarray]:
    """``count`` frames of soft, bright colour fields with a level of grain and no edges: a sky, a
    wall, a clean animated shot, an upscaled one. A precision or a rewrite that keeps sharp frames
    may not keep these: the instance norms scale up what little their high-pass channels hold, and
    the error with it (the first convolution at rank 10 kept the drawn frames at 0.99 and scored 0.61
    on such a frame; docs/benchmarks/cpu.md)."""
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(count):
        field = cv2.resize(rng.random((height // 96 + 2, width // 96 + 2, 3), np.float32), (width, height),
                           interpolation=cv2.INTER_CUBIC)
        picture = 110 + 130 * np.clip(field, 0, 1) + rng.normal(0, 1.0, (height, width, 3))
        frames.append(np.clip(picture, 0, 255).astype(np.uint8))
    return frames
