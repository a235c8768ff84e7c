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
5. gives the shown frame back up to DETAIL_GAIN of the texture contrast that blending took away
   (``restore_contrast``: two brush textures that do not line up exactly weaken each other when
   averaged), on what is shown only, never on what is fed back,
6. starts afresh at a scene cut: the previous input, warped, no longer matches the current one.

``stability`` 0 returns the stylized frame untouched (bit-identical). The interface
``__call__(source, stylized) -> frame`` is what a GPU version implements too.
Figures on real footage and how the constants were chosen: docs/benchmarks.md.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from engines.errors import OptionError

DEFAULT_STABILITY = 0.8
FLOW_SIDE = 320          # flow is measured with the longer side at this many pixels
CONSISTENCY_PX = 6.0     # forward-backward disagreement (flow-size pixels) above which a pixel is untrusted
PHOTO_TOLERANCE = 0.4    # warped-input mismatch (0..1 grey) at which trust falls to zero, linearly
COARSE_SIGMA = 3.0       # pixels; what a Gaussian of this size keeps is taken from the current frame only
SHARPEN_SIGMA = 0.8      # pixels; the resharpening undoes a bilinear warp's blur at this scale
DETAIL_GAIN = 1.1        # at most this much of its texture contrast is given back to a blended frame
ENERGY_SIGMA = 4.0       # pixels; the neighbourhood over which texture contrast is compared
CUT_MISMATCH = 0.05      # median warped-input mismatch (0..1 grey) above which a frame starts a new shot;
                         # continuous motion in bikes.mp4 stays near 0.008, its 5 cuts measure 0.09-0.23


def warmup_frames(stability: float) -> int:
    """Frames after which what came before weighs under 2% at ``stability`` (each frame keeps at most
    ``stability`` of the past): a render of a time range stabilizes this many frames before it first,
    so its first frame looks as it would inside a whole render. 18 at the default 0.8."""
    if stability <= 0:
        return 0
    return 60 if stability >= 1 else min(60, math.ceil(math.log(0.02) / math.log(stability)))


@dataclass
class StabilizerStats:
    frames: int = 0
    cuts: int = 0
    mean_trust: float = 0.0


# one-dimensional high pass: the pixel minus its Gaussian neighbourhood
_ONE = np.array([1.0], np.float32)
_SHARPEN = (np.eye(1, 5, 2) - cv2.getGaussianKernel(5, SHARPEN_SIGMA).T).astype(np.float32).ravel()


