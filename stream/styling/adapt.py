"""Holding the frame rate on a slower machine: the network's working size follows what the machine
can do (``live`` and each viewer of ``serve``; ``--adapt off`` keeps it fixed).

What a frame costs at a working size ``s`` (``--style-scale``, engines/style_scale.py) goes with
s squared: the network, and (live) the stabilizer, which works at the network's size too. The rest
of a frame (decode, the grow back to the frame's size, encode, and whatever else the machine runs)
does not change with ``s``. Every few seconds the governor looks at the last window:

- fewer frames left than came in (the job could not keep up): down to the rung the rate that got
  through points to, at most two rungs, and that rung is not tried again for RETRY_AFTER_S;
- every frame kept up: one rung up, never above the size asked for, only if all three still fit at
  that rung with room to spare: the network (``parallel`` frames at once) and the stabilizer (one
  frame at a time, in order) each in its share of a frame's time, and the extra cores the bigger
  size would take in what the whole machine left idle (``idle``: /proc/stat), so that the rest of
  the frame's cost, and other programs on the same cores, are counted too.

Before the first frame, with the rate to hold known (``fps``: live's --fps), a few runs of the
network and the stabilizer at the size asked for set the starting rung at once (``first_size``),
rather than one window after another while frames are lost. Those runs see a machine with
nothing else to do, so the first rung leaves the network and the stabilizer half the cores
(FIRST_SHARE): decoding, encoding and programs that start with the stream (its sender, a player)
take the rest. Starting a rung too high costs dropped frames and latency until it is put right;
a rung too low, a little detail until the next step up. That first size is judged after
FIRST_WINDOW_S of frames; at most one change every ADAPT_EVERY_S after that, in small steps: no
pumping.

A new size's first run on each of the ``parallel`` threads pays for the size itself: OpenVINO
compiles a model for each shape (180-200 ms at 448x252, against 27 ms a frame after), oneDNN picks
its kernels. A window that counted those frames saw a step up lose 5 of 90 frames at a size that
then had a core to spare, stepped back and kept off it for RETRY_AFTER_S. So after a change the
window starts again once those first runs are done (``warming``), and they are not timed.
"""
from __future__ import annotations

import os
import statistics
import time
from typing import Callable

ADAPT_EVERY_S = 3.0  # at most one change of size in this long
FIRST_WINDOW_S = 1.5  # ... but the first size is judged sooner, from the first frame on: it was a guess
RUNGS = (0.25, 0.3, 0.35, 0.42, 0.5, 0.6, 0.7, 0.85, 1.0, 1.2, 1.4, 1.7, 2.0)  # each about 1.4x the cost of the one below
KEEP_UP = 0.97       # a window whose output is under this share of its input is a window the engine lost
ROOM = 0.75          # a stage's time at the next rung may use at most this share of the time it has a frame
IDLE_ROOM = 0.9      # ... and the extra cores it would take at most this share of the machine's idle cores
RETRY_AFTER_S = 30.0  # a rung that lost frames is not tried again for this long
MIN_FRAMES = 10      # a window needs this many frames to judge
PROBE_SCALE = 0.5    # before the first frame the network is measured at most at this size
FIRST_SHARE = 0.5    # ... and the first size may give the network and the stabilizer this share of the cores


class MachineIdle:
    """Idle cores of the whole machine since the last call (Linux's /proc/stat); None where it
    cannot be read, and for the first call."""

    def __init__(self, path: str = "/proc/stat"):
        self.path, self._last = path, None
        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def __call__(self) -> float | None:
        try:
            with open(self.path) as f:
                fields = [int(v) for v in f.readline().split()[1:]]
        except (OSError, ValueError):
            return None
        idle, now = (fields[3] + fields[4]) / self._tick, time.monotonic()  # idle + iowait, seconds
        last, self._last = self._last, (idle, now)
        if last is None or now <= last[1]:
            return None
        return (idle - last[0]) / (now - last[1])


