"""Numbered frames in: ``shots/a_%04d.png`` or a folder of them -> Frames, in frame-number order.

What an editing or grading program exports: one picture per frame, numbered (``a_0101.png`` ...
``a_0250.png``). The frames are found by their number (``a_10`` comes after ``a_9``), must all
be there (a gap is an error naming the missing frame, unless ``ignore_errors``) and of one size.
Each picture is read by FFmpeg's image readers, so PNG (8 and 16 bit), TIFF, JPEG, DPX, EXR and
the rest FFmpeg opens all work (``stylecast doctor`` lists them). Times are ``(number - first) /
rate``; the start timecode is ``--timecode`` or the first frame's number at the rate.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import cv2
import numpy as np

from engines.errors import InputError, OptionError
from stream.core.frame import Frame

from .colour import BT709, LIMITED, Colour
from .decode import MIN_SIDE, output_size, upright_rgba
from .time_range import Place, TimeRange
from .timecode import Timecode

FRAME_NUMBER = re.compile(r"%(0?\d*)d")  # the placeholder in a pattern: %d, %04d
_NUMBERED = re.compile(r"^(?P<prefix>.*?)(?P<number>\d+)(?P<suffix>\.[A-Za-z0-9]+)$")
PICTURE_EXTENSIONS = {".png", ".tif", ".tiff", ".jpg", ".jpeg", ".dpx", ".exr", ".bmp", ".webp", ".tga", ".jp2"}
DEFAULT_FPS = 24.0


def check_rate(fps: float | None) -> None:
    """``--fps``, an image sequence's rate: above 0 and at most 1000 frames/s (or not given)."""
    if fps is not None and not 0 < fps <= 1000:
        raise OptionError(f"--fps must be above 0 and at most 1000, got {fps:g}")


def is_pattern(path: Path) -> bool:
    """True for a name holding a frame-number placeholder such as ``%04d``."""
    return FRAME_NUMBER.search(path.name) is not None


def is_sequence_input(path: Path) -> bool:
    return is_pattern(path) or path.is_dir()


def sequence_name(pattern: Path) -> str:
    """What to call the frames of ``shots/a_%04d.png`` in names: ``a`` (or the folder's name)."""
    match = FRAME_NUMBER.search(pattern.name)
    return pattern.name[:match.start()].rstrip("_-. ") or pattern.parent.name or "frames"


@dataclass(frozen=True)
class ImageSequence:
    """The frames found: ``files[i]`` holds frame ``numbers[i]``, in number order."""

    files: list[Path]
    numbers: list[int]
    name: str   # what to call it in messages and default output names (``a`` for ``a_%04d.png``)

    @property
    def first(self) -> int:
        return self.numbers[0]

    def file_name(self, number: int) -> str:
        """The name frame ``number`` has, or would have, in this sequence."""
        first = _NUMBERED.match(self.files[0].name)
        digits = len(first["number"]) if first["number"].startswith("0") else 0
        return f"{first['prefix']}{number:0{digits}d}{first['suffix']}"

    def missing(self) -> list[int]:
        """The numbers absent between the first and the last frame."""
        present = set(self.numbers)
        return [n for n in range(self.first, self.numbers[-1] + 1) if n not in present]


def find_sequence(path: Path) -> ImageSequence:
    """The numbered frames a pattern names, or that a folder holds (one sequence per folder)."""
    if path.is_dir():
        return _from_folder(path)
    folder, match = path.parent, FRAME_NUMBER.search(path.name)
    prefix, suffix = path.name[:match.start()], path.name[match.end():]
    width = int(match.group(1) or 0)
    shape = re.compile(re.escape(prefix) + (r"(\d{%d,})" % max(width, 1)) + re.escape(suffix) + "$")
    found = []
    if folder.is_dir():
        for entry in folder.iterdir():
            hit = shape.match(entry.name)
            if hit and (width == 0 or len(hit.group(1)) == width or not hit.group(1).startswith("0")):
                found.append((int(hit.group(1)), entry))
    if not found:
        raise InputError(f"no frames match {path} (looked for {prefix}{'0' * max(width - 1, 0)}1{suffix} and the like)")
    return _sequence(found, sequence_name(path))


def _from_folder(folder: Path) -> ImageSequence:
    groups: dict[tuple[str, str], list] = {}
    for entry in folder.iterdir():
        hit = _NUMBERED.match(entry.name)
        if hit and hit["suffix"].lower() in PICTURE_EXTENSIONS and not entry.name.startswith("."):
            groups.setdefault((hit["prefix"], hit["suffix"]), []).append((int(hit["number"]), entry))
    if not groups:
        raise InputError(f"{folder} holds no numbered pictures (name_0001.png and the like)")
    if len(groups) > 1:
        kinds = ", ".join(sorted(f"{p}####{s}" for p, s in groups))
        raise InputError(f"{folder} holds more than one sequence ({kinds}); give one as a pattern like "
                         f"{folder}/name_%04d.png")
    (prefix, _), found = next(iter(groups.items()))
    return _sequence(found, prefix.rstrip("_-. ") or folder.name)


def _sequence(found: list[tuple[int, Path]], name: str) -> ImageSequence:
    found.sort()
    numbers = [n for n, _ in found]
    if len(set(numbers)) != len(numbers):
        twice = next(n for a, n in zip(numbers, numbers[1:]) if a == n)
        raise InputError(f"frame {twice} appears twice in the sequence (two files with the same number)")
    return ImageSequence([p for _, p in found], numbers, name)


