"""The one place where host frames (uint8 RGB, H x W x 3) become network tensors and back.

Networks take float32 in NCHW or NHWC with pixel values scaled to 0..1 or 0..255, and some need
H and W to be multiples of their total stride: frames are reflect-padded and cropped back.
"""
from __future__ import annotations

import numpy as np


def to_tensor(image: np.ndarray, *, layout: str = "nchw", scale: float = 1 / 255, multiple: int = 1) -> np.ndarray:
    """uint8 HWC RGB -> float32 [1,3,H',W'] (nchw) or [1,H',W',3] (nhwc), H' and W' padded up to ``multiple``."""
    h, w = image.shape[:2]
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        image = np.pad(image, ((0, ph), (0, pw), (0, 0)), mode="reflect")
    x = image.astype(np.float32)
    x *= scale
    if layout == "nchw":
        x = x.transpose(2, 0, 1)
    return np.ascontiguousarray(x[None])


def from_tensor(y: np.ndarray, height: int, width: int, *, layout: str = "nchw", scale: float = 255.0) -> np.ndarray:
    """float [1,3,H',W'] or [1,H',W',3] -> uint8 HWC RGB, cropped to ``height`` x ``width``."""
    y = y[0]
    if layout == "nchw":
        y = y.transpose(1, 2, 0)
    y = y[:height, :width] * scale
    np.clip(y, 0, 255, out=y)
    y += 0.5
    return y.astype(np.uint8)