class ScaleGovernor:
    """``ceiling``: the size asked for (--style-scale); ``parallel``: frames the network runs at once;
    ``fps``: the rate to hold, where known (live's --fps), for the first size; ``idle``: the machine's
    idle cores since it was last called (None: not counted)."""

    def __init__(self, ceiling: float, parallel: int, enabled: bool = True, fps: float | None = None,
                 idle: Callable[[], float | None] | None = None):
        self.ceiling, self.parallel, self.enabled, self.fps = ceiling, max(1, parallel), enabled, fps
        self.scale = ceiling
        self.changes = 0
        self._idle = idle if idle is not None else MachineIdle()
        self._ms: list[float] = []      # network, per frame, at self.scale
        self._stage: list[float] = []   # the stabilizer (and the grow to full size), per frame
        self._since = time.monotonic()
        self._counts: tuple[int, int] | None = None
        self._failed: dict[float, float] = {}  # rung -> when it last lost frames
        self._judged = False  # the first window, shorter, is not over yet
        self.warming = 0  # first runs at a new size still to come (not timed; the window restarts after)
        self._warm = False  # ... and they have all come: the window restarts at the next update

    def network_ms(self, ms: float, scale: float) -> None:
        """One frame's network time at ``scale`` (frames from before the last change are ignored, and
        a new size's first run on each thread)."""
        if scale != self.scale:
            return
        if self.warming:
            self.warming -= 1
            self._warm = not self.warming
            return
        self._ms.append(ms)

    def stage_ms(self, ms: float, scale: float) -> None:
        """One frame's stabilizer time (the one-at-a-time stage after the network) at ``scale``."""
        if scale == self.scale:
            self._stage.append(ms)

    def update(self, captured: int, emitted: int, now: float | None = None) -> float | None:
        """The new size when it changes, else None; ``captured`` and ``emitted`` count frames so far."""
        now = time.monotonic() if now is None else now
        if self._counts is None or not captured:  # the first window starts with the first frame
            self._counts, self._since = (captured, emitted), now
            self._idle()
            return None
        if self.warming:
            return None
        if self._warm:  # the new size is warm: its window starts now, what its first runs lost forgiven
            self._warm = False
            self._counts, self._since, self._ms, self._stage = (captured, emitted), now, [], []
            self._idle()
            return None
        if not self.enabled or now - self._since < (ADAPT_EVERY_S if self._judged else FIRST_WINDOW_S):
            return None
        came, left = captured - self._counts[0], emitted - self._counts[1]
        if came < MIN_FRAMES or len(self._ms) < MIN_FRAMES // 2:
            return None
        idle = self._idle()
        new = self._down(came, left, now) if left < KEEP_UP * came else self._up(came / (now - self._since), idle, now)
        return self._change(new, captured, emitted, now)

    def probe_scale(self) -> float:
        """Where to measure before the first frame: half the size asked for at most (a quarter of
        the cost), or the size asked for when it does not adapt."""
        return min(self.scale, PROBE_SCALE) if self.enabled and self.fps is not None else self.scale

    def first_size(self, asked: float) -> float | None:
        """Before the first frame: the largest rung up to ``asked`` whose network and stabilizer
        times, scaled from the runs measured so far at ``self.scale`` (the first, a warm-up, left
        out), fit the rate to hold (``fps``). Sets it, and returns it when it is not ``asked``."""
        measured, self.scale = self.scale, asked
        if not self.enabled or self.fps is None or len(self._ms) < 2:
            return None
        interval = 1000.0 / self.fps
        network = statistics.median(self._ms[1:])
        stage = statistics.median(self._stage[1:]) if len(self._stage) > 1 else 0.0
        whole = FIRST_SHARE * interval * self.parallel  # what the rest of the frame leaves them, guessed
        fits = [r for r in RUNGS if r <= asked and self._fits(r, network, stage, interval, measured)
                and (network + stage) * (r / measured) ** 2 <= whole]
        new = fits[-1] if fits else RUNGS[0]
        self._ms, self._stage = [], []
        self.warming = self.parallel if new != measured else 0
        if new == asked:
            return None
        self.scale, self.changes = new, self.changes + 1
        return new

    def _fits(self, rung: float, network: float, stage: float, interval: float, measured: float | None = None) -> bool:
        """Network and stabilizer times measured at ``measured`` (default: the size now), scaled to
        ``rung``, each in its share of a frame's time (``interval``, ms)."""
        grow = (rung / (measured or self.scale)) ** 2
        return network * grow < ROOM * interval * self.parallel and stage * grow < ROOM * interval

    def _down(self, came: int, left: int, now: float) -> float | None:
        lower = [r for r in RUNGS if r < self.scale]
        self._failed[self.scale] = now
        if not lower:
            return None
        fits = [r for r in lower if r <= self.scale * (left / came) ** 0.5 * 0.95]
        return max(fits[-1] if fits else lower[0], lower[max(0, len(lower) - 2)])

    def next_up(self) -> float | None:
        """The size one step up, where there is one (a rung, or the size asked for)."""
        if not self.enabled or self.scale >= self.ceiling:
            return None
        return min([r for r in RUNGS if self.scale < r < self.ceiling] + [self.ceiling])

    def _up(self, rate: float, idle: float | None, now: float) -> float | None:
        nxt = self.next_up()
        if nxt is None or now - self._failed.get(nxt, -RETRY_AFTER_S) < RETRY_AFTER_S:
            return None
        network = statistics.median(self._ms)
        stage = statistics.median(self._stage) if self._stage else 0.0
        if not self._fits(nxt, network, stage, 1000.0 / rate):
            return None
        extra_cores = (network + stage) * ((nxt / self.scale) ** 2 - 1) / 1000 * rate
        if idle is not None and extra_cores > IDLE_ROOM * idle:
            return None
        return nxt

    def _change(self, new: float | None, captured: int, emitted: int, now: float) -> float | None:
        self._judged = True
        self._counts, self._since, self._ms, self._stage = (captured, emitted), now, [], []
        if new is not None:
            self.scale, self.changes, self.warming = new, self.changes + 1, self.parallel
        return new
