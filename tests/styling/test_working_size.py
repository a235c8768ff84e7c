"""Below the frame's size (``--style-scale``, or a live job's governor stepping down), a frame's
whole cost follows the network's size (issue #27): the stabilizer works at the network's size and
the picture is grown back to the frame's size after it, with the look applied there."""
from __future__ import annotations

import numpy as np
import pytest

from engines import open_engine
from engines.style_scale import stylize_scaled
from stream.media.testsrc import TestScene
from stream.styling.controls import Controls
from stream.styling.stylist import Stylist
from stream.temporal.motion import MotionMeter, flow_grey

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check

W, H = 320, 180


@pytest.fixture(scope="module")
def engine():
    return open_engine("cpu", "mosaic")


def _frames(n: int) -> list[np.ndarray]:
    scene = TestScene(W, H, seed=3)
    return [scene.frame(i / 25) for i in range(n)]


def test_below_the_frame_size_the_stabilizer_works_at_the_networks_size(engine):
    stylist = Stylist(engine, Controls("mosaic", stability=0.8), style_scale=0.5)
    for frame in _frames(6):
        stylized = stylist.stylize(frame)
        assert stylized.shape == (H // 2, W // 2, 3)  # the network's own output, at its size
        out = stylist.stabilize(frame, stylized)
        assert out.shape == (H, W, 3)
    assert stylist.stabilizer._prev_out.shape == (H // 2, W // 2, 3)  # what it carries is small too
    assert stylist.stabilizer.stats.frames == 6 and stylist.stabilizer.stats.mean_trust > 0.5


def test_below_the_frame_size_the_motion_measured_beside_the_network_is_the_one_used(engine):
    # a live job measures each frame's motion in its inference threads, at the frame's flow size;
    # the one-at-a-time stabilizer scales that flow to its smaller picture and measures none itself
    stylist = Stylist(engine, Controls("mosaic", stability=0.8), style_scale=0.5)
    ahead, measured = MotionMeter(thorough=False), []
    own = stylist.stabilizer.meter.measure
    stylist.stabilizer.meter.measure = lambda *pair: measured.append(pair) or own(*pair)
    previous = None
    for frame in _frames(6):
        grey = flow_grey(frame)
        motion = ahead.measure(previous, grey) if previous is not None else None
        out = stylist.stabilize(frame, stylist.stylize(frame), grey, motion)
        assert out.shape == (H, W, 3)
        previous = grey
    assert measured == []  # (before: two optical flows again each frame, at the network's size)
    stats = stylist.stabilizer.stats
    assert stats.frames == 6 and stats.cuts == 0 and stats.mean_trust > 0.5


def test_unstabilized_the_picture_is_the_one_the_scaled_network_makes_with_its_look(engine):
    controls = Controls("mosaic", strength=0.6, keep_colors=True, stability=0.0)
    stylist = Stylist(engine, controls, style_scale=0.5)
    for frame in _frames(2):
        out = stylist.stabilize(frame, stylist.stylize(frame))
        expected = stylize_scaled(engine, frame, stylist.networks.get(stylist.style), controls.mix, 0.5)
        assert np.array_equal(out, expected)
