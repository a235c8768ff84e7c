"""Where a render's frames go: the :class:`Writer` every output implements (a video file,
stream/media/encode.py; a folder of numbered pictures, stream/media/sequence_output.py), and the
:class:`OutputPlan`, the output decided and checked once from what the user asked for: the options'
check refuses what cannot be written before a byte is read, and the render opens that same plan.
"""
from __future__ import annotations

from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import av

from engines.errors import OptionError
from stream.core.frame import Frame

from .codecs import VideoCodec, choose_codec
from .colour import Colour
from .encode import FRAGMENTED, LONG_FILM_S, FileEncoder, can_fragment, container_format
from .output_file import AtomicOutput
from .sequence_output import (
    AtomicFolder,
    SequencePattern,
    SequenceWriter,
    is_sequence_output,
)
from .timecode import Timecode


class Writer(Protocol):
    """What takes a render's frames (and the packets of the streams it copies), in order."""

    frames: int                # video frames written
    copied_packets: int        # packets of other streams copied (sound, subtitles)
    dropped_packets: int       # damaged packets of copied streams left out (ignore_errors)
    skipped: list[str]         # what was left out, each with why
    first_number: int | None   # a picture sequence's first and last frame numbers; None for a file
    last_number: int | None

    def write(self, item: Frame | av.Packet) -> None: ...

    def yuv420_colour(self) -> Colour | None: ...  # a 4:2:0 frame's colour where it takes one, else None

    def finish(self) -> None: ...  # complete: the output exists whole after this

    def abort(self) -> None: ...   # stopped: nothing is left at the output's path


@dataclass(frozen=True)
class OutputPlan:
    """A checked output: a picture sequence (``pattern``) or a video file (``fmt``, ``codec``)."""

    path: Path
    pattern: SequencePattern | None = None
    fmt: str | None = None
    codec: VideoCodec | None = None
    fragmented: bool | None = None  # as asked; None: decided by the input's length (long films)
    start_number: int | None = None

    @classmethod
    def of(cls, path: Path, codec: str | None = None, fragmented: bool | None = None,
           start_number: int | None = None) -> OutputPlan:
        """The plan for ``path``, or the one line that says why it cannot be written."""
        if is_sequence_output(path):
            pattern = SequencePattern(path)  # refuses a picture format it cannot write
            if codec is not None:
                raise OptionError("--codec applies to video files; an image sequence's format is its extension")
            return cls(path, pattern=pattern, start_number=start_number)
        fmt = container_format(path)  # refuses an extension it cannot write
        chosen = choose_codec(codec, fmt)
        if fragmented and not can_fragment(fmt):
            raise OptionError(f"--fragmented applies to .mp4 and .mov outputs, not {path.suffix}")
        if start_number is not None:
            raise OptionError("--start-number applies to image sequence outputs (-o frames/%04d.png)")
        return cls(path, fmt=fmt, codec=chosen, fragmented=fragmented)

    @property
    def codec_name(self) -> str:
        """What the summary calls the output's format: the codec, or a sequence's picture format."""
        return self.pattern.extension.lstrip(".") if self.pattern else self.codec.name

    def keeps_alpha(self) -> bool:
        """Whether the output holds an alpha channel (the decoder then reads the source's)."""
        return self.pattern is not None or self.codec.name in ("prores4444", "ffv1")

    def fragments(self, duration: float | None) -> bool:
        """Whether a video file is written in fragments: as asked, else for inputs over LONG_FILM_S."""
        if self.pattern is not None or not can_fragment(self.fmt):
            return False
        return self.fragmented if self.fragmented is not None else (duration or 0) > LONG_FILM_S

    def open(self, stack: ExitStack, decoder, timecode: Timecode | None, *, overwrite: bool = False,
             crf: int = 18, preset: str = "faster", ignore_errors: bool = False, chunk: bool = False) -> Writer:
        """The writer, its output made atomic on ``stack`` (it appears only when finished). ``decoder``
        (stream/media/decoder.py) gives the sound to copy, the rate and the colours; a ``chunk`` of a
        cluster render is written without B-frames, so chunks join by stream copy."""
        if self.pattern is not None:
            folder = stack.enter_context(AtomicFolder(self.pattern, overwrite))
            return SequenceWriter(self.pattern, folder, self.start_number)
        partial = stack.enter_context(AtomicOutput(self.path, overwrite))
        return FileEncoder(partial, self.fmt, decoder.container, decoder.video, decoder.copy_streams, crf, preset,
                           options=FRAGMENTED if self.fragments(decoder.duration) else None, rate=decoder.rate,
                           ignore_errors=ignore_errors, codec=self.codec,
                           x264_params={"bf": "0"} if chunk else None, colour=decoder.colour, timecode=timecode)
