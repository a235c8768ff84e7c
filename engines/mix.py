"""The mix: how the network's picture is mixed back with the source, after the network and
outside it: how much of the style to apply (strength) and whether to keep the source's colours.
(A *look*, in stylecast's words, is what a user gives a shot: a style and these, and stability.)

One mix, two backends side by side: uint8 HWC numpy pictures on the host (OpenCV) and uint8
[..., H, W, 3] torch tensors on a device (the device frame path), within a level of each other
(OpenCV rounds to 8 bits between its steps; torch keeps floats until the end).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .errors import OptionError
from .optional import is_tensor, torch


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

    def apply(self, stylized, original):
        """Both uint8 RGB pictures of the same size, numpy (host) or torch (device); a new picture of
        the same kind (the stylized one as it is when the mix is plain)."""
        if self.is_plain:
            return stylized
        return self._on_device(stylized, original) if is_tensor(stylized) else self._on_host(stylized, original)

    def _on_host(self, stylized: np.ndarray, original: np.ndarray) -> np.ndarray:
        out = stylized
        if self.keep_colors:
            ycc = cv2.cvtColor(original, cv2.COLOR_RGB2YCrCb)
            ycc[..., 0] = cv2.cvtColor(stylized, cv2.COLOR_RGB2YCrCb)[..., 0]
            out = cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)
        if self.strength < 1.0:
            out = cv2.addWeighted(out, float(self.strength), original, 1.0 - float(self.strength), 0.0)
        return out

    def _on_device(self, stylized, original):
        """The same on device tensors: the stylized luma with the original's colours (as swapping
        YCrCb's Y), then ``strength`` of it over the original."""
        out = stylized.float()
        if self.keep_colors:
            out = (original.float() + (_luma(stylized) - _luma(original))[..., None]).round_().clamp_(0, 255)
        if self.strength < 1.0:
            out = out * float(self.strength) + original.float() * (1.0 - float(self.strength))
        return out.round_().clamp_(0, 255).to(torch.uint8)


def _luma(image):
    """Full-range BT.601 luma (OpenCV's YCrCb) of a device picture, float."""
    x = image.float()
    return 0.299 * x[..., 0] + 0.587 * x[..., 1] + 0.114 * x[..., 2]
