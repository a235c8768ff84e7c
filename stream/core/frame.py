"""The frame that moves through stylecast: a host picture with its source timestamp."""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np


@dataclass
class Frame:
    """uint8 RGB H x W x 3 picture; ``pts`` in ``time_base`` units exactly as the source gave it.

    ``original`` keeps the picture before stylization for the stages that need it (the look,
    stabilization); ``index`` is the position in decode order, for messages and statistics.
    ``alpha`` is the source's alpha plane (uint8, or uint16 for deeper sources), carried untouched
    to an output that holds it; ``number`` is an image sequence's frame number; a ``warmup`` frame
    only warms the stabilizer up before a time range and is not written; ``look`` is the look
    a render's looks file gave it.
    """

    image: np.ndarray
    pts: int | None
    time_base: Fraction
    index: int
    original: np.ndarray | None = None
    captured_at: float = 0.0  # time.monotonic() when a live source delivered it (latency statistics)
    demuxed_at: float = 0.0   # time.monotonic() when a network source's demuxer gave its packet (--trace)
    engine_ms: float = 0.0    # time spent stylizing and stabilizing it (statistics)
    alpha: np.ndarray | None = None
    number: int | None = None
    warmup: bool = False
    look: object | None = None  # the FrameLook a render's looks file gave it (stream/edit/looks.py)

    @property
    def time(self) -> float | None:
        """Presentation time in seconds, or None when the source gave no timestamp."""
        return None if self.pts is None else float(self.pts * self.time_base)


def format_time(seconds: float | None) -> str:
    """HH:MM:SS.mmm for messages."""
    if seconds is None:
        return "an unknown time"
    ms = int(round(max(0.0, seconds) * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    return f"{h:02d}:{m:02d}:{rem // 1000:02d}.{rem % 1000:03d}"
