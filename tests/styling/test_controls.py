"""One look, changed one way: the controls that render, live, the control endpoint and every WebRTC
session share, the one reader of control messages, and the stylist that applies them."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from engines import open_engine
from engines.errors import OptionError, StyleError
from stream.media.testsrc import TestScene
from stream.styling.controls import Controls, parse_controls
from stream.styling.stylist import Stylist
from stream.temporal.stabilize import DEFAULT_STABILITY

pytestmark = pytest.mark.quick  # the quick tier (docs/testing.md): this file is each edit's check


def test_controls_are_checked_whole_and_never_changed_in_place():
    controls = Controls()
    changed = controls.updated(strength=0.5, style="mosaic", keep_colors=None)
    assert (changed.style, changed.strength, changed.keep_colors) == ("mosaic", 0.5, False)
    assert controls.strength == 1.0  # the old value is untouched
    with pytest.raises(dataclasses.FrozenInstanceError):
        controls.strength = 0.2
    for fields, message in [({"strength": 1.5}, "strength must be between 0 and 1"),
                            ({"stability": -0.1}, "stability must be between 0 and 1"),
                            ({"strength": "lots"}, "strength must be a number"),
                            ({"strength": True}, "strength must be a number"),
                            ({"keep_colors": "yes"}, "keep_colors must be true or false"),
                            ({"style": ""}, "style must be a non-empty text"),
                            ({"speed": 2}, "unknown control 'speed'")]:
        with pytest.raises(OptionError, match=message):
            controls.updated(**fields)
    assert Controls(strength=0.25, keep_colors=True).mix.strength == 0.25


@pytest.mark.parametrize("message,error", [
    (b"not json", "not JSON"),
    (b"[1, 2]", "send a JSON object"),
    (b'{"style": "mosaic", "volume": 3}', "send a JSON object"),
])
def test_a_control_message_that_is_not_one_is_refused_with_the_reason(message, error):
    with pytest.raises(OptionError, match=error):
        parse_controls(message)


def test_a_control_message_gives_the_fields_it_holds():
    assert parse_controls(b'{"style": "mosaic", "strength": 0.7}') == {"style": "mosaic", "strength": 0.7}
    assert parse_controls(b"") == {}


@pytest.fixture(scope="module")
def engine():
    return open_engine("cpu", "starry-night", precision="fp32")


def test_the_stylist_swaps_the_look_whole_and_refuses_a_bad_style_without_changing(engine):
    picture = TestScene(96, 64).frame(0.5)
    stylist = Stylist(engine, Controls(style="starry-night"))
    first = stylist.stylize(picture)
    assert stylist.control(style="mosaic", strength=0.5)["style"] == "mosaic"
    second = stylist.stylize(picture)
    assert np.abs(first.astype(int) - second.astype(int)).mean() > 5  # another style, at half strength
    with pytest.raises(StyleError, match="unknown style"):
        stylist.control(style="no-such-style", strength=0.9)
    assert stylist.state() == {"style": "mosaic", "strength": 0.5, "keep_colors": False, "stability": DEFAULT_STABILITY,
                              "style_scale": 1.0}
    assert np.array_equal(stylist.stylize(picture), second)  # nothing changed


def test_a_frame_the_engine_fails_on_passes_through_and_is_counted(engine):
    class Broken:
        style, name, parallel_frames = engine.style, "broken", 1

        def stylize_one(self, *args):
            raise RuntimeError("out of memory")

        def precision_for(self, style):
            return "fp32"

    stylist = Stylist(Broken(), Controls())
    picture = TestScene(96, 64).frame(0.1)
    for _ in range(10):
        assert stylist.stylize(picture) is picture
    s = stylist.stats.snapshot()
    assert s["failed"] == 10 and s["degraded"] and "out of memory" in s["last_error"]


def test_a_new_style_starts_the_stabilizer_afresh(engine):
    scene = TestScene(96, 64)
    stylist = Stylist(engine, Controls(stability=0.9))
    for t in (0.0, 0.04):
        picture = scene.frame(t)
        stylist.stabilize(picture, stylist.stylize(picture))
    stylist.control(style="mosaic")
    picture = scene.frame(0.08)
    stylized = stylist.stylize(picture)
    assert np.array_equal(stylist.stabilize(picture, stylized), stylized)  # nothing of the old style held