def resharpen_weights(flow: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """How much to sharpen the warped past along x and along y, per pixel, for ``flow`` in pixels.

    A bilinear warp by a fraction f of a pixel blurs by f(1-f) (its variance along that axis): none
    at whole pixels, most at half pixels. Carried frame after frame, that blur would wash the texture
    out, so it is undone, along each axis by just that much: f(1-f) / SHARPEN_SIGMA^2 is the most
    that keeps the loop's gain at or below 1 at every spatial frequency. A fixed amount would add
    gain where the warp did not blur (a still camera moves by whole pixels: f = 0), and the
    stabilizer's own output, fed back, would then grow into crisp noise."""
    frac = flow - np.floor(flow)
    blur = frac * (1 - frac)
    blur *= np.float32(1 / SHARPEN_SIGMA ** 2)
    return blur[..., 0], blur[..., 1]


def _contrast(image: np.ndarray, coarse: np.ndarray) -> np.ndarray:
    """Texture contrast around each pixel: the mean absolute detail (``image`` less its ``coarse``
    picture), summed over channels and averaged over ENERGY_SIGMA; at half size (it varies slowly)."""
    h, w = image.shape[:2]
    half = cv2.resize(cv2.absdiff(image, coarse), (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA)
    total = cv2.transform(half.astype(np.float32), np.ones((1, 3), np.float32))
    return cv2.GaussianBlur(total, (0, 0), ENERGY_SIGMA / 2)


def restore_contrast(blended: np.ndarray, stylized: np.ndarray) -> np.ndarray:
    """``blended`` with up to DETAIL_GAIN of its texture contrast given back where blending with the
    past took it away. Averaging two brush textures that do not line up exactly weakens both; the
    frame's own stylization says how strong the texture should be here. Applied to what is shown
    only, never to what is fed back, so it cannot compound from frame to frame. (Coarse pictures
    are blurred in uint8: four times faster than in float, within half a level.)"""
    coarse = cv2.GaussianBlur(blended, (0, 0), COARSE_SIGMA)
    wanted = _contrast(stylized, cv2.GaussianBlur(stylized, (0, 0), COARSE_SIGMA))
    gain = (wanted + 1) / (_contrast(blended, coarse) + 1)
    np.clip(gain, 1.0, DETAIL_GAIN, out=gain)
    gain -= 1
    detail = cv2.subtract(blended, coarse, dtype=cv2.CV_32F)
    return cv2.add(blended, cv2.multiply(detail, _full_size(gain, *blended.shape[1::-1])), dtype=cv2.CV_8U)


def _full_size(plane: np.ndarray, w: int, h: int) -> np.ndarray:
    """A flow-size weight as a full-size three-channel image, to multiply RGB pixels with."""
    return cv2.resize(cv2.merge([plane] * 3), (w, h), interpolation=cv2.INTER_LINEAR)


def warped_mismatch(prev_grey: np.ndarray, grey: np.ndarray, where: np.ndarray) -> np.ndarray:
    """uint8 grey levels: how far the previous picture, taken from ``where`` (each pixel's place in
    it, from the backward flow), is from the current one."""
    warped = cv2.remap(prev_grey, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return cv2.absdiff(warped, grey)


def median_level(mismatch: np.ndarray) -> float:
    """The median of a uint8 mismatch image, 0..1: above CUT_MISMATCH, a new shot has begun."""
    counts = np.cumsum(np.bincount(mismatch.ravel(), minlength=256))
    return int(np.searchsorted(counts, (counts[-1] + 1) // 2)) / 255.0


def flow_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) a frame is measured at: the longer side at most FLOW_SIDE pixels."""
    scale = min(1.0, FLOW_SIDE / max(height, width))
    return max(8, round(width * scale)), max(8, round(height * scale))


def flow_grey(frame: np.ndarray) -> np.ndarray:
    """uint8 grey of an RGB frame at ``flow_size``: what the flow is measured on."""
    small = cv2.resize(frame, flow_size(frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)


def pixel_grid(h: int, w: int, cache: dict) -> np.ndarray:
    """(h, w, 2) float32: each pixel's own x and y (kept in ``cache`` per size)."""
    if (h, w) not in cache:
        cache[(h, w)] = np.dstack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)))
    return cache[(h, w)]


class Stabilizer:
    """Call with (source, stylized) uint8 HWC RGB frames of the same size, in order; returns the
    stabilized frame. One per stream; not thread-safe. ``set_stability`` may be called between frames.

    ``thorough`` (renders): DIS's medium preset and ``restore_contrast``. Without it (live jobs, which
    must keep their frame rate on two cores): the fast preset and no contrast step, in 60% of the
    time (640x360: 25 against 42 ms here), keeping 88% of the style instead of 91% on bikes.mp4."""

    def __init__(self, stability: float = DEFAULT_STABILITY, thorough: bool = True):
        self.set_stability(stability)
        self.thorough = thorough
        preset = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM if thorough else cv2.DISOPTICAL_FLOW_PRESET_FAST
        self._flow = cv2.DISOpticalFlow_create(preset)
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
        return flow_grey(frame)

    def _trust(self, grey: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        """(backward flow, trust 0..1, median mismatch), at flow size: where each current pixel was
        before, how far that can be believed, and how well the previous frame explains this one."""
        back = self._flow.calc(grey, self._prev_grey, None)
        fwd = self._flow.calc(self._prev_grey, grey, None)
        h, w = grey.shape
        where = pixel_grid(h, w, self._grids) + back
        fwd_there = cv2.remap(fwd, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        disagree = back + fwd_there
        disagree *= disagree
        consistent = disagree[..., 0] + disagree[..., 1] < CONSISTENCY_PX ** 2
        mismatch = warped_mismatch(self._prev_grey, grey, where)
        inside = cv2.inRange(where, (0, 0), (w - 1, h - 1)) > 0
        trust = np.clip(1.0 - mismatch * np.float32(1 / (255 * PHOTO_TOLERANCE)), 0.0, 1.0)
        trust *= consistent & inside
        return back, trust, median_level(mismatch)

    def __call__(self, source: np.ndarray, stylized: np.ndarray, grey: np.ndarray | None = None) -> np.ndarray:
        """The stabilized frame; ``grey``: the source at the flow's size, where the caller has it."""
        if self.stability == 0.0:
            self.reset()
            return stylized
        return self.step(self._grey(source) if grey is None else grey, stylized)

    def step(self, grey: np.ndarray, stylized):
        """One frame, given its source already grey at the flow's size (``flow_grey``). The flow, the
        trust and the cut are measured here at that size; the full-size work is ``_blend`` and
        ``_restore`` (numpy and OpenCV here; torch on a device, stream/device/stabilizer.py)."""
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
        out = self._blend(back, trust, stylized)
        self._prev_grey, self._prev_out = grey, out
        return self._restore(out, stylized) if self.thorough else out

    def _restore(self, out: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        return restore_contrast(out, stylized)

    def _blend(self, back: np.ndarray, trust: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        """The previous output warped along ``back`` (flow size) onto this frame, blended into
        ``stylized`` by ``trust`` x stability in the detail band, with the warp's blur undone."""
        h, w = stylized.shape[:2]
        fh, fw = back.shape[:2]
        scale = (w / fw + h / fh) / 2
        # where each output pixel was in the previous frame: the grid plus the backward flow at full size
        where = cv2.scaleAdd(cv2.resize(back, (w, h), interpolation=cv2.INTER_LINEAR), scale, pixel_grid(h, w, self._grids))
        warped = cv2.remap(self._prev_out, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # per pixel, at flow size: how much of the warped past to keep, and how much to resharpen it
        # along x and along y (resharpen_weights); brought to full size with one weight per channel
        keep = trust * np.float32(self.stability)
        sharpen_x, sharpen_y = resharpen_weights(back * np.float32(scale))
        change = cv2.subtract(warped, stylized, dtype=cv2.CV_32F)
        cv2.multiply(change, _full_size(keep, w, h), dst=change)
        for kernels, amount in (((_SHARPEN, _ONE), sharpen_x), ((_ONE, _SHARPEN), sharpen_y)):
            detail = cv2.sepFilter2D(warped, cv2.CV_32F, *kernels)
            cv2.accumulateProduct(detail, _full_size(keep * amount, w, h), change)
        change -= cv2.GaussianBlur(change, (0, 0), COARSE_SIGMA)  # detail band only
        return cv2.add(stylized, change, dtype=cv2.CV_8U)  # rounded and clipped to 0..255
