"""Values over time: keyframes and what lies between them.

A look moves through keyframes, each holding some of style, strength, keep_colors and stability at
a moment, and an ``ease`` that says how the values arrive there from the keyframe before:
``linear``, ``ease`` (slow out and slow in: smoothstep) or ``hold`` (the old value until the
keyframe, then the new one at once). Numbers are interpolated; keep_colors switches at the
keyframe; a style crossfades *inside the network*: two built-in styles (or blends) are mixed as a
blend whose weights move from one to the other, so every frame between is one network's picture,
never a dissolve of two. A picture or model style has no weights to mix: it changes at the keyframe.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np

from engines.catalog import Style, blend_of
from engines.errors import OptionError

EASES: dict[str, Callable[[float], float]] = {
    "linear": lambda u: u,
    "ease": lambda u: u * u * (3.0 - 2.0 * u),
    "hold": lambda u: 0.0,
}
STYLE_STEPS = 48  # a crossfade moves in this many steps (each a network); finer is not visible


@dataclass(frozen=True)
class Key:
    """``value`` reached at ``at`` (a frame index or seconds: one unit per track), arriving by ``ease``."""

    at: float
    value: object
    ease: str = "linear"

    def __post_init__(self):
        if self.ease not in EASES:
            raise OptionError(f"ease must be one of {', '.join(EASES)}, got {self.ease!r}")


def mix(a, b, w: float):
    """The value ``w`` (0..1) of the way from ``a`` to ``b``."""
    if w <= 0.0:
        return a
    if w >= 1.0:
        return b
    if isinstance(a, Style) or isinstance(b, Style):
        return mix_styles(a, b, w)
    if isinstance(a, bool) or isinstance(b, bool):
        return a  # switches at the keyframe
    return a + (b - a) * w


def mix_styles(a: Style, b: Style, w: float) -> Style:
    """Two built-in styles or blends mixed inside the network, in STYLE_STEPS steps; any other
    pair changes at the keyframe (``a`` until then)."""
    if a.kind != "builtin" or b.kind != "builtin" or a.weights is None or b.weights is None:
        return a
    step = round(w * STYLE_STEPS) / STYLE_STEPS
    if step <= 0.0:
        return a
    if step >= 1.0:
        return b
    return blend_of((1.0 - step) * np.asarray(a.weights) + step * np.asarray(b.weights))


def value_at(keys: list[Key], t: float):
    """The track's value at ``t``: the first key's before it, the last key's after it, and between
    two keys the later one's ease. ``keys`` are in time order."""
    if t <= keys[0].at:
        return keys[0].value
    for before, after in zip(keys, keys[1:]):
        if t < after.at:
            u = (t - before.at) / (after.at - before.at)
            return mix(before.value, after.value, EASES[after.ease](u))
    return keys[-1].value
