"""A painted keyframe as a looks file or ``--keyframe`` names it: which source frame, which picture.

What is done with one is stream/edit/painted.py; this is the reference itself, read by the looks
file's reader (stream/edit/looks.py) and by ``--keyframe`` alike.
"""
from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from engines.errors import OptionError
from stream.media.timecode import Timecode, looks_like_timecode


@dataclass(frozen=True)
class Painting:
    """The artist's painting of source frame ``frame`` (from 0); ``where`` names it in errors."""

    frame: int
    image: Path
    where: str


def frame_index(value, rate: Fraction, first: Timecode | None, where: str) -> int:
    """A painted frame's place: a whole number of frames from the source's first, or a timecode."""
    if isinstance(value, str) and looks_like_timecode(value):
        try:
            return Timecode.parse(value, rate).frames - (first.frames if first else 0)
        except OptionError as exc:
            raise OptionError(f"{where}: {exc}") from None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise OptionError(f"{where}: a painted frame is a frame number (0 is the first) or a timecode, got {value!r}")


def keyframe_option(text: str, rate: Fraction, first: Timecode | None) -> Painting:
    """``--keyframe 120=painted.png`` (or ``01:00:05:00=painted.png``)."""
    where = f"--keyframe {text}"
    frame, sep, image = text.partition("=")
    if not sep or not frame.strip() or not image.strip():
        raise OptionError(f"{where}: write FRAME=PAINTED.png, e.g. --keyframe 120=painted.png")
    return Painting(frame_index(frame.strip(), rate, first, where), Path(image.strip()).expanduser(), where)
