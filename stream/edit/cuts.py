"""Where a clip cuts (``stylecast shots``, the studio's *Find shots*, a render's shots for its looks).

A cut is found the way the stabilizer finds one (stream/temporal/stabilize.py): the previous
picture, moved along the optical flow to this one, no longer explains it (median mismatch above
CUT_MISMATCH). Here that runs on luma alone, read through the one reader (stream/media/decoder.py:
straight from the decoded picture's Y plane) and shrunk to SHOT_SIDE pixels wide, so listing costs
little more than decoding. Measured against PySceneDetect's detectors in docs/benchmarks.md.
"""
from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from engines.errors import InputError
from stream.core.progress import Progress, quiet
from stream.media.decoder import open_decoder
from stream.temporal.stabilize import CUT_MISMATCH, median_level, pixel_grid, warped_mismatch

from .shots import ShotList

SHOT_SIDE = 160  # pixels wide the pictures are compared at; bikes.mp4's 5 cuts measure 0.10-0.23 here,
                 # its continuous motion at most 0.027 (the threshold is 0.05)


class CutFinder:
    """Feed grey pictures in order; ``is_cut`` says whether each one starts a new shot."""

    def __init__(self):
        self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self._grids: dict = {}
        self._prev: np.ndarray | None = None

    def is_cut(self, grey: np.ndarray) -> bool:
        prev, self._prev = self._prev, grey
        if prev is None or prev.shape != grey.shape:
            return False
        back = self._flow.calc(grey, prev, None)
        where = pixel_grid(*grey.shape, self._grids) + back
        return median_level(warped_mismatch(prev, grey, where)) > CUT_MISMATCH


def find_shots(path: Path, fps: float | None = None, progress: Progress = quiet) -> ShotList:
    """The shots of a media file or an image sequence (at ``fps``), reading it once, small."""
    with open_decoder(path, fps=fps) as decoder:
        advance = progress(decoder.expected_frames, "shots")
        finder, cuts, frames = CutFinder(), [0], 0
        for grey in decoder.greys(SHOT_SIDE):
            if finder.is_cut(grey):
                cuts.append(frames)
            frames += 1
            advance(1)
        if frames == 0:
            raise InputError(f"no video frame could be decoded from {path.name}")
        return ShotList.from_cuts(cuts, frames, decoder.rate, decoder.timecode)
