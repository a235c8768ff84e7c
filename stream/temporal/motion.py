"""How the picture moved from one frame to the next, measured on the source's greys at a small size:
the optical flow both ways (OpenCV's DIS), how far it can be trusted, and how well the previous
frame explains this one (a cut when it does not). What the stabilizer builds on, and the cut
finder and the painting's carry with it.

It needs only the two source greys, never the stylized frames, so it is measured wherever there is
a core free: in a parallel stage of a render or beside the network in a live job, a frame ahead of
the stabilizer, which then only blends (``Motion`` carries the grey it was measured from, and the
stabilizer uses it only when that grey is the one it stabilized last). A ``MotionMeter`` is safe
from several threads at once (DIS, which is not, is made once per thread).

The greys: ``flow_grey`` of a host picture (OpenCV's area resize, then RGB2GRAY), or of a device
picture (the same in torch: engines/pictures.py's ``small_grey``, brought to the host), or of a
decoded frame's luma plane where the picture comes as 4:2:0 (the device path: no picture comes
down for it).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

import cv2
import numpy as np

FLOW_SIDE = 320          # flow is measured with the longer side at this many pixels
CONSISTENCY_PX = 6.0     # forward-backward disagreement (flow-size pixels) above which a pixel is untrusted
PHOTO_TOLERANCE = 0.4    # warped-input mismatch (0..1 grey) at which trust falls to zero, linearly
CUT_MISMATCH = 0.05      # median warped-input mismatch (0..1 grey) above which a frame starts a new shot;
                         # continuous motion in bikes.mp4 stays near 0.008, its 5 cuts measure 0.09-0.23


def flow_size(width: int, height: int) -> tuple[int, int]:
    """(width, height) a frame is measured at: the longer side at most FLOW_SIDE pixels."""
    scale = min(1.0, FLOW_SIDE / max(height, width))
    return max(8, round(width * scale)), max(8, round(height * scale))


def flow_grey(frame: np.ndarray) -> np.ndarray:
    """uint8 grey of an RGB host picture at ``flow_size``: what the flow is measured on."""
    small = cv2.resize(frame, flow_size(frame.shape[1], frame.shape[0]), interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(small, cv2.COLOR_RGB2GRAY)


def picture_grey(frame: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """uint8 grey of an RGB host picture at ``size`` (width, height): area-averaged, then RGB2GRAY."""
    return cv2.cvtColor(cv2.resize(frame, size, interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2GRAY)


def luma_grey(yuv, full_range: bool, rotation: int, size: tuple[int, int]) -> np.ndarray:
    """uint8 grey at ``size`` (width, height) of a decoded 4:2:0 picture (a ``Yuv420``), from its luma
    plane alone, turned upright (``rotation`` quarter turns) and brought to full range: what the
    device path measures motion and flicker on, with no picture brought back from the device. (Luma
    is the grey of RGB2GRAY for BT.601 sources; for BT.709 ones it weighs colours a little
    differently, the same way in every frame, which is all a flow or a flicker readout asks.)"""
    y = yuv.data.reshape(-1)[:yuv.width * yuv.height].reshape(yuv.height, yuv.width)
    if rotation:
        y = np.rot90(y, rotation)
    small = cv2.resize(np.ascontiguousarray(y), size, interpolation=cv2.INTER_AREA)
    if full_range:
        return small
    return cv2.convertScaleAbs(small, alpha=255 / 219, beta=-16 * 255 / 219)


def pixel_grid(h: int, w: int, cache: dict) -> np.ndarray:
    """(h, w, 2) float32: each pixel's own x and y (kept in ``cache`` per size)."""
    if (h, w) not in cache:
        cache[(h, w)] = np.dstack(np.meshgrid(np.arange(w, dtype=np.float32), np.arange(h, dtype=np.float32)))
    return cache[(h, w)]


def warped_mismatch(prev_grey: np.ndarray, grey: np.ndarray, where: np.ndarray) -> np.ndarray:
    """uint8 grey levels: how far the previous picture, taken from ``where`` (each pixel's place in
    it, from the backward flow), is from the current one."""
    warped = cv2.remap(prev_grey, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return cv2.absdiff(warped, grey)


def median_level(mismatch: np.ndarray) -> float:
    """The median of a uint8 mismatch image, 0..1: above CUT_MISMATCH, a new shot has begun."""
    counts = np.cumsum(np.bincount(mismatch.ravel(), minlength=256))
    return int(np.searchsorted(counts, (counts[-1] + 1) // 2)) / 255.0


@dataclass(frozen=True)
class Motion:
    """From ``prev`` (the grey it was measured from) to this frame, at flow size: ``back`` where each
    pixel was before (pixels), ``trust`` 0..1 how far that can be believed, ``mismatch`` the median
    warped mismatch (0..1: over CUT_MISMATCH, a cut)."""

    prev: np.ndarray
    back: np.ndarray
    trust: np.ndarray
    mismatch: float

    @property
    def cut(self) -> bool:
        return self.mismatch > CUT_MISMATCH


class MotionMeter:
    """Measures ``Motion`` between two greys of one size; ``thorough``: DIS's medium preset (renders),
    else the fast one (live, in 60% of the time)."""

    def __init__(self, thorough: bool = True):
        self.preset = cv2.DISOPTICAL_FLOW_PRESET_MEDIUM if thorough else cv2.DISOPTICAL_FLOW_PRESET_FAST
        self._local = threading.local()  # a DIS and a pixel grid per thread

    def _dis(self):
        dis = getattr(self._local, "dis", None)
        if dis is None:
            dis = self._local.dis = cv2.DISOpticalFlow_create(self.preset)
            self._local.grids = {}
        return dis

    def measure(self, prev: np.ndarray, grey: np.ndarray) -> Motion:
        """The motion from ``prev`` to ``grey`` (uint8, flow size): the backward flow, the trust where
        forward and backward flow agree and the warped previous grey matches, and the mismatch."""
        dis = self._dis()
        back = dis.calc(grey, prev, None)
        fwd = dis.calc(prev, grey, None)
        h, w = grey.shape
        where = pixel_grid(h, w, self._local.grids) + back
        fwd_there = cv2.remap(fwd, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        disagree = back + fwd_there
        disagree *= disagree
        consistent = disagree[..., 0] + disagree[..., 1] < CONSISTENCY_PX ** 2
        mismatch = warped_mismatch(prev, grey, where)
        inside = cv2.inRange(where, (0, 0), (w - 1, h - 1)) > 0
        trust = np.clip(1.0 - mismatch * np.float32(1 / (255 * PHOTO_TOLERANCE)), 0.0, 1.0)
        trust *= consistent & inside
        return Motion(prev, back, trust, median_level(mismatch))
