"""``--from T --to T``: the part of a source a render writes, and the frames before it that warm
the stabilizer up.

A time is seconds (``12.5``) or a timecode (``01:00:12:00``). A timecode names the source's own
label when the source has a start timecode (so what an editor reads off the timeline works as it
is), and the time from the first frame otherwise.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction

from engines.errors import OptionError

from .timecode import Timecode, looks_like_timecode


class Place(Enum):
    BEFORE = "before"    # not needed at all
    WARMUP = "warmup"    # stylized and stabilized, then thrown away
    INSIDE = "inside"    # written
    AFTER = "after"      # past the end: reading can stop


@dataclass(frozen=True)
class TimeRange:
    """Seconds from the source's first frame: ``start`` included, ``end`` excluded (None: to the end)."""

    start: float = 0.0
    end: float | None = None
    warmup: float = 0.0   # seconds before ``start`` whose frames only warm the stabilizer up

    @property
    def whole(self) -> bool:
        return self.start <= 0 and self.end is None

    def place(self, t: float | None, tolerance: float = 1e-6) -> Place:
        if t is None or self.whole:
            return Place.INSIDE
        if self.end is not None and t >= self.end - tolerance:
            return Place.AFTER
        if t >= self.start - tolerance:
            return Place.INSIDE
        return Place.WARMUP if t >= self.start - self.warmup - tolerance else Place.BEFORE

    def frames(self, rate: Fraction, duration: float | None) -> int | None:
        """About how many frames it holds (for progress)."""
        end = self.end if self.end is not None else duration
        return None if end is None else max(0, round((end - self.start) * float(rate)))


def parse_range(start: str | None, end: str | None, rate: Fraction, first: Timecode | None,
                duration: float | None) -> TimeRange:
    """``--from``/``--to`` as a TimeRange of this source, or one clear error when outside it."""
    begin = _seconds("--from", start, rate, first) if start is not None else 0.0
    stop = _seconds("--to", end, rate, first) if end is not None else None
    if stop is not None and stop <= begin:
        raise OptionError(f"--from ({begin:g} s) must come before --to ({stop:g} s)")
    if duration is not None:
        slack = 1.0 / float(rate)  # the last frame's own length
        if begin >= duration:
            raise OptionError(f"--from {start} ({begin:g} s) is past the end of the source ({duration:.3f} s)")
        if stop is not None and stop > duration + slack:
            raise OptionError(f"--to {end} ({stop:g} s) is past the end of the source ({duration:.3f} s)")
    return TimeRange(begin, stop)


def _seconds(flag: str, text: str, rate: Fraction, first: Timecode | None) -> float:
    text = str(text).strip()
    if looks_like_timecode(text):
        label = Timecode.parse(text, rate)
        if first is None:
            return float(label.frames / rate)
        if label.frames < first.frames:
            raise OptionError(f"{flag} {text} is before the source's first frame (timecode {first})")
        return float((label.frames - first.frames) / rate)
    try:
        seconds = float(text)
    except ValueError:
        raise OptionError(f"{flag} must be seconds (12.5) or a timecode (HH:MM:SS:FF), got {text!r}") from None
    if not math.isfinite(seconds) or seconds < 0:
        raise OptionError(f"{flag} must be 0 or more seconds, got {text!r}")
    return seconds
