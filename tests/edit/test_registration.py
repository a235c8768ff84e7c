"""The per-pixel choice along a moving object's edge (stream/edit/registration.py, ``_edge``): the
band a blurred mismatch leaves to neither model goes, pixel by pixel, to the model that matches the
keyframe there, and where neither matches within the edge's tolerance, to the object's model when
it matches clearly better (the edge of a disc over a wall of its own colour, bench/carry.py:
the astronaut's line art 24.8 -> 25.7 dB on the disc at 2 s, docs/benchmarks/keyframes.md)."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from stream.edit.registration import EDGE_CLEAR, EDGE_GREY, EDGE_PX, KeyRegistration

pytestmark = pytest.mark.quick
S = 64


def _places(x: float) -> np.ndarray:
    """Every pixel's place in the keyframe: column ``x``, its own row."""
    places = np.zeros((S, S, 2), np.float32)
    places[..., 0], places[..., 1] = x, np.arange(S, dtype=np.float32)[:, None]
    return places


def test_an_edge_pixel_neither_model_explains_goes_to_the_object_where_it_matches_clearly_better():
    # the keyframe in three stripes of grey: 50, 195 and 200; this frame 225 everywhere
    key = np.zeros((S, S, 3), np.uint8)
    key[:, :16], key[:, 16:32], key[:, 32:] = 50, 195, 200
    registration = KeyRegistration(key, cv2.cvtColor(key, cv2.COLOR_RGB2GRAY))
    frame = np.full((S, S, 3), 225, np.uint8)
    ours = _places(48.0)                      # the object's model: 25 levels off, past EDGE_GREY
    along = _places(8.0)                      # the camera's: 175 off in the top half,
    along[S // 2:, :, 0] = 24.0               # and 30 in the bottom half (the object's only 5 better)
    assert 225 - 200 > EDGE_GREY and 175 - 25 > EDGE_CLEAR > 30 - 25
    takes = np.zeros((S, S), bool)
    takes[:, :20] = True                      # what the object's model took; its edge band is beside it
    mismatch, explains = np.full((S, S), 99.0, np.float32), np.zeros((S, S), np.float32)
    registration._edge(frame, ours, takes, along, mismatch, explains)
    band = np.zeros((S, S), bool)
    band[:, 20 + 1:20 + EDGE_PX - 1] = True   # (the dilation's reach, less a pixel either way)
    top, bottom = band.copy(), band.copy()
    top[S // 2 - 3:], bottom[:S // 2 + 3] = False, False  # (the halves' rows apart: the mismatch is blurred)
    assert np.all(along[top][:, 0] == 48.0) and np.all(explains[top] == 1)       # to the object
    assert np.allclose(mismatch[top], 25, atol=1)
    assert np.all(along[bottom][:, 0] == 24.0) and np.all(explains[bottom] == 0)  # to neither: left to the trust
    assert np.all(explains[:, 20 + EDGE_PX + 1:] == 0)                             # nothing beyond the band
