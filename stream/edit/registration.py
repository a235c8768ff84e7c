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
   pixel's place (stream/edit/carry.py);
4. an object moving on its own (a car, a prop carried through the frame, a plane of the scene the
   camera's model does not fit): where the chain still holds and the camera's model explains
   nothing, or puts the pixel elsewhere than the chain does (an object's texture shifted a few
   pixels may still look like itself), a homography of its own is fitted the same way: to the
   chain's places there, then straight to the keyframe over the largest connected piece that
   follows it. It takes the pixels it explains better than the camera's model, in the pieces
   where the chain agrees with it somewhere (the chain says which object a pixel belongs to, the
   model where exactly), and its edge pixel by pixel (a blurred mismatch mixes the object with
   what lies beside it, so neither model explains a band along the edge); up to OBJECT_MODELS of
   them a frame, each over what the ones before left. A textured disc crossing a still
   photograph (bench/carry.py): 16 dB on the disc at 2 s before, 26 now;
5. elsewhere (a deforming object, what the keyframe never saw) the chain's place, nudged against
   the keyframe, as before, and the photometric error of the result is the trust's to judge.

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
OBJECT_MODELS = 2        # objects moving on their own: at most this many more models a frame
OBJECT_APART_PX = 1.5    # full-size pixels: a chain this far from the camera's model may follow an object
OBJECT_AGREES_PX = 3.0   # full-size pixels: an object's model takes a pixel the chain puts this near
OBJECT_MARGIN_GREY = 2.0 # levels: an object's model takes a pixel the camera's explains when it explains it this much better
EDGE_PX = 8              # full-size pixels: the band along an object's edge judged pixel by pixel
EDGE_SIGMA = 0.7         # full-size pixels: the mismatch there, over so small a neighbourhood,
EDGE_GREY = 20.0         # and the most a pixel there may miss by (the edge itself mixes both sides' colours)
EDGE_CLEAR = 10.0        # levels: or by more, where the object's model matches it this much better than the other
OBJECT_MARGIN_PX = 16    # full-size pixels around an object's region that its residual flow sees


_EDGE_DISC = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * EDGE_PX + 1, 2 * EDGE_PX + 1))


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
        self._moved = np.zeros((self.h, self.w), np.uint8)  # the keyframe's pixels an object's model has taken

    def register(self, frame: np.ndarray, grey: np.ndarray, chained: np.ndarray, trusted: np.ndarray) -> Registered:
        """``frame``, ``grey``: this frame and its grey, full size; ``chained``: the chain's places at flow size ((fh, fw, 2),
        keyframe flow-size pixels) and ``trusted`` (fh, fw) where the chain still holds."""
        fh, fw = chained.shape[:2]
        sx, sy = self.w / fw, self.h / fh
        held = trusted > 0.5
        model = self._first_fit(chained, held, sx, sy)
        if model is None:
            return Registered(full_size_places(chained, self.w, self.h), None, None, 0.0, None)
        model = self._refined(model, grey, None, (slice(0, self.h), slice(0, self.w)))
        along = _project(model, self._grid)
        mismatch = self.mismatch(along, frame)
        explains = ((mismatch <= EXPLAINED_GREY) & _inside(along, self.w, self.h)).astype(np.float32)
        # an object of its own: where the camera's model explains nothing, or puts the pixel
        # elsewhere than the chain does (an object's texture shifted a few pixels may still look
        # like itself: its own model, if it explains the pixel better, takes it)
        chain_full = full_size_places(chained, self.w, self.h)
        others = (explains == 0) | (np.sum((chain_full - along) ** 2, axis=2) > OBJECT_APART_PX ** 2)
        for _ in range(OBJECT_MODELS):
            left = held & (cv2.resize(others.astype(np.float32), (fw, fh), interpolation=cv2.INTER_AREA) > 0.5)
            own = self._first_fit(chained, left, sx, sy)
            region = None if own is None else self._follows(own, chained, left, sx, sy)
            if region is None:
                break
            box = _box(region, OBJECT_MARGIN_PX)
            places = _project(self._refined(own, grey, region[box], box), self._grid[box])
            takes = self._takes(frame[box], places, chain_full[box], along[box], mismatch[box], explains[box],
                                MIN_POINTS * sx * sy)
            if takes is None:
                break
            others[box][takes] = False
        return Registered(along, model, explains, float(explains.mean()), mismatch)

    def _takes(self, frame: np.ndarray, places: np.ndarray, chain: np.ndarray, along: np.ndarray,
               mismatch: np.ndarray, explains: np.ndarray, least: float) -> np.ndarray | None:
        """Where an object's model (its ``places`` over a box of the frame) takes the pixels: those it
        explains better than the camera's model, in the pieces where the chain agrees with it
        somewhere (the chain, dragged by the background at an object's edge, may not agree
        everywhere: the piece is the object); where both explain a pixel alike (a flat patch of the
        object over a flat wall), the chain decides, nearer the object's place than the camera's,
        or what an object took in an earlier frame (the chain, at a loss in a flat patch, may have
        stayed with the wall); then its edge (``_edge``). ``along``, ``mismatch``, ``explains``
        (the box's) are changed in place; None where it takes fewer than ``least`` pixels."""
        theirs = self.mismatch(places, frame)
        to_object = np.sum((places - chain) ** 2, axis=2)
        chain_says = ((to_object < OBJECT_AGREES_PX ** 2) & (to_object < np.sum((along - chain) ** 2, axis=2))
                      | (cv2.remap(self._moved, places, None, cv2.INTER_NEAREST, borderValue=0) > 0))
        clearly = (theirs + OBJECT_MARGIN_GREY < mismatch) | (explains == 0)
        could = ((theirs <= EXPLAINED_GREY) & _inside(places, self.w, self.h)
                 & (clearly | (chain_says & (theirs <= mismatch + OBJECT_MARGIN_GREY))))
        agrees = could & (to_object < OBJECT_AGREES_PX ** 2)
        takes = _pieces_with(could, agrees)
        if takes.sum() < least:
            return None
        along[takes], mismatch[takes], explains[takes] = places[takes], theirs[takes], 1.0
        # remembered where the chain agreed and the colour was clear: a wall the object's model
        # took beside it is not to spread from one frame to the next
        kx, ky = np.rint(places[takes & agrees & clearly]).astype(np.int32).T
        self._moved[np.clip(ky, 0, self.h - 1), np.clip(kx, 0, self.w - 1)] = 1
        self._edge(frame, places, takes, along, mismatch, explains)
        return takes

    def _edge(self, frame: np.ndarray, places: np.ndarray, takes: np.ndarray, along: np.ndarray,
              mismatch: np.ndarray, explains: np.ndarray) -> None:
        """An object's edge, pixel by pixel: the blurred mismatch there mixes the object with what
        lies beside it, so neither model explains a band along the edge. There, each pixel goes
        to whichever model (the object's, or the one beside it) matches the keyframe better in
        that pixel alone, within EDGE_GREY; past it (a codec's smear of an edge between two
        colours), to the object's where it matches EDGE_CLEAR better than the other's, and to
        neither otherwise. ``along``, ``mismatch``, ``explains`` are changed in place (the box's)."""
        band = (cv2.dilate(takes.astype(np.uint8), _EDGE_DISC) > 0) & ~takes & (explains == 0)
        if not band.any():
            return
        ours, beside = self.mismatch(places, frame, EDGE_SIGMA), self.mismatch(along, frame, EDGE_SIGMA)
        inside = _inside(places, self.w, self.h)
        object_side = band & inside & (ours < beside) & ((ours <= EDGE_GREY) | (ours + EDGE_CLEAR < beside))
        other_side = band & ~object_side & (beside <= EDGE_GREY) & _inside(along, self.w, self.h)
        along[object_side] = places[object_side]
        mismatch[object_side], mismatch[other_side] = ours[object_side], beside[other_side]
        explains[object_side | other_side] = 1.0

    def mismatch(self, places: np.ndarray, frame: np.ndarray, sigma: float = MISMATCH_SIGMA) -> np.ndarray:
        """How far the keyframe's frame taken at ``places`` (full size) is from ``frame``, per pixel:
        the channels' mean difference in levels, blurred."""
        return _mismatch(cv2.remap(self.key, places, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), frame, sigma)

    def _first_fit(self, chained: np.ndarray, trusted: np.ndarray, sx: float, sy: float) -> np.ndarray | None:
        ys, xs = np.nonzero(trusted)
        if len(xs) < MIN_POINTS:
            return None
        if len(xs) > FIT_POINTS:
            pick = self._rng.choice(len(xs), FIT_POINTS, replace=False)
            ys, xs = ys[pick], xs[pick]
        src = _full_size(np.stack([xs, ys], 1).astype(np.float32), sx, sy)
        dst = _full_size(chained[ys, xs], sx, sy)
        model, inliers = cv2.findHomography(src, dst, cv2.RANSAC, RANSAC_PX * (sx + sy) / 2)
        if model is None or inliers is None or inliers.sum() < MIN_POINTS or not _sane(model):
            return None
        return model

    def _follows(self, model: np.ndarray, chained: np.ndarray, left: np.ndarray, sx: float, sy: float
                 ) -> np.ndarray | None:
        """The object ``model`` was fitted to: the largest connected piece of ``left`` (flow size)
        whose chain places it puts within twice the first fit's threshold; full size."""
        fh, fw = left.shape
        off = np.sum((_project(model, _full_size(pixel_grid(fh, fw, {}), sx, sy)) - _full_size(chained, sx, sy)) ** 2, axis=2)
        near = (left & (off < (2 * RANSAC_PX * (sx + sy) / 2) ** 2)).astype(np.uint8)
        near = cv2.morphologyEx(near, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
        count, labels, stats, _ = cv2.connectedComponentsWithStats(near, connectivity=8)
        if count < 2:
            return None
        biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
        if stats[biggest, cv2.CC_STAT_AREA] < MIN_POINTS:
            return None
        return cv2.resize((labels == biggest).astype(np.uint8), (self.w, self.h), interpolation=cv2.INTER_NEAREST) > 0

    def _refined(self, model: np.ndarray, grey: np.ndarray, region: np.ndarray | None, box: tuple[slice, slice]
                 ) -> np.ndarray:
        """The model fitted again, ROUNDS times, straight to the keyframe: its frame warped by the
        model into this frame's geometry, the small motion left between the two measured at full
        size (DIS) over ``box``, and the homography fitted to where that puts the pixels (``region``'s
        alone, a mask of the box, where one is given)."""
        grid = self._grid[box]
        local = pixel_grid(*grid.shape[:2], {})
        part = np.ascontiguousarray(grey[box])
        for _ in range(ROUNDS):
            along = _project(model, grid)
            seen = cv2.remap(self.key_grey, along, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            residual = self._dis.calc(part, seen, None)  # grey(x) ~ seen(x + residual(x))
            dense = cv2.remap(along, local + residual, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
            refit = self._refit(grid, dense, residual, region)
            if refit is None:
                break
            model = refit
        return model

    def _refit(self, grid: np.ndarray, dense: np.ndarray, residual: np.ndarray, region: np.ndarray | None
               ) -> np.ndarray | None:
        """The homography fitted again to the full-size places the residual flow gives, on a
        sample of pixels spread over the frame (over ``region`` where one is given)."""
        area = grid.shape[0] * grid.shape[1] if region is None else int(region.sum())
        step = max(2, int(np.sqrt(area / (4 * FIT_POINTS))))
        pick = (slice(step // 2, None, step), slice(step // 2, None, step))
        src, dst = grid[pick].reshape(-1, 2), dense[pick].reshape(-1, 2)
        moved = np.sqrt(np.sum(residual[pick] ** 2, axis=2)).reshape(-1)
        keep = moved < 8.0  # a residual this large is an object of its own, not the camera's error
        if region is not None:
            keep &= region[pick].reshape(-1)
        if keep.sum() < MIN_POINTS:
            return None
        model, inliers = cv2.findHomography(src[keep], dst[keep], cv2.RANSAC, REFIT_PX)
        if model is None or inliers is None or inliers.sum() < MIN_POINTS or not _sane(model):
            return None
        # least squares on the inliers alone: RANSAC's own answer is fitted to its minimal sample
        chosen = inliers.ravel().astype(bool)
        refined, _ = cv2.findHomography(src[keep][chosen], dst[keep][chosen], 0)
        return refined if refined is not None and _sane(refined) else model


def _full_size(points: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """Flow-size points (x, y in the last axis) as full-size ones: (c + 0.5) * s - 0.5."""
    return points * np.float32([sx, sy]) + np.float32([0.5 * sx - 0.5, 0.5 * sy - 0.5])


def _box(region: np.ndarray, margin: int) -> tuple[slice, slice]:
    """The rows and columns around ``region``'s pixels, ``margin`` more each way."""
    ys, xs = np.nonzero(region)
    h, w = region.shape
    return (slice(max(0, ys.min() - margin), min(h, ys.max() + margin + 1)),
            slice(max(0, xs.min() - margin), min(w, xs.max() + margin + 1)))


def _pieces_with(mask: np.ndarray, seeds: np.ndarray) -> np.ndarray:
    """The connected pieces of ``mask`` that hold a pixel of ``seeds``."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    keep = np.zeros(count, bool)
    keep[np.unique(labels[seeds])] = True
    keep[0] = False
    return keep[labels]


def _inside(places: np.ndarray, w: int, h: int) -> np.ndarray:
    return (places[..., 0] >= 0) & (places[..., 0] <= w - 1) & (places[..., 1] >= 0) & (places[..., 1] <= h - 1)


def _project(model: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Each pixel of ``grid`` through the homography: (h, w, 2) float32."""
    return cv2.perspectiveTransform(grid.reshape(-1, 1, 2), model).reshape(grid.shape).astype(np.float32)


def _mismatch(seen: np.ndarray, frame: np.ndarray, sigma: float = MISMATCH_SIGMA) -> np.ndarray:
    """In colour (the mean of the channels' differences, blurred): a red object and the grey wall
    behind it may have one brightness."""
    return cv2.GaussianBlur(cv2.absdiff(seen, frame).astype(np.float32).mean(axis=2), (0, 0), sigma)


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
