"""The one way into pictures: ``open_decoder`` gives a :class:`Decoder` for a media file (PyAV,
stream/media/decode.py) or a sequence of numbered pictures (stream/media/image_sequence.py), and
every job reads through it: render, shots, the cluster's plan and join, the studio's thumbnails,
previews and uploads. As PySceneDetect has one ``open_video`` behind its ``VideoStream``.

Everything a decoder gives is upright (a phone clip's display rotation applied) and at most
``max_side`` pixels on its longer side; times are the source's own.
"""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Iterator, Protocol, Sequence

import av
import numpy as np

from engines.errors import InputError
from stream.core.frame import Frame

from .colour import Colour
from .decode import FileDecoder
from .image_sequence import (
    DEFAULT_FPS,
    SequenceDecoder,
    find_sequence,
    is_sequence_input,
)
from .time_range import TimeRange
from .timecode import Timecode


class Decoder(Protocol):
    """What every reader of pictures gives. Iterating yields the frames (uint8 RGB, upright, with
    their source timestamps) and, for a file, the packets of the streams to copy (sound,
    subtitles), in file order. ``greys``, ``frame_times`` and iterating each read from the start
    once (one of them per decoder); ``frames_at`` makes a pass of its own."""

    path: Path
    max_side: int | None
    rate: Fraction                       # frames per second (a sequence's: as given)
    timecode: Timecode | None            # the start timecode, where there is one
    colour: Colour                       # how the pictures' colours are encoded (stream/media/colour.py)
    lost: int                            # frames lost to damage (ignore_errors)
    first_index: int                     # a range's first frame, counted from the source's first
    copy_streams: Sequence[av.stream.Stream]       # streams whose packets come along (none for pictures)
    container: av.container.InputContainer | None  # what the encoder copies tags and chapters from
    video: av.video.stream.VideoStream | None
    start_time: float                    # the first frame's time in the file (s)

    @property
    def duration(self) -> float | None: ...      # seconds, where known

    @property
    def output_size(self) -> tuple[int, int] | None: ...  # (width, height) of its frames, fitted, where known

    @property
    def expected_frames(self) -> int | None: ...  # frames a render will write (progress), where known

    def select(self, span: TimeRange) -> None: ...  # read only ``span`` and the warm-up before it

    def __iter__(self) -> Iterator[Frame | av.Packet]: ...

    def greys(self, width: int) -> Iterator[np.ndarray]: ...  # each picture's grey, ``width`` wide

    def frame_times(self) -> list[float]: ...  # every frame's time (s) from the first, without decoding

    def frames_at(self, indexes: set[int]) -> dict[int, np.ndarray]: ...  # pictures by their place

    def source_index(self, frame: Frame) -> int: ...  # a frame's place in the source, from 0

    def close(self) -> None: ...


def open_decoder(path: Path, *, max_side: int | None = None, ignore_errors: bool = False, keep_alpha: bool = False,
                 fps: float | None = None, timecode: str | None = None, yuv: bool = False, nvdec: bool = False) -> Decoder:
    """A decoder for ``path``: a folder of numbered pictures or a pattern such as ``a_%04d.png``
    (at ``fps``, default 24), else a media file. ``timecode`` is the start timecode to give instead
    of the source's own (a sequence's is its first frame's number at ``fps``). For the device path
    (stream/framepath/), a file's 8-bit 4:2:0 pictures come as they are (``yuv``: ``Frame.yuv``, not
    yet upright nor fitted), decoded by NVDEC where it runs (``nvdec``). One InputError line for
    anything that cannot be read."""
    if is_sequence_input(path):
        return SequenceDecoder(find_sequence(path), fps or DEFAULT_FPS, max_side, ignore_errors, keep_alpha, timecode)
    return FileDecoder(path, max_side, ignore_errors, keep_alpha, timecode, yuv, nvdec)


def check_video(path: Path, name: str | None = None) -> None:
    """InputError unless ``path`` is a video FFmpeg decodes a picture of (an upload's check); the
    error names it ``name`` (the upload's own name, where ``path`` is a scratch file)."""
    name = name or path.name
    try:
        with FileDecoder(path) as decoder:
            next(decoder.greys(32))
    except StopIteration:
        raise InputError(f"{name} holds no picture FFmpeg can decode") from None
    except InputError as exc:
        raise InputError(str(exc).replace(path.name, name).replace(str(path), name)) from None
    except UnicodeDecodeError:
        raise InputError(f"{name} is not a video FFmpeg can read (its tags are not text)") from None
