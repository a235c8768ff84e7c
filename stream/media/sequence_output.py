"""Numbered frames out: ``-o out/%04d.png`` (or ``.tif``) writes one picture per frame, as a set.

The frames are written into a hidden folder beside ``out/`` and that folder is renamed into place
when the last frame is written, so an editor watching ``out/`` never sees half a sequence, and a
killed run leaves nothing there (its folder is cleared away by the next run). ``out/`` must be new,
empty, or (with ``--overwrite``) hold only frames of this same pattern: then the old set is
replaced as a whole once the new one is complete.

Frame numbers: an image sequence's own numbers are kept (0101-0250 in gives 0101-0250 out); a video
input counts from 0, or from its position in the source for a time range; ``--start-number N``
renumbers from N. Pictures are 8-bit RGB, with the source's alpha plane where it had one.
"""
from __future__ import annotations

import os
import re
import shutil
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from engines.errors import OutputError
from stream.core.frame import Frame

from .image_sequence import FRAME_NUMBER, is_pattern
from .output_file import claim_partial

ENCODERS = {".png": "png", ".tif": "tiff", ".tiff": "tiff"}
STILL_ENCODERS = {**ENCODERS, ".jpg": "mjpeg", ".jpeg": "mjpeg"}


def encode_still(frame: av.VideoFrame, suffix: str) -> bytes:
    """One picture as the bytes of a ``suffix`` file (.png, .tif, .jpg), in the frame's own pixel format."""
    codec = av.CodecContext.create(STILL_ENCODERS[suffix.lower()], "w")
    codec.width, codec.height, codec.pix_fmt = frame.width, frame.height, frame.format.name
    if codec.name == "mjpeg":
        codec.time_base = Fraction(1, 25)
    return b"".join(bytes(p) for p in codec.encode(frame))


def is_sequence_output(path: Path) -> bool:
    return is_pattern(path)


class SequencePattern:
    """``out/%04d.png``: the folder, and each frame's file name."""

    def __init__(self, path: Path):
        match = FRAME_NUMBER.search(path.name)
        self.folder = path.parent
        self.prefix, self.suffix = path.name[:match.start()], path.name[match.end():]
        self.width = int(match.group(1) or 0)
        self.extension = self.suffix.lower()
        if self.suffix.lower() not in ENCODERS:
            raise OutputError(f"an image sequence output must end in %04d.png or %04d.tif (any width), got {path.name!r}")
        if self.folder.resolve() == Path.cwd().resolve() or str(path.parent) in ("", "."):
            raise OutputError(f"an image sequence needs a folder of its own, which appears when complete: "
                              f"-o frames/{path.name}")
        self._shape = re.compile(re.escape(self.prefix) + r"\d+" + re.escape(self.suffix) + "$")

    def name(self, number: int) -> str:
        return f"{self.prefix}{number:0{self.width}d}{self.suffix}"

    def matches(self, name: str) -> bool:
        return self._shape.match(name) is not None


class AtomicFolder:
    """``with AtomicFolder(pattern, overwrite) as tmp:`` fill ``tmp``; it becomes the folder on success."""

    def __init__(self, pattern: SequencePattern, overwrite: bool = False):
        target = self.target = pattern.folder
        if target.exists() and not target.is_dir():
            raise OutputError(f"{target} is a file, not a folder for the frames")
        held = [p.name for p in target.iterdir()] if target.is_dir() else []
        if held and not overwrite:
            raise OutputError(f"{target} already holds {len(held)} files (add --overwrite to replace its frames)")
        strangers = [n for n in held if not pattern.matches(n)]
        if strangers:
            raise OutputError(f"{target} holds other files ({strangers[0]}, ...); "
                              "choose a new or empty folder for the frames")
        self.partial = claim_partial(target, make_folder=True)

    def __enter__(self) -> Path:
        return self.partial

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            shutil.rmtree(self.partial, ignore_errors=True)
            return
        old = None
        if self.target.exists():  # empty, or this pattern's frames with --overwrite: replaced whole
            old = self.target.parent / f".{self.target.name}.{os.getpid()}.stylecast-old"
            os.replace(self.target, old)
        os.replace(self.partial, self.target)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


class SequenceWriter:
    """Writes each Frame as ``folder/<pattern name(number)>``; packets of other streams are counted
    and left out (a sequence holds pictures only). A :class:`Writer` (stream/media/writer.py)."""

    copied_packets = dropped_packets = 0  # a sequence holds pictures only

    def __init__(self, pattern: SequencePattern, folder: Path, start_number: int | None = None):
        self.pattern, self.folder, self.start_number = pattern, folder, start_number
        self.frames = 0
        self.left_out_packets = 0
        self.first_number: int | None = None
        self.last_number: int | None = None
        self._offset: int | None = None

    def write(self, item: Frame | av.Packet) -> None:
        if not isinstance(item, Frame):
            self.left_out_packets += 1
            return
        number = item.number if item.number is not None else self.frames
        if self._offset is None:
            self._offset = 0 if self.start_number is None else self.start_number - number
        number += self._offset
        if item.alpha is None:
            frame = av.VideoFrame.from_ndarray(item.image, format="rgb24")
        else:
            alpha = item.alpha if item.alpha.dtype == np.uint8 else (item.alpha >> 8).astype(np.uint8)
            frame = av.VideoFrame.from_ndarray(np.dstack([item.image, alpha]), format="rgba")
        try:
            (self.folder / self.pattern.name(number)).write_bytes(encode_still(frame, self.pattern.extension))
        except OSError as exc:
            raise OutputError(f"writing frame {number} failed: {exc.strerror}") from None
        self.frames += 1
        self.first_number = number if self.first_number is None else self.first_number
        self.last_number = number

    def yuv420_colour(self) -> None:
        """Pictures are written from RGB: a frame comes as RGB."""
        return None

    @property
    def skipped(self) -> list[str]:
        return [f"sound and subtitles ({self.left_out_packets} packets): an image sequence holds pictures only"] \
            if self.left_out_packets else []

    def finish(self) -> None:
        if self.frames == 0:
            raise OutputError("no video frame reached the output")

    def abort(self) -> None:
        pass