class SequenceDecoder:
    """An image sequence read as a file is (a :class:`Decoder`, stream/media/decoder.py): Frames
    only, at ``rate``, numbered as the pictures are."""

    container = None
    video = None
    copy_streams = ()
    start_time = 0.0

    def __init__(self, sequence: ImageSequence, rate: float, max_side: int | None = None,
                 ignore_errors: bool = False, keep_alpha: bool = False, timecode: str | None = None):
        self.sequence, self.max_side, self.ignore_errors, self.keep_alpha = sequence, max_side, ignore_errors, keep_alpha
        self.path = sequence.files[0].parent
        self.rate = Fraction(rate).limit_denominator(1001)
        gaps = sequence.missing()
        if gaps and not ignore_errors:
            more = f" (and {len(gaps) - 1} more)" if len(gaps) > 1 else ""
            raise InputError(f"frame {gaps[0]} ({sequence.file_name(gaps[0])}) is missing from the sequence "
                             f"{sequence.name} ({sequence.first}-{sequence.numbers[-1]}){more}; "
                             "--ignore-errors renders around it")
        self.lost = len(gaps)
        self.decoded = 0
        self.span = TimeRange()
        self.first_index = 0  # the range's first frame, counted from the sequence's first
        self.colour = Colour(BT709, LIMITED, BT709, BT709)  # pictures are RGB: video out is BT.709
        self.timecode = Timecode.parse(timecode, self.rate) if timecode else Timecode(sequence.first, self.rate)
        self._size: tuple[int, int] | None = None

    @property
    def duration(self) -> float:
        return float((self.sequence.numbers[-1] - self.sequence.first + 1) / self.rate)

    @property
    def output_size(self) -> tuple[int, int] | None:
        """(width, height) of its pictures, fitted into ``max_side``, once the first is read."""
        return None if self._size is None else output_size(*self._size, self.max_side)

    @property
    def expected_frames(self) -> int | None:
        if self.span.whole:
            return len(self.sequence.numbers)
        return self.span.frames(self.rate, self.duration)

    def select(self, span: TimeRange) -> None:
        self.span = span
        self.first_index = math.ceil(span.start * self.rate - 1e-6)

    def _read(self, path: Path) -> av.VideoFrame | None:
        try:
            with av.open(str(path)) as container:
                return next(container.decode(video=0))
        except (av.error.FFmpegError, StopIteration, IndexError, OSError) as exc:
            if not self.ignore_errors:
                why = getattr(exc, "strerror", None) or "no picture in it"
                raise InputError(f"{path.name} is not a picture FFmpeg can read or is damaged ({why}); "
                                 "--ignore-errors renders around it") from None
            self.lost += 1
            return None

    def _check_size(self, path: Path, picture: av.VideoFrame) -> None:
        size = (picture.width, picture.height)
        if self._size is None:
            if min(size) < MIN_SIDE:
                raise InputError(f"{path.name} is {size[0]}x{size[1]}; both sides need at least {MIN_SIDE} pixels")
            self._size = size
        elif size != self._size:
            raise InputError(f"{path.name} is {size[0]}x{size[1]}; the sequence started at "
                             f"{self._size[0]}x{self._size[1]} and a video holds one size")

    def __iter__(self) -> Iterator[Frame]:
        time_base = 1 / self.rate
        origin: int | None = None
        for number, path in zip(self.sequence.numbers, self.sequence.files):
            place = self.span.place(float((number - self.sequence.first) * time_base))
            if place is Place.AFTER:
                break
            if place is Place.BEFORE:
                continue
            picture = self._read(path)
            if picture is None:
                continue
            self._check_size(path, picture)
            if place is Place.INSIDE and origin is None:
                origin = number
            image, alpha = upright_rgba(picture, self.max_side, self.keep_alpha)
            pts = number - (origin if origin is not None else number) if not self.span.whole \
                else number - self.sequence.first
            yield Frame(image, pts, time_base, self.decoded, alpha=alpha, number=number,
                        warmup=place is Place.WARMUP)
            self.decoded += 1
        if self.decoded == 0:
            raise InputError(f"no frame of the sequence {self.sequence.name} could be read")

    def source_index(self, frame: Frame) -> int:
        """A frame's place in the sequence, counted from its first picture."""
        return (frame.number if frame.number is not None else self.sequence.first) - self.sequence.first

    def frame_times(self) -> list[float]:
        """Every frame's time in seconds from the first: by its number, at ``rate``."""
        return [float((n - self.sequence.first) / self.rate) for n in self.sequence.numbers]

    def greys(self, width: int) -> Iterator[np.ndarray]:
        """Every picture's grey, ``width`` pixels wide (cut finding)."""
        for item in SequenceDecoder(self.sequence, self.rate, width, self.ignore_errors):
            yield cv2.cvtColor(item.image, cv2.COLOR_RGB2GRAY)

    def frames_at(self, indexes: set[int]) -> dict[int, np.ndarray]:
        """The pictures at ``indexes`` (from the sequence's first), as this decoder gives them."""
        files, out = dict(zip(self.sequence.numbers, self.sequence.files)), {}
        for i in sorted(indexes):
            path = files.get(self.sequence.first + i)
            if path is not None and (picture := self._read(path)) is not None:
                out[i] = upright_rgba(picture, self.max_side, False)[0]
        return out

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()
