"""Finding a clip's cuts (stream/edit/cuts.py) where simpler finders go wrong: a trailer's rapid cuts,
a camera flash inside a shot, and a cut between two similar textures at a small size."""
from __future__ import annotations

import numpy as np
import pytest
from support.painted_canvas import PaintedCanvas

from stream.edit.cuts import find_shots
from stream.media.testsrc import TestScene, write_test_clip

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check


class Flash:
    """The test scene with two frames lit up, as by a camera flash."""

    def __init__(self, width, height, frames):
        self.scene, self.frames = TestScene(width, height, seed=4), frames

    def frame(self, t):
        picture = self.scene.frame(t)
        return (picture // 2 + 128).astype(np.uint8) if round(t * 25) in self.frames else picture


def test_rapid_cuts_are_each_found_on_their_frame_and_a_flash_is_not_a_cut(tmp_path):
    montage = tmp_path / "montage.mp4"
    write_test_clip(montage, seconds=2.0, width=320, height=180, cuts=tuple(k * 0.32 for k in range(1, 6)), seed=11)
    assert find_shots(montage).starts() == [0, 8, 16, 24, 32, 40]
    flash = tmp_path / "flash.mp4"
    write_test_clip(flash, seconds=2.0, width=320, height=180, scene=Flash(320, 180, {20, 21}))
    assert find_shots(flash).starts() == [0]


def test_a_cut_between_two_similar_textures_is_found_at_192x108(tmp_path):
    clip = tmp_path / "similar.mp4"  # the painted tests' canvas, and the scene their clip avoids
    write_test_clip(clip, seconds=3.0, width=192, height=108, cuts=(2.0,), scene=PaintedCanvas(192, 108, 50), seed=0)
    assert find_shots(clip).starts() == [0, 50]
