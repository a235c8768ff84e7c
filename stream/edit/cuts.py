"""Where a clip cuts (``stylecast shots``, the studio's *Find shots*, a render's shots for its looks).

A cut is found as the stabilizer finds one (stream/temporal/stabilize.py): the previous picture,
moved along the optical flow to this one, no longer explains it. Here that runs on luma alone, read
through the one reader (stream/media/decoder.py: straight from the decoded picture's Y plane) and
shrunk to SHOT_SIDE pixels wide, so listing costs little more than decoding. The median mismatch
must pass CUT_FLOOR and CUT_RATIO times its recent level (so fast motion, which raises the level,
is not cut up); a "cut" whose picture comes back within FLASH_FRAMES frames was a flash, not a cut.

Measured against PySceneDetect's content, adaptive and hash detectors on the same frames
(bench/cuts.py, docs/benchmarks/editing.md): on real footage, test scenes, a montage with a cut every
8 frames, a flash and two similar textures, this finds every cut on its frame and no false one,
where each of those misses cuts or adds false ones.
"""
from __future__ import annotations

from collections import deque
from pathlib import Path

import cv2
import numpy as np

from engines.errors import InputError
from stream.core.progress import Progress, quiet
from stream.media.decoder import open_decoder
from stream.temporal.motion import median_level, pixel_grid, warped_mismatch

from .shots import ShotList

SHOT_SIDE = 160    # pixels wide the pictures are compared at
CUT_FLOOR = 0.04   # median mismatch (0..1 grey) a cut must pass: real motion measured at most 0.024 here
                   # (bikes.mp4, a 960x540 pan), hard cuts 0.047-0.2 (two similar textures at 192x108: 0.047)
CUT_RATIO = 3.0    # ... and this many times the median of the last RECENT frames' mismatch
RECENT = 12
FLASH_FRAMES = 3   # a cut whose picture is back within this many frames (a camera flash) is no cut


class CutFinder:
    """Feed grey pictures in order (``add``); ``cuts`` holds the frames that start a new shot, from
    0 at the first picture fed (a flash's retracted within FLASH_FRAMES frames)."""

    def __init__(self):
        self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self._grids: dict = {}
        self._prev: np.ndarray | None = None
        self._recent: deque = deque(maxlen=RECENT)
        self._before_cut: tuple[int, np.ndarray] | None = None  # the picture before the newest cut, and its frame
        self._count = 0
        self.cuts: list[int] = []

    def _mismatch(self, prev: np.ndarray, grey: np.ndarray) -> float:
        back = self._flow.calc(grey, prev, None)
        return median_level(warped_mismatch(prev, grey, pixel_grid(*grey.shape, self._grids) + back))

    def add(self, grey: np.ndarray) -> None:
        n, prev, self._prev = self._count, self._prev, grey
        self._count += 1
        if prev is None or prev.shape != grey.shape:
            return
        if self._before_cut is not None:
            at, picture = self._before_cut
            if n - at > FLASH_FRAMES:
                self._before_cut = None
            elif self._mismatch(picture, grey) <= CUT_FLOOR:  # the picture came back: a flash
                self.cuts = [c for c in self.cuts if c <= at]
                self._before_cut = None
                return
        mismatch = self._mismatch(prev, grey)
        level = float(np.median(self._recent)) if self._recent else 0.0
        self._recent.append(mismatch)
        if mismatch > max(CUT_FLOOR, CUT_RATIO * level):
            self.cuts.append(n)
            self._before_cut = self._before_cut or (n - 1, prev)


def find_shots(path: Path, fps: float | None = None, progress: Progress = quiet) -> ShotList:
    """The shots of a media file or an image sequence (at ``fps``), reading it once, small."""
    with open_decoder(path, fps=fps) as decoder:
        advance = progress(decoder.expected_frames, "shots")
        finder, frames = CutFinder(), 0
        for grey in decoder.greys(SHOT_SIDE):
            finder.add(grey)
            frames += 1
            advance(1)
        if frames == 0:
            raise InputError(f"no video frame could be decoded from {path.name}")
        return ShotList.from_cuts([0, *finder.cuts], frames, decoder.rate, decoder.timecode)
