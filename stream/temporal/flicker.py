"""A flicker readout: how much the output changes where the picture itself barely moved.

For each pair of consecutive frames, at reduced size (320 pixels on the longer side, grey): the pixels whose
*input* changed by less than ``STILL`` grey levels are the ones that should look the same in the
output too; their mean change in the *output* is the flicker figure (grey levels, 0..255), and
their mean change in the input (noise, compression) is the source's own, shown beside it. It is a
cheap stand-in for the warping error of tests/support/temporal_metrics.py (which follows the motion with
optical flow at full size): a still part of the scene that shimmers reads high, one that holds
still reads near the source's figure. Frames where almost nothing was still (a pan, a cut) are left
out. Figures are averaged over the last second (``readout``) and over the whole run (``overall``).
About 0.5 ms a frame. At 320 pixels it keeps the fine texture that shimmers; at 160 the readout
moved half as much between a per-frame and a stabilized render of bikes.mp4 (docs/benchmarks/stability.md).
"""
from __future__ import annotations

import threading
from collections import deque

import cv2
import numpy as np

SIDE = 320          # pixels, the longer side the two frames are compared at
STILL = 3.0         # grey levels: input pixels that changed less than this are "still"
MIN_STILL = 0.02    # a pair where under 2% of the picture was still says nothing, and is left out


def flicker_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) the frames are compared at: the longer side SIDE pixels."""
    scale = SIDE / max(height, width)
    return max(8, round(width * scale)), max(8, round(height * scale))


def _grey(image: np.ndarray) -> np.ndarray:
    small = cv2.resize(image, flicker_size(image.shape[1], image.shape[0]), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)


class FlickerMeter:
    """``update(original, output)`` once per frame in order; read from any thread."""

    def __init__(self, window: int = 25):
        self._recent: deque = deque(maxlen=window)  # (flicker, source) of the last ``window`` pairs
        self._sum = np.zeros(2)
        self._pairs = 0
        self._previous: tuple[np.ndarray, np.ndarray] | None = None
        self._lock = threading.Lock()

    def reset(self) -> None:
        """Forget the last frame (a new style, a seek): the next pair starts afresh."""
        self._previous = None

    def update(self, original: np.ndarray, output: np.ndarray) -> None:
        self.update_greys(_grey(original), _grey(output))

    def update_greys(self, original: np.ndarray, output: np.ndarray) -> None:
        """``update`` with both frames already grey at ``flicker_size`` (uint8): the device path
        makes them where the frames are and brings these few KB down."""
        now = (original.astype(np.float32), output.astype(np.float32))
        previous, self._previous = self._previous, now
        if previous is None or previous[0].shape != now[0].shape:
            return
        moved = np.abs(now[0] - previous[0])
        still = moved < STILL
        if still.mean() < MIN_STILL:
            return
        pair = (float(np.abs(now[1] - previous[1])[still].mean()), float(moved[still].mean()))
        with self._lock:
            self._recent.append(pair)
            self._sum += pair
            self._pairs += 1

    def readout(self) -> dict:
        """``flicker`` and ``source_flicker`` over the last second of frames (None before two frames)."""
        with self._lock:
            recent = list(self._recent)
        if not recent:
            return {"flicker": None, "source_flicker": None}
        flicker, source = np.mean(recent, axis=0)
        return {"flicker": round(float(flicker), 2), "source_flicker": round(float(source), 2)}

    def overall(self) -> dict:
        """The same figures over every frame pair so far."""
        with self._lock:
            if not self._pairs:
                return {"flicker": None, "source_flicker": None}
            flicker, source = self._sum / self._pairs
        return {"flicker": round(float(flicker), 2), "source_flicker": round(float(source), 2)}
