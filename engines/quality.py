"""How close two stylized pictures are, as stylecast judges a look kept: SSIM of the grey
pictures at a quarter of the size (Gaussian window, sigma 1.5), where stroke placement shows and a
codec's or a number format's grain does not. The CPU runtime choice keeps a runtime at 0.97 or
above (engines/runtimes/runtime_choice.py); the tests and benches judge with it too."""
from __future__ import annotations

import cv2
import numpy as np


def ssim_quarter(a: np.ndarray, b: np.ndarray) -> float:
    """Grey SSIM at a quarter of the size of two uint8 HWC RGB pictures of one size."""
    return float(ssim_quarter_map(a, b).mean())


def ssim_quarter_map(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The SSIM map behind ``ssim_quarter``, at a quarter of the size (a bench averages it where it scores)."""
    return ssim_map(a, b, 4)


def ssim_map(a: np.ndarray, b: np.ndarray, shrink: int = 1) -> np.ndarray:
    """Grey SSIM map of two uint8 HWC RGB pictures of one size, at 1/``shrink`` of their size
    (1: as they are, as a screen shows them)."""
    h, w = a.shape[:2]
    x, y = (cv2.cvtColor(i if shrink == 1 else cv2.resize(i, (w // shrink, h // shrink), interpolation=cv2.INTER_AREA),
                         cv2.COLOR_RGB2GRAY).astype(np.float64) for i in (a, b))
    blur = lambda z: cv2.GaussianBlur(z, (0, 0), 1.5)  # noqa: E731
    mx, my = blur(x), blur(y)
    sxx, syy, sxy = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    return ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx * mx + my * my + c1) * (sxx + syy + c2))
