"""A painted keyframe carried along the motion (issue #39): the artist's strokes where the frame
shows what the painting showed, the shot's trained network only where it shows something new.

A shot network (stream/edit/painted.py) sees one frame at a time, so it paints what a frame's
content suggests, not where the artist put the strokes. Here, as EbSynth and Jamriška et al. 2019
do, the painting itself is moved with the picture:

1. optical flow (OpenCV's DIS, at the stabilizer's flow size) between every pair of neighbouring
   frames of the shot, both ways, and where the two ways agree; zero where standing still explains
   the picture clearly better (DIS drags a still background along with an object moving over it);
2. from each keyframe, a pass forward to the next keyframe (or the shot's end) and one backward to
   the one before (or its start). Each pass keeps, for every pixel of the frame it has reached, where
   that pixel lies in the keyframe, and samples the painting there once (bicubic; smoothed first
   where the frame shrinks it): never a warp of a warp, so the strokes do not blur however far the
   pass goes. The chain of flows says roughly where; each frame is then registered straight to the
   keyframe at full size (stream/edit/registration.py: a homography fitted to the whole frame,
   and one to each object moving on its own), and where a model explains a pixel its place is the
   model's, so no error adds up over the frames: 0.03-0.10 px median at 2 s on bench/carry.py's
   camera moves and its moving object, where the chain alone drifted 0.3-0.4 px and p90 to 1.2 px
   (issue #47); elsewhere (parallax, a deforming object) and where no model fits, a small flow
   between this frame and the keyframe's, sampled at the chain's places, nudges them. Places
   near each other are blended softly at the edge of what a model explains; places apart (an
   object's edge) are not blended: a pixel takes one or the other;
3. a pixel is trusted while the flow that brought it agreed both ways, stayed inside the picture,
   and the keyframe's own frame, taken from there, still looks like this frame in colour (a
   photometric check against the keyframe, so drift is caught where it happens); once lost, it
   stays lost for the rest of the pass, unless the motion model explains it again (the wall an
   object uncovers, which the keyframe saw);
4. where no pass is trusted (occluded, new content coming into view, after a cut), the frame takes
   the shot network's painting, stabilized along the motion (stream/temporal/stabilize.py), so it
   too is carried on from there rather than repainted each frame;
5. between two keyframes the forward pass of the first and the backward pass of the second are
   blended per pixel by their trust, their error against their keyframe and their distance to it
   (the nearer keyframe counts more; at a keyframe only its own painting counts), so the shot ends
   in the second painting without a jump.

``carried`` in the result is the share of the shot's pixels the paintings gave (the rest the
network), reported per painted shot in ``render --json``.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Callable

import cv2
import numpy as np

from engines.catalog import Style
from stream.core.progress import Progress, quiet
from stream.temporal.motion import CONSISTENCY_PX, flow_grey, pixel_grid
from stream.temporal.stabilize import DEFAULT_STABILITY, Stabilizer

from .looks import LookTimeline
from .painted import read_painting
from .registration import KeyRegistration, flow_size_places, full_size_places, zoom_out

ERROR_TOLERANCE = 0.12  # grey mismatch (0..1) against the keyframe's frame at which trust falls to zero
ERROR_FLOOR = 0.03      # and below which it is whole: a codec's noise must not let the network's fill show through
ERROR_SIGMA = 2.0       # flow-size pixels: the mismatch is judged over a small neighbourhood
STILL_MARGIN = 0.5      # grey levels by which standing still must explain a pixel better than the flow does
FEATHER_SIGMA = 1.5     # flow-size pixels: the edge between the painting and the network's fill is soft
REGISTER_MAX_PX = 2.0   # flow-size pixels: the most registering against the keyframe moves a pixel's coordinates
MODEL_EDGE_SIGMA = 2.0  # full-size pixels: the edge between the model's places and the chain's is soft
MODEL_AGREES_PX = 3.0   # full-size pixels: a chain this far from the model's place may follow something else,
CHAIN_MARGIN = 2.0      # and does where it matches the keyframe's frame by this many levels better


@dataclass
class _Pass:
    """One keyframe's painting carried to one frame: the picture, and its trust (flow size, 0..1)."""

    key: int
    image: np.ndarray
    trust: np.ndarray


