"""SMPTE timecode: ``HH:MM:SS:FF`` (``;`` before the frames for drop-frame), to and from a frame count.

Drop-frame timecode (29.97 and 59.94 frames/s) skips the labels ``:00`` and ``:01`` (``:00``-``:03``
at 59.94) at the start of every minute except each tenth, so the label keeps pace with the clock;
the frames themselves are never dropped. Every other rate counts whole frames at its nominal rate
(23.976 counts as 24).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from engines.errors import OptionError

_PATTERN = re.compile(r"^(\d{1,2}):(\d{2}):(\d{2})([:;.])(\d{2,3})$")


@dataclass(frozen=True)
class Timecode:
    """A timecode label at a frame rate: ``frames`` counted from 00:00:00:00."""

    frames: int
    rate: Fraction
    drop: bool = False

    @property
    def nominal(self) -> int:
        """Frames a timecode second counts: the rate rounded (24 for 23.976, 30 for 29.97)."""
        return max(1, round(float(self.rate)))

    @property
    def _dropped(self) -> int:
        return self.nominal // 15  # labels skipped a minute: 2 at 29.97, 4 at 59.94

    @classmethod
    def parse(cls, text: str, rate: Fraction) -> Timecode:
        """``HH:MM:SS:FF`` at ``rate``; a ``;`` or ``.`` before the frames means drop-frame."""
        match = _PATTERN.match(text.strip())
        if match is None:
            raise OptionError(f"timecode must look like HH:MM:SS:FF, got {text!r}")
        hh, mm, ss, sep, ff = match.groups()
        drop = sep in ";." and counts_drop_frame(rate)
        tc = cls(0, Fraction(rate), drop)
        if int(mm) > 59 or int(ss) > 59 or int(ff) >= tc.nominal:
            raise OptionError(f"timecode {text!r} is not a valid label at {float(rate):g} frames/s")
        minutes = int(hh) * 60 + int(mm)
        frames = (minutes * 60 + int(ss)) * tc.nominal + int(ff)
        if drop:
            if int(ss) == 0 and int(ff) < tc._dropped and int(mm) % 10:
                raise OptionError(f"timecode {text!r} does not exist in drop-frame counting")
            frames -= tc._dropped * (minutes - minutes // 10)
        return cls(frames, tc.rate, drop)

    def __add__(self, frames: int) -> Timecode:
        return Timecode(self.frames + frames, self.rate, self.drop)

    def __str__(self) -> str:
        frames, n = self.frames, self.nominal
        if self.drop:  # add back the labels skipped so far
            per_ten = n * 600 - self._dropped * 9
            tens, rest = divmod(frames, per_ten)
            frames += self._dropped * 9 * tens
            if rest >= n * 60:
                frames += self._dropped * ((rest - n * 60) // (n * 60 - self._dropped) + 1)
        ff = frames % n
        seconds = frames // n
        sep = ";" if self.drop else ":"
        return f"{seconds // 3600 % 24:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}{sep}{ff:02d}"

    def seconds(self) -> float:
        """Where this label falls on the clock, counted from 00:00:00:00."""
        return float(self.frames / self.rate)


def counts_drop_frame(rate: Fraction) -> bool:
    """Whether SMPTE counts ``rate`` in drop-frame (29.97 and 59.94: 30000/1001 and 60000/1001)."""
    return round(float(rate) * 1001) % 30000 == 0 and Fraction(rate).denominator == 1001


def looks_like_timecode(text: str) -> bool:
    return _PATTERN.match(text.strip()) is not None
