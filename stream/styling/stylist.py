"""One look on a shared engine: the controls, the network of their style, the stabilizer.

A live job has one :class:`Stylist`; a server has one per viewer, all on one engine. Frames are
stylized with the network and look of the moment (swapped whole by ``control``, so a frame never
sees half of a change) and, if the engine fails on one, the picture passes through and the
failure is counted: the output never freezes. ``control`` is the one place a look changes, for
the Python API, the live control endpoint and the WebRTC data channel alike. With ``span`` seconds
a change moves there over time, as a keyframe in a looks file does (stream/styling/keyframes.py): numbers
glide, and a new built-in style crossfades inside the network.

Frames go through the job's frame path (stream/framepath/: on the host, or on a device), chosen
once, where the job opened: a live job's host path keeps the stabilizer at the network's size
below the frame's (``--style-scale``, or the governor stepping down to hold the rate), and grows
the picture back after it (engines/style_scale.py), so a frame's whole cost follows the network's
size. The caller feeds the flicker readout as its frames leave the path (``path.download``).
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from engines import Engine, Style, resolve
from engines.errors import OptionError
from engines.network_cache import NetworkCache
from stream.framepath.host import HostPath
from stream.framepath.path import FramePath
from stream.media.testsrc import TestScene
from stream.temporal.motion import Motion

from .adapt import ScaleGovernor
from .controls import VALUES, Controls, move_span
from .keyframes import EASES, Key, value_at
from .stats import LiveStats

DEGRADED_AFTER = 10  # failed frames in a row before the output reports itself degraded
CALIBRATION_RUNS = 3  # network and stabilizer runs on a stand-in picture before the first frame
LIVE_NETWORKS = 16   # networks a viewer keeps (a crossfade's steps are built as they are reached)


@dataclass(frozen=True)
class _Move:
    """From one look to another between ``start`` and ``start + span`` (time.monotonic())."""

    start: float
    span: float
    ease: str
    before: tuple[Controls, Style]
    after: tuple[Controls, Style]

    def at(self, now: float) -> tuple[Controls, Style]:
        (a, a_style), (b, b_style) = self.before, self.after
        keys = lambda x, y: [Key(self.start, x), Key(self.start + self.span, y, self.ease)]  # noqa: E731
        style = value_at(keys(a_style, b_style), now)
        values = {f: value_at(keys(getattr(a, f), getattr(b, f)), now) for f in VALUES}
        return b.updated(style=style.name, **values), style

    def state(self, now: float) -> dict | None:
        """The look of this moment and the seconds left; None once it is there."""
        if now >= self.start + self.span:
            return None
        current, style = self.at(now)
        return {"seconds_left": round(self.start + self.span - now, 2), "style": style.name,
                "strength": round(current.strength, 4), "stability": round(current.stability, 4)}


class FrameDropped(Exception):
    """A network let this frame go (a server's shared batch: it waited too long, or its viewer left).
    ``Stylist.stylize`` passes it on; the caller takes a newer frame."""


class Stylist:
    """``styles`` turns a style spec into a Style (raising StyleError for one not allowed here): ``resolve``
    by default; a server passes its own, which allows viewers no server files. ``networks``: where the
    styles' networks come from (built on ``engine`` by default; a server's batcher passes its own)."""

    def __init__(self, engine: Engine, controls: Controls, stats: LiveStats | None = None,
                 styles: Callable[[str], Style] = resolve, style_scale: float = 1.0, adapt: bool = False,
                 fps: float | None = None, path: FramePath | None = None, networks: NetworkCache | None = None):
        self.engine, self.stats, self._styles = engine, stats or LiveStats(), styles
        self.path = path or HostPath(engine, light=True)  # the job's frame path: pictures are of its kind
        # the network's size; ``fps``, the rate to hold, lets the first frames set the first size
        self.governor = ScaleGovernor(style_scale, engine.parallel_frames, adapt, fps)
        self.networks = networks or NetworkCache(engine, LIVE_NETWORKS)
        style = styles(controls.style)
        self._now = (controls, style, self.networks.get(style))
        self._move: _Move | None = None
        # live: the frame rate first (the quick stabilizer); on a device, its full-size work there
        self.stabilizer = self.path.stabilizer(controls.stability, thorough=False)
        self._calibrated = self._restyled = False
        self._picture = None  # a picture of the frames' size (from calibrate), to run a size ahead on
        self._ready: set[float] = set()  # sizes already run once (their first run pays for the size)

    @property
    def controls(self) -> Controls:
        return self._now[0]

    @property
    def style(self) -> Style:
        return self._now[1]

    def control(self, span: float | None = None, ease: str = "linear", **fields) -> dict:
        """Change any of style, strength, keep_colors and stability between frames, at once or
        moving there over ``span`` seconds; returns the new state. Everything is checked (and a
        new style's network built) before anything changes."""
        span = move_span(span)
        if ease not in EASES:
            raise OptionError(f"ease must be one of {', '.join(EASES)}, got {ease!r}")
        old, style, network = self._now
        new = old.updated(**fields)
        restyled = new.style != old.style
        if restyled:
            style = self._styles(new.style)
            network = self.networks.get(style)
        now = time.monotonic()
        self._move = _Move(now, span, ease, self._look(now)[:2], (new, style)) if span > 0 else None
        self._now = (new, style, network)
        self._restyled = self._restyled or (restyled and span == 0)  # the stabilizer forgets the old style
        return self.state()

    def follow(self, style: Style) -> dict:
        """Switch to ``style``, made beside the feed (a painting's network), known by name from now on."""
        styles = self._styles
        self._styles = lambda spec: style if spec == style.name else styles(spec)
        return self.control(style=style.name)

    def _look(self, now: float) -> tuple[Controls, Style, object]:
        """The controls, style and network of this moment (part of the way, while a look moves)."""
        move = self._move
        if move is None or now >= move.start + move.span:
            return self._now
        controls, style = move.at(now)
        return controls, style, self.networks.get(style)

    def state(self) -> dict:
        """The look asked for; while it is still moving there, ``moving`` holds the look of this
        moment and the seconds left."""
        controls, style, _ = self._now
        state = {"style": style.name, "strength": controls.strength, "keep_colors": controls.keep_colors,
                 "stability": controls.stability, "style_scale": self.governor.scale}
        moving = self._move and self._move.state(time.monotonic())
        if moving:
            state["moving"] = moving
        return state

    @property
    def precision(self) -> str:
        """The number format the current style actually runs in."""
        return self.engine.precision_for(self.style)

    def stylize(self, image):
        """A picture of the path's kind -> stylized; on an engine failure, the picture as it was.
        (Below the frame's size, on a live job's host path, the network's own picture at its
        working size, plain: ``stabilize`` grows it and applies the look.)"""
        controls, _, network = self._look(time.monotonic())
        scale, started = self.governor.scale, time.perf_counter()
        try:
            stylized = self.path.stylize([image], network, controls.mix, scale)[0]
        except FrameDropped:
            raise
        except Exception as exc:  # counted and reported; the picture passes through, never a freeze
            self.stats.frame_failed(exc, DEGRADED_AFTER)
            return image
        self.stats.frame_ok()
        self.governor.network_ms((time.perf_counter() - started) * 1000, scale)
        return stylized

    def calibrate(self, size: tuple[int, int] | None) -> float | None:
        """Before the first frame: run the network and the stabilizer on a picture of the frames' ``size``
        (width, height; the built-in scene), so the first frames do not pay the network's warm-up and, where
        the size adapts, start at the size the machine holds (stream/styling/adapt.py). Once: the size the
        network then runs at, when it changed; nothing where the size is not known, or after the first time."""
        if not size or self._calibrated:
            return None
        self._calibrated = True
        picture = self._picture = self.path.picture(TestScene(*size).frame(0.0))
        asked, probe = self.governor.scale, self.governor.probe_scale()
        self.governor.scale = probe  # measured there (at half the size, in a quarter of the time)
        for _ in range(CALIBRATION_RUNS):
            self.stabilize(picture, self.stylize(picture))
        new = self.governor.first_size(asked)
        if self.governor.scale != probe:  # the size it will run at, warmed up
            self.stabilize(picture, self.stylize(picture))
        self._ready.update({probe, self.governor.scale})
        self.stabilizer.reset()
        self.stats.flicker.reset()
        return new

    def adapt(self) -> float | None:
        """Let the network's size follow what the machine keeps up with (stream/styling/adapt.py); call
        now and then. The new size when it changed."""
        new = self.governor.update(self.stats.captured, self.stats.emitted)
        self._ready_next()
        return new

    def _ready_next(self) -> None:
        """Run the network once at the next size up, ahead of a step there: a size's first run pays
        for the size (OpenVINO compiles a model for each shape: 180-200 ms at 448x252, against 27 ms
        a frame after), and a step up that paid it on the frame threads lost 5 frames each time.
        Once a size, on the thread that calls ``adapt``, on the picture ``calibrate`` drew."""
        nxt = self.governor.next_up()
        if nxt is None or nxt in self._ready or self._picture is None:
            return
        self._ready.add(nxt)
        controls, _, network = self._look(time.monotonic())
        try:
            self.path.stylize([self._picture], network, controls.mix, nxt)
        except Exception:  # a frame thread meets the same error, and counts it
            pass

    def stabilize(self, original, stylized, grey: np.ndarray | None = None, motion: Motion | None = None):
        """In frame order: each frame builds on the one before (since the last change of style).
        ``grey`` and ``motion``: the source's grey at the flow's size and the motion to it, where the
        caller has them (stream/temporal/motion.py)."""
        started, scale = time.perf_counter(), self.governor.scale
        if self._restyled:
            self._restyled = False
            self.stabilizer.reset()
            self.stats.flicker.reset()  # a new style is a change on purpose, not flicker
        controls = self._look(time.monotonic())[0]
        self.stabilizer.set_stability(controls.stability)
        out = self.path.stabilize(self.stabilizer, original, stylized, controls.mix, grey, motion)
        self.governor.stage_ms((time.perf_counter() - started) * 1000, scale)
        return out
