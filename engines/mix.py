"""The mix: how the network's picture is mixed back with the source, after the network and
outside it: how much of the style to apply (strength) and whether to keep the source's colours.
(A *look*, in stylecast's words, is what a user gives a shot: a style and these, and stability.)"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .errors import OptionError


@dataclass(frozen=True)
class Mix:
    """``strength`` 0..1 mixes the stylized frame with the original (1 = all style);
    ``keep_colors`` keeps the stylized luminance with the original's chroma."""

    strength: float = 1.0
    keep_colors: bool = False

    def __post_init__(self):
        if not (0.0 <= float(self.strength) <= 1.0):
            raise OptionError(f"strength must be between 0 and 1, got {self.strength}")

    @property
    def is_plain(self) -> bool:
        return self.strength >= 1.0 and not self.keep_colors

    def apply(self, stylized: np.ndarray, original: np.ndarray) -> np.ndarray:
        """Both uint8 HWC RGB of the same size; returns a new uint8 HWC RGB frame."""
        out = stylized
        if self.keep_colors:
            ycc = cv2.cvtColor(original, cv2.COLOR_RGB2YCrCb)
            ycc[..., 0] = cv2.cvtColor(stylized, cv2.COLOR_RGB2YCrCb)[..., 0]
            out = cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)
        if self.strength < 1.0:
            out = cv2.addWeighted(out, float(self.strength), original, 1.0 - float(self.strength), 0.0)
        return out
