"""Holding the frame rate on a slower machine: the network's internal size follows what the
machine can do (``live`` and each viewer of ``serve``; ``--adapt off`` keeps it fixed).

The network costs about the square of its size (``--style-scale``, engines/style_scale.py). Every
few seconds the governor looks at the last window: when fewer frames left than came in (the engine
could not keep up), it steps the size down to the rung the rate that got through points to (cost
goes with the square of the size), at most two rungs; when the network's time per frame, scaled to
the next rung up, would still fit in the time each frame may take with room to spare, one rung up,
never above the size asked for. At most one change every ADAPT_EVERY_S, in small steps, so the
texture changes rarely: no pumping.
"""
from __future__ import annotations

import statistics
import time

ADAPT_EVERY_S = 3.0  # at most one change of size in this long
RUNGS = (0.25, 0.3, 0.35, 0.42, 0.5, 0.6, 0.7, 0.85, 1.0, 1.2, 1.4, 1.7, 2.0)  # each about 1.4x the cost of the one below
KEEP_UP = 0.97       # a window whose output is under this share of its input is a window the engine lost
ROOM = 0.75          # step up only if the next rung's network time would use at most this share of a frame's time
MIN_FRAMES = 10      # a window needs this many frames to judge


class ScaleGovernor:
    """``ceiling``: the size asked for (--style-scale); ``parallel``: frames the engine runs at once."""

    def __init__(self, ceiling: float, parallel: int, enabled: bool = True):
        self.ceiling, self.parallel, self.enabled = ceiling, max(1, parallel), enabled
        self.scale = ceiling
        self.changes = 0
        self._ms: list[float] = []
        self._since = time.monotonic()
        self._counts: tuple[int, int] | None = None

    def network_ms(self, ms: float, scale: float) -> None:
        """One frame's network time at ``scale`` (frames from before the last change are ignored)."""
        if scale == self.scale:
            self._ms.append(ms)

    def update(self, captured: int, emitted: int, now: float | None = None) -> float | None:
        """The new size when it changes, else None; ``captured`` and ``emitted`` count frames so far."""
        now = time.monotonic() if now is None else now
        if self._counts is None:
            self._counts, self._since = (captured, emitted), now
            return None
        if not self.enabled or now - self._since < ADAPT_EVERY_S:
            return None
        came, left = captured - self._counts[0], emitted - self._counts[1]
        if came < MIN_FRAMES or len(self._ms) < MIN_FRAMES // 2:
            return None
        frame_ms = (now - self._since) * 1000 / came * self.parallel  # what each frame may take, one core each
        network = statistics.median(self._ms)
        lower = [r for r in RUNGS if r < self.scale]
        higher = sorted({r for r in RUNGS if self.scale < r < self.ceiling} | ({self.ceiling} if self.scale < self.ceiling else set()))
        new = None
        if left < KEEP_UP * came and lower:  # the rung the rate that got through points to, at most 2 down
            fits = [r for r in lower if r <= self.scale * (left / came) ** 0.5 * 0.95]
            new = max(fits[-1] if fits else lower[0], lower[max(0, len(lower) - 2)])
        elif higher and network * (higher[0] / self.scale) ** 2 < ROOM * frame_ms:
            new = higher[0]
        self._counts, self._since, self._ms = (captured, emitted), now, []
        if new is not None:
            self.scale, self.changes = new, self.changes + 1
        return new