@dataclass
class Carried:
    frames: list[np.ndarray]  # the shot's frames, in order, uint8 HWC RGB
    carried: float            # share of the shot's pixels that came from the paintings


class _Flows:
    """The shot's flows at flow size: ``step(t, d)`` is, for each pixel of frame t, where it lies in
    frame t - d (d = +1: the frame before; -1: the frame after), and whether both ways agreed."""

    def __init__(self, greys: list[np.ndarray]):
        self.greys = greys
        self._dis = dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        self.grid = pixel_grid(*greys[0].shape, {})
        self._back, self._fwd = [None], [None]  # [t]: t -> t-1, and t-1 -> t
        for before, now in zip(greys, greys[1:]):
            self._back.append(self._still_kept(dis.calc(now, before, None), now, before))
            self._fwd.append(self._still_kept(dis.calc(before, now, None), before, now))

    def _still_kept(self, flow: np.ndarray, now: np.ndarray, before: np.ndarray) -> np.ndarray:
        """``flow`` (from ``now`` into ``before``) set to zero where standing still explains the
        picture clearly better: DIS's smoothing drags a still background along with an object
        moving over it, and carried frame after frame that drag would move the strokes off it."""
        still = _mismatch(before, now, self.grid) + STILL_MARGIN < _mismatch(before, now, self.grid + flow)
        flow[still] = 0
        return flow

    def registered(self, coords: np.ndarray, key: int, t: int) -> np.ndarray:
        """``coords`` (frame t's pixels in frame ``key``) nudged where that makes frame ``key``,
        sampled there, clearly match frame t better (the composed flows' drift); a nudge larger than
        REGISTER_MAX_PX is not a drift but something else (an occlusion, new content), left to the
        trust checks."""
        key_grey, grey = self.greys[key], self.greys[t]
        seen = cv2.remap(key_grey, coords, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        nudge = self._dis.calc(grey, seen, None)
        nudge[np.sum(nudge ** 2, axis=2) > REGISTER_MAX_PX ** 2] = 0
        nudged = cv2.remap(coords, self.grid + nudge, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        better = _mismatch(key_grey, grey, nudged) < _blurred_difference(seen, grey)
        coords[better] = nudged[better]
        return coords

    def step(self, t: int, d: int) -> tuple[np.ndarray, np.ndarray]:
        flow, other = (self._back[t], self._fwd[t]) if d == 1 else (self._fwd[t + 1], self._back[t + 1])
        where = self.grid + flow
        there = cv2.remap(other, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        disagree = np.sum((flow + there) ** 2, axis=2)
        h, w = flow.shape[:2]
        inside = cv2.inRange(where, (-1, -1), (w, h)) > 0  # (a border pixel's flow may stray a little)
        return where, ((disagree < CONSISTENCY_PX ** 2) & inside).astype(np.float32)


def _mismatch(before: np.ndarray, now: np.ndarray, where: np.ndarray) -> np.ndarray:
    """How far ``before`` sampled at ``where`` is from ``now`` (grey levels, over a small neighbourhood)."""
    return _blurred_difference(cv2.remap(before, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE), now)


def _blurred_difference(seen: np.ndarray, now: np.ndarray) -> np.ndarray:
    return cv2.GaussianBlur(cv2.absdiff(seen, now).astype(np.float32), (0, 0), ERROR_SIGMA)


def _passes(key: int, end: int, painting: np.ndarray, frames: list[np.ndarray], greys: list[np.ndarray],
            fulls: list[np.ndarray], flows: _Flows) -> dict[int, _Pass]:
    """The painting of frame ``key`` carried frame by frame towards ``end`` (inclusive), either way:
    the chain of flows says roughly where each pixel came from, and each frame is then registered
    straight to the keyframe at full size (stream/edit/registration.py) where a motion model fits."""
    d = 1 if end > key else -1
    fh, fw = greys[0].shape
    coords, chain = flows.grid.copy(), np.ones((fh, fw), np.float32)  # chain: never lost on the way here
    key_small = cv2.resize(frames[key], (fw, fh), interpolation=cv2.INTER_AREA).astype(np.float32)
    registration = KeyRegistration(frames[key], fulls[key])
    sampler = _Sampler(painting)
    out = {key: _Pass(key, painting, chain)}
    for t in range(key + d, end + d, d):
        where, agreed = flows.step(t, d)
        coords = cv2.remap(coords, where, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        # nearest: a bilinear carry would blur a lost pixel's 0 into its neighbours, frame after frame
        chain = cv2.remap(chain, where, None, cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE) * agreed
        fit = registration.register(frames[t], fulls[t], coords, chain)
        coords = flows.registered(coords, key, t)  # the chain, nudged against the keyframe: where no model explains
        full = full_size_places(coords, *fulls[0].shape[::-1])
        if fit.homography is not None:  # the model's places where it explains the pixel: the chain starts again there
            # (not where the chain, still holding, puts the pixel elsewhere and matches clearly better
            # there: an object moving on its own may look enough like the wall the model puts it on)
            held = cv2.resize(chain, full.shape[1::-1], interpolation=cv2.INTER_NEAREST) > 0.5
            apart = np.sum((fit.coords - full) ** 2, axis=2) > MODEL_AGREES_PX ** 2
            doubt = held & apart & (fit.explains > 0)
            if doubt.any():  # (the chain's mismatch only where it could take a pixel from the model)
                doubt &= registration.mismatch(full, frames[t]) + CHAIN_MARGIN < fit.mismatch
            explains = fit.explains * ~doubt
            weight = cv2.GaussianBlur(explains, (0, 0), MODEL_EDGE_SIGMA)
            # soft only where the two places are near: pixels apart (an object's edge) take one or the other
            weight = np.where(apart, explains, weight)[..., None]
            full = fit.coords * weight + full * (1 - weight)
            coords = flow_size_places(full, fw, fh)
            explained = cv2.resize(explains, (fw, fh), interpolation=cv2.INTER_AREA)
            chain = np.maximum(chain, (explained > 0.5).astype(np.float32))
        # in colour: a red object and the grey wall behind it may have one brightness
        seen = cv2.remap(key_small, coords, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        small = cv2.resize(frames[t], (fw, fh), interpolation=cv2.INTER_AREA)
        error = cv2.GaussianBlur(np.abs(seen - small).mean(axis=2), (0, 0), ERROR_SIGMA) / 255
        if fit.homography is not None:  # where a model explains, its own mismatch at full size: at an
            # object's edge, a flow-size pixel's place mixes the object's and the background's
            by_model = cv2.resize(fit.mismatch, (fw, fh), interpolation=cv2.INTER_AREA) / 255
            error = np.where(explained > 0.5, np.minimum(error, by_model), error)
        chain *= error < ERROR_TOLERANCE  # lost for good; how well it matches now only weighs this frame
        trust = chain * np.clip((ERROR_TOLERANCE - error) / (ERROR_TOLERANCE - ERROR_FLOOR), 0, 1)
        out[t] = _Pass(key, sampler.at(full, fit.homography), trust)
    return out


class _Sampler:
    """The painting sampled once at each pixel's place in the keyframe: bicubic where the frame
    enlarges it or keeps its size; where the frame shrinks it (a zoom out), smoothed first by what
    one frame pixel spans, as an area filter would, so its strokes do not alias."""

    def __init__(self, painting: np.ndarray):
        self.painting, self._smoothed = painting, {}

    def at(self, full: np.ndarray, homography: np.ndarray | None) -> np.ndarray:
        h, w = full.shape[:2]
        spans = round(zoom_out(homography, (w / 2, h / 2)), 1)
        source = self.painting
        if spans > 1.05:
            if spans not in self._smoothed:
                self._smoothed[spans] = cv2.GaussianBlur(self.painting, (0, 0), 0.5 * np.sqrt(spans ** 2 - 1))
            source = self._smoothed[spans]
        return cv2.remap(source, full, None, cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)


def _blend(t: int, passes: list[_Pass], fill: np.ndarray) -> tuple[np.ndarray, float]:
    """Frame t from the passes that reach it (by trust and nearness) over the network's fill."""
    h, w = fill.shape[:2]
    weights = []
    for p in passes:
        others = [abs(q.key - t) for q in passes if q is not p]
        nearness = 1.0 if not others else others[0] / (abs(p.key - t) + others[0])
        weights.append(p.trust * np.float32(nearness) + np.float32(1e-6))
    total = sum(weights)
    alpha = 1 - np.prod([1 - p.trust for p in passes], axis=0)  # trusted by any pass
    alpha = cv2.GaussianBlur(alpha.astype(np.float32), (0, 0), FEATHER_SIGMA)
    mixed = np.zeros((h, w, 3), np.float32)
    for p, weight in zip(passes, weights):
        mixed += p.image * cv2.resize(weight / total, (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
    a = cv2.resize(alpha, (w, h), interpolation=cv2.INTER_LINEAR)[..., None]
    return np.clip(mixed * a + fill * (1 - a) + 0.5, 0, 255).astype(np.uint8), float(alpha.mean())


def carry_shot(frames: list[np.ndarray], paintings: dict[int, np.ndarray],
               network: Callable[[np.ndarray], np.ndarray], stability: float = 0.8) -> Carried:
    """The shot's ``frames`` (uint8 HWC RGB, in order) with ``paintings`` {index in ``frames``:
    painting of that frame, the same size} carried along the motion; ``network`` paints the rest
    (on two threads, while the flows are measured here)."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="carry-network") as pool:
        painted_by_network = pool.map(network, frames)  # in order, as they are needed
        greys = [flow_grey(f) for f in frames]
        fulls = [cv2.cvtColor(f, cv2.COLOR_RGB2GRAY) for f in frames]
        flows = _Flows(greys)
        keys = sorted(paintings)
        reach: dict[int, list[_Pass]] = {t: [] for t in range(len(frames))}
        for i, key in enumerate(keys):
            ends = (keys[i - 1] if i else 0, keys[i + 1] if i + 1 < len(keys) else len(frames) - 1)
            for end in ends:
                if end != key:
                    for t, p in _passes(key, end, paintings[key], frames, greys, fulls, flows).items():
                        if t != key:
                            reach[t].append(p)
        # the network's painting, carried along the motion too: the live stabilizer's quick form
        stabilizer, out, shares = Stabilizer(stability, thorough=False), [], []
        for t, (frame, stylized) in enumerate(zip(frames, painted_by_network)):
            fill = stabilizer(frame, stylized)
            if t in paintings:
                image, share = paintings[t], 1.0
            else:
                image, share = _blend(t, reach[t], fill)
            out.append(image)
            shares.append(share)
    return Carried(out, round(float(np.mean(shares)), 3))


def carry_timeline(timeline: LookTimeline, frames_of: Callable[[set[int]], dict[int, np.ndarray]],
                   network_of: Callable[[Style], Callable], rows: list[dict], progress: Progress = quiet
                   ) -> dict[int, np.ndarray]:
    """Every painted entry of ``timeline`` (trained by ``paint_timeline``, whose ``rows`` get each
    entry's ``carried`` share) carried along its motion: {source frame index: picture}, at the size
    ``frames_of`` decodes (the network's). ``network_of(style)`` runs the entry's trained network."""
    carried: dict[int, np.ndarray] = {}
    for entry in (e for e in timeline.entries if e.paintings):
        decoded = frames_of(set(range(entry.span.first, entry.span.last + 1)))
        indexes = sorted(decoded)
        if not indexes:
            continue
        advance = progress(len(indexes), f"carrying the painting of {entry.span.label}")
        frames = [decoded[i] for i in indexes]
        size = frames[0].shape[1::-1]
        paintings = {indexes.index(p.frame): read_painting(p, size) for p in entry.paintings if p.frame in decoded}
        network = network_of(entry.tracks["style"][0].value)
        result = carry_shot(frames, paintings, network, timeline.base.stability or DEFAULT_STABILITY)
        advance(len(indexes))
        carried.update(zip(indexes, result.frames))
        for row in rows:
            if row["entry"] == entry.number:
                row["carried"], row["network"] = result.carried, round(1 - result.carried, 3)
    return carried
