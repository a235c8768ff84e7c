"""Temporal stabilization: stylized video that does not flicker, without ghost trails.

Per-frame style networks turn tiny changes between frames (noise, compression, small motion) into
shimmering texture. For each new frame the stabilizer:

1. measures optical flow between the previous and the current *input* frame (OpenCV's DIS at a
   reduced size, both directions),
2. warps the previous *output* along it, so last frame's texture lands where the content moved,
3. trusts the warp where the flow is reliable: forward and backward flow agree and the warped
   previous input matches the current input (a photometric check); occluded, disoccluded and fast
   moving pixels take the new stylized frame as it is,
4. blends ``stability`` of the warped output into the new one where trusted, in the detail band
   only: the coarse picture (colours, shapes) always comes from the current frame, so moving
   objects leave no ghost and structure stays faithful, while the texture that shimmers stays put
   along motion trajectories (recursively, frame after frame),
5. starts afresh at a scene cut: the previous input, warped, no longer matches the current one.

``stability`` 0 returns the stylized frame untouched (bit-identical). The interface
``__call__(source, stylized) -> frame`` is what a GPU version implements too.
Figures on real footage and how the constants were chosen: docs/benchmarks.md.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from engines.errors import OptionError

DEFAULT_STABILITY = 0.9
FLOW_SIDE = 320          # flow is measured with the longer side at this many pixels
CONSISTENCY_PX = 6.0     # forward-backward disagreement (flow-size pixels) above which a pixel is untrusted
PHOTO_TOLERANCE = 0.4    # warped-input mismatch (0..1 grey) at which trust falls to zero, linearly
COARSE_SIGMA = 2.0       # pixels; what a Gaussian of this size keeps is taken from the current frame only
RESHARPEN = 0.3
CUT_MISMATCH = 0.05      # median warped-input mismatch (0..1 grey) above which a frame starts a new shot;
                         # continuous motion in bikes.mp4 stays near 0.008, its 5 cuts measure 0.09-0.23


@dataclass
class StabilizerStats:
    frames: int = 0
    cuts: int = 0
    mean_trust: float = 0.0


def _grid(h: int, w: int, cache: dict) -> tuple[np.ndarray, np.ndarray]:
    if (h, w) not in cache:
        cache[(h, w)] = np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32))
    return cache[(h, w)]


class Stabilizer:
    """Call with (source, stylized) uint8 HWC RGB frames of the same size, in order; returns the
    stabilized frame. One per stream; not thread-safe. ``set_stability`` may be called between frames."""

    def __init__(self, stability: float = DEFAULT_STABILITY):
        self.set_stability(stability)
        self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self._grids: dict = {}
        self.stats = StabilizerStats()
        self.reset()

    def set_stability(self, stability: float) -> None:
        if not 0.0 <= float(stability) <= 1.0:
            raise OptionError(f"stability must be between 0 and 1, got {stability}")
        self.stability = float(stability)

    def reset(self) -> None:
        """Forget the past (a new stream, a seek)."""
        self._prev_grey = None
        self._prev_out = None

    def _grey(self, frame: np.ndarray) -> np.ndarray:
        h, w = frame.shape[:2]
        scale = min(1.0, FLOW_SIDE / max(h, w))
        small = cv2.resize(frame, (max(8, round(w * scale)), max(8, round(h * scale))), interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)

    def _trust(self, grey: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """(backward flow, trust 0..1, median mismatch), at flow size: where each current pixel was
        before, how far that can be believed, and how well the previous frame explains this one."""
        back = self._flow.calc(grey, self._prev_grey, None)
        fwd = self._flow.calc(self._prev_grey, grey, None)
        h, w = grey.shape
        gx, gy = _grid(h, w, self._grids)
        map_x, map_y = gx + back[..., 0], gy + back[..., 1]
        fwd_there = cv2.remap(fwd, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        consistent = np.linalg.norm(back + fwd_there, axis=-1) < CONSISTENCY_PX
        warped_grey = cv2.remap(self._prev_grey, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        mismatch = np.abs(warped_grey.astype(np.float32) - grey) / 255.0
        inside = (map_x >= 0) & (map_x <= w - 1) & (map_y >= 0) & (map_y <= h - 1)
        trust = np.clip(1.0 - mismatch / PHOTO_TOLERANCE, 0.0, 1.0) * (consistent & inside)
        return back, trust.astype(np.float32), float(np.median(mismatch))

    def __call__(self, source: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        if self.stability == 0.0:
            self.reset()
            return stylized
        grey = self._grey(source)
        self.stats.frames += 1
        if self._prev_grey is None or self._prev_grey.shape != grey.shape or self._prev_out.shape != stylized.shape:
            self._prev_grey, self._prev_out = grey, stylized
            return stylized
        back, trust, mismatch = self._trust(grey)
        self.stats.mean_trust += (float(trust.mean()) - self.stats.mean_trust) / self.stats.frames
        if mismatch > CUT_MISMATCH:
            self.stats.cuts += 1
            self._prev_grey, self._prev_out = grey, stylized
            return stylized
        h, w = stylized.shape[:2]
        fh, fw = grey.shape
        flow = cv2.resize(back, (w, h), interpolation=cv2.INTER_LINEAR) * np.float32((w / fw + h / fh) / 2)
        gx, gy = _grid(h, w, self._grids)
        warped = cv2.remap(self._prev_out, gx + flow[..., 0], gy + flow[..., 1], cv2.INTER_LINEAR,
                           borderMode=cv2.BORDER_REPLICATE)
        if RESHARPEN:  # each bilinear warp blurs a little; recursion would compound it into a wash
            warped = cv2.addWeighted(warped, 1 + RESHARPEN, cv2.GaussianBlur(warped, (0, 0), 0.8), -RESHARPEN, 0)
        weight = cv2.resize(trust, (w, h), interpolation=cv2.INTER_LINEAR)[..., None] * self.stability
        current = stylized.astype(np.float32)
        change = weight * (warped.astype(np.float32) - current)
        change -= cv2.GaussianBlur(change, (0, 0), COARSE_SIGMA)  # detail band only
        out = np.clip(current + change + 0.5, 0, 255).astype(np.uint8)
        self._prev_grey, self._prev_out = grey, out
        return out
