"""Output times that only move forward, for a live sink: a stream's or file's (stream/live/sinks.py)
and an NDI sender's timecodes (stream/links/ndi.py)."""
from __future__ import annotations

import math
from fractions import Fraction

from stream.core.frame import Frame


class Retimer:
    """Keeps output time moving forward when the source's clock jumps back (a restarted publisher).

    A jump back of more than ``JUMP_S`` in any stream moves every stream on by the same offset, so
    sound and picture stay together; within a stream, a packet that would not move forward is dropped.
    """

    JUMP_S = 1.0

    def __init__(self):
        self.offset_s = 0.0
        self.latest_s: float | None = None   # the latest output time of any stream
        self.video_t: Fraction | None = None  # the latest video output time, exact (s)
        self.last_dts: dict[int, int] = {}

    def _follow(self, t: float) -> float:
        if self.latest_s is not None and t + self.offset_s < self.latest_s - self.JUMP_S:
            self.offset_s = self.latest_s - t + 0.04
        out = t + self.offset_s
        self.latest_s = out if self.latest_s is None else max(self.latest_s, out)
        return out

    def frame_pts(self, frame: Frame, fps: float) -> int:
        """The output pts of ``frame`` (in its time base). The frame itself is left as it is: the
        job keeps it (held frames are made from it), and its own time must stay the source's."""
        t = self._follow(frame.time)
        if self.video_t is not None and t <= self.video_t:
            t = float(self.video_t) + 1 / fps
        pts = round(t / frame.time_base)
        if self.video_t is not None:
            # an offset set by a sound packet can land a frame a hair after the last one, the same
            # tick once rounded: the muxer refuses a repeated timestamp (EINVAL), so take the next
            # tick. Compared exactly: the last time kept as a float could round below its own tick.
            pts = max(pts, math.floor(self.video_t / frame.time_base) + 1)
        self.video_t = pts * Fraction(frame.time_base)
        return pts

    def packet(self, packet) -> bool:
        """Shift a passed-through packet; False when it would not move its stream forward."""
        self._follow(float(packet.pts * packet.time_base))
        shift = round(self.offset_s / packet.time_base)
        packet.pts, packet.dts = packet.pts + shift, packet.dts + shift
        index = packet.stream.index
        if index in self.last_dts and packet.dts <= self.last_dts[index]:
            return False
        self.last_dts[index] = packet.dts
        return True
