"""One look on a shared engine: the controls, the network of their style, the stabilizer.

A live job has one :class:`Stylist`; a server has one per viewer, all on one engine. Frames are
stylized with the network and look of the moment (swapped whole by ``control``, so a frame never
sees half of a change) and, if the engine fails on one, the picture passes through and the
failure is counted: the output never freezes. ``control`` is the one place a look changes, for
the Python API, the live control endpoint and the WebRTC data channel alike.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from engines import Engine, Style, resolve

from .controls import Controls
from .stabilize import Stabilizer
from .stats import LiveStats

DEGRADED_AFTER = 10  # failed frames in a row before the output reports itself degraded


def _same(a: Style, b: Style) -> bool:
    """The same network: equal styles (kind, name, file) with equal blend weights."""
    return a == b and (a.weights is None or b.weights is None or np.array_equal(a.weights, b.weights))


class Stylist:
    """``styles`` turns a style spec into a Style (raising StyleError for one not allowed here):
    ``resolve`` by default; a server passes its own, which allows viewers no server files."""

    def __init__(self, engine: Engine, controls: Controls, stats: LiveStats | None = None,
                 styles: Callable[[str], Style] = resolve):
        self.engine, self.stats, self._styles = engine, stats or LiveStats(), styles
        style = styles(controls.style)
        network = None if _same(style, engine.style) else engine.network(style)  # None: the engine's own
        self._now = (controls, style, network)
        self.stabilizer = Stabilizer(controls.stability)
        self._restyled = False

    @property
    def controls(self) -> Controls:
        return self._now[0]

    @property
    def style(self) -> Style:
        return self._now[1]

    def control(self, **fields) -> dict:
        """Change any of style, strength, keep_colors and stability between frames; returns the new
        state. Everything is checked (and a new style's network built) before anything changes."""
        old, style, network = self._now
        new = old.updated(**fields)
        restyled = new.style != old.style
        if restyled:
            style = self._styles(new.style)
            network = self.engine.network(style)
        self.stabilizer.set_stability(new.stability)
        self._now = (new, style, network)
        self._restyled = self._restyled or restyled  # the stabilizer forgets the old style: the new shows at once
        return self.state()

    def state(self) -> dict:
        controls, style, _ = self._now
        return {"style": style.name, "strength": controls.strength, "keep_colors": controls.keep_colors,
                "stability": controls.stability}

    @property
    def precision(self) -> str:
        """The number format the current style actually runs in."""
        return self.engine.precision_for(self.style)

    def stylize(self, image: np.ndarray) -> np.ndarray:
        """uint8 HWC RGB -> stylized, with the look applied; on an engine failure, the picture as it was."""
        controls, _, network = self._now
        try:
            stylized = self.engine.stylize_one(image, network, controls.look)
        except Exception as exc:  # counted and reported; the picture passes through, never a freeze
            self.stats.frame_failed(exc, DEGRADED_AFTER)
            return image
        self.stats.frame_ok()
        return stylized

    def stabilize(self, original: np.ndarray, stylized: np.ndarray) -> np.ndarray:
        """In frame order: each frame builds on the one before (since the last change of style)."""
        if self._restyled:
            self._restyled = False
            self.stabilizer.reset()
            self.stats.flicker.reset()  # a new style is a change on purpose, not flicker
        out = self.stabilizer(original, stylized)
        self.stats.flicker.update(original, out)
        return out
