"""Where each pixel of a frame lies in its keyframe, fitted straight to the keyframe at full size
(issue #47), so a painting carried along a shot lands its strokes within a fraction of a pixel
however far the shot has moved.

The chain of flows (stream/edit/carry.py) says roughly where each pixel came from; each step of it
errs by a fraction of a pixel at flow size, three times that at full size, and the errors of a
zoom or a turn go mostly one way. Here, every frame is registered to the keyframe itself, not to
the frame before it:

1. a homography (the motion of a camera over a far or flat scene: a pan, a zoom, a turn, a tilt)
   fitted with RANSAC to the chain's trusted places, as a start;
2. the keyframe's own frame warped by it into this frame's geometry, and the small motion left
   between the two measured at full size (DIS), then the homography fitted again to where that
   puts every pixel: twice, so it converges to a fraction of a pixel (a direct, coarse-to-fine
   fit: thousands of pixels average each one's error away);
3. ``explains``: where the keyframe, warped by the model, matches this frame (in colour: a red
   object and the grey wall behind it may have one brightness). There the model's place is the
   pixel's place (stream/edit/carry.py); elsewhere (parallax, an object moving on its own, what the
   keyframe never saw) the chain's place, nudged against the keyframe, as before, and the
   photometric error of the result is the trust's to judge.

A shot the model cannot fit (too few trusted places, a degenerate fit) keeps the chain's places.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from stream.temporal.motion import pixel_grid

FIT_POINTS = 4000        # trusted places sampled for the first fit (flow size)
MIN_POINTS = 200         # fewer trusted places than this: no model
RANSAC_PX = 1.0          # flow-size pixels: a place this far off the first fit is an outlier
REFIT_PX = 0.5           # full-size pixels: the refits' outlier threshold
ROUNDS = 2               # warp, measure what is left, fit again
EXPLAINED_GREY = 10.0    # levels (the channels' mean, blurred) of mismatch within which the model explains a pixel
MISMATCH_SIGMA = 2.0     # full-size pixels: the mismatch is judged over a small neighbourhood


@dataclass
class Registered:
    """A frame's places in the keyframe by the model at full size ((h, w, 2) float32, keyframe
    pixels; the chain's where no model fitted), the homography behind them (3x3, frame pixel ->
    keyframe pixel; None where no model fitted), where the model explains the picture, inside the
    keyframe ((h, w) float32, 0 or 1; None without a model), that share of the frame, and the
    mismatch behind it."""

    coords: np.ndarray
    homography: np.ndarray | None
    explains: np.ndarray | None
    explained: float
    mismatch: np.ndarray | None  # (h, w) float32: the keyframe at the model's places against this frame


class KeyRegistration:
    """Registers frames to one keyframe: ``key`` is the keyframe's own frame (uint8 HWC RGB) and
    ``key_grey`` its grey, full size."""

    def __init__(self, key: np.ndarray, key_grey: np.ndarray):
        self.key, self.key_grey = key, key_grey
        self.h, self.w = key_grey.shape
        self._dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self._grid = pixel_grid(self.h, self.w, {})
        self._rng = np.random.default_rng(0)

    def register(self, frame: np.ndarray, grey: np.ndarray, chained: np.ndarray, trusted: np.ndarray) -> Registered:
        """``frame``, ``grey``: this frame and its grey, full size; ``chained``: the chain's places at flow size ((fh, fw, 2),
        keyframe flow-size pixels) and ``trusted`` (fh, fw) where the chain still holds."""
        fh, fw = chained.shape[:2]
        sx, sy = self.w / fw, self.h / fh
        model = self._first_fit(chained, trusted > 0.5, sx, sy)
        if model is None:
            return Registered(full_size_places(chained, self.w, self.h), None, None, 0.0, None)
        for _ in range(ROUNDS):
            along = _project(model, self._grid)
            seen = cv2.remap(self.key_grey, along, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            residual = self._dis.calc(grey, seen, None)  # grey(x) ~ seen(x + residual(x))
            dense = cv2.remap(along, self._grid + residual, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            refit = self._refit(dense, residual)
            if refit is None:
                break
            model = refit
        along = _project(model, self._grid)
        inside = (along[..., 0] >= 0) & (along[..., 0] <= self.w - 1) & (along[..., 1] >= 0) & (along[..., 1] <= self.h - 1)
        mismatch = self.mismatch(along, frame)
        explains = ((mismatch <= EXPLAINED_GREY) & inside).astype(np.float32)
        return Registered(along, model, explains, float(explains.mean()), mismatch)

    def mismatch(self, places: np.ndarray, frame: np.ndarray) -> np.ndarray:
        """How far the keyframe's frame taken at ``places`` (full size) is from ``frame``, per pixel:
        the channels' mean difference in levels, blurred."""
        return _mismatch(cv2.remap(self.key, places, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), frame)

    def _first_fit(self, chained: np.ndarray, trusted: np.ndarray, sx: float, sy: float) -> np.ndarray | None:
        ys, xs = np.nonzero(trusted)
        if len(xs) < MIN_POINTS:
            return None
        if len(xs) > FIT_POINTS:
            pick = self._rng.choice(len(xs), FIT_POINTS, replace=False)
            ys, xs = ys[pick], xs[pick]
        # flow-size pixel centres to full-size ones: (c + 0.5) * s - 0.5
        src = np.stack([(xs + 0.5) * sx - 0.5, (ys + 0.5) * sy - 0.5], 1).astype(np.float32)
        dst = chained[ys, xs] * np.float32([sx, sy]) + np.float32([0.5 * sx - 0.5, 0.5 * sy - 0.5])
        model, inliers = cv2.findHomography(src, dst.astype(np.float32), cv2.RANSAC, RANSAC_PX * (sx + sy) / 2)
        if model is None or inliers is None or inliers.sum() < MIN_POINTS or not _sane(model):
            return None
        return model

    def _refit(self, dense: np.ndarray, residual: np.ndarray) -> np.ndarray | None:
        """The homography fitted again to the full-size places the residual flow gives, on a
        sample of pixels spread over the frame."""
        step = max(2, int(np.sqrt(self.h * self.w / (4 * FIT_POINTS))))
        src = self._grid[step // 2::step, step // 2::step].reshape(-1, 2)
        dst = dense[step // 2::step, step // 2::step].reshape(-1, 2)
        moved = np.sqrt(np.sum(residual[step // 2::step, step // 2::step] ** 2, axis=2)).reshape(-1)
        keep = moved < 8.0  # a residual this large is an object of its own, not the camera's error
        if keep.sum() < MIN_POINTS:
            return None
        model, inliers = cv2.findHomography(src[keep], dst[keep], cv2.RANSAC, REFIT_PX)
        if model is None or inliers is None or inliers.sum() < MIN_POINTS or not _sane(model):
            return None
        # least squares on the inliers alone: RANSAC's own answer is fitted to its minimal sample
        chosen = inliers.ravel().astype(bool)
        refined, _ = cv2.findHomography(src[keep][chosen], dst[keep][chosen], 0)
        return refined if refined is not None and _sane(refined) else model


def _project(model: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Each pixel of ``grid`` through the homography: (h, w, 2) float32."""
    return cv2.perspectiveTransform(grid.reshape(-1, 1, 2), model).reshape(grid.shape).astype(np.float32)


def _mismatch(seen: np.ndarray, frame: np.ndarray) -> np.ndarray:
    """In colour (the mean of the channels' differences, blurred): a red object and the grey wall
    behind it may have one brightness."""
    return cv2.GaussianBlur(cv2.absdiff(seen, frame).astype(np.float32).mean(axis=2), (0, 0), MISMATCH_SIGMA)


def full_size_places(coords: np.ndarray, w: int, h: int) -> np.ndarray:
    """Flow-size places of flow-size pixels as full-size places of full-size pixels: (c + 0.5) * s - 0.5."""
    fh, fw = coords.shape[:2]
    scale = np.float32([w / fw, h / fh])
    return (cv2.resize(coords, (w, h), interpolation=cv2.INTER_LINEAR) + np.float32(0.5)) * scale - np.float32(0.5)


def flow_size_places(full: np.ndarray, fw: int, fh: int) -> np.ndarray:
    """The other way: full-size places of full-size pixels as flow-size places of flow-size pixels."""
    h, w = full.shape[:2]
    scale = np.float32([w / fw, h / fh])
    return (cv2.resize(full, (fw, fh), interpolation=cv2.INTER_AREA) + np.float32(0.5)) / scale - np.float32(0.5)


def _sane(model: np.ndarray) -> bool:
    """A homography a camera can make between two frames of a shot: finite, not flipped, and not
    scaling or skewing the picture beyond what a few seconds of a zoom or a tilt do."""
    if not np.all(np.isfinite(model)) or abs(model[2, 2]) < 1e-9:
        return False
    m = model / model[2, 2]
    det = np.linalg.det(m[:2, :2])
    return 0.25 < det < 4 and abs(m[2, 0]) < 0.01 and abs(m[2, 1]) < 0.01


def zoom_out(model: np.ndarray | None, at: tuple[float, float]) -> float:
    """How many keyframe pixels one frame pixel spans at ``at`` (full size): above 1 the painting is
    shrunk there and should be smoothed first (area), at or below 1 it is enlarged (sharp kernel)."""
    if model is None:
        return 1.0
    x, y = at
    here = cv2.perspectiveTransform(np.float32([[[x, y], [x + 1, y], [x, y + 1]]]), model)[0]
    (ax, ay), (bx, by) = here[1] - here[0], here[2] - here[0]
    return float(np.sqrt(abs(ax * by - ay * bx)))
