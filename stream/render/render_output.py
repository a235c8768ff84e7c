"""Where a render's frames go: a video file (H.264 or a mezzanine codec, stream/media/codecs.py) or an
image sequence (stream/media/sequence_output.py), made atomic, with the sound and metadata the output
can hold. Used by a render and by the join of a cluster render's chunks."""
from __future__ import annotations

from contextlib import ExitStack

from stream.media.codecs import choose_codec
from stream.media.encode import FRAGMENTED, LONG_FILM_S, FileEncoder, can_fragment, container_format
from stream.media.output_file import AtomicOutput
from stream.media.sequence_output import AtomicFolder, SequencePattern, SequenceWriter, is_sequence_output
from stream.media.timecode import Timecode


class RenderOutput:
    """The render's writer (a video file or an image sequence), made atomic on ``stack``."""

    def __init__(self, opts, decoder, timecode: Timecode | None, stack: ExitStack):
        """``opts``: a RenderOptions (stream/render/job.py)."""
        self.fragmented, self.codec = False, "h264"
        if is_sequence_output(opts.output):
            pattern = SequencePattern(opts.output)
            folder = stack.enter_context(AtomicFolder(pattern, opts.overwrite))
            self.writer = SequenceWriter(pattern, folder, opts.start_number)
            self.codec = pattern.extension.lstrip(".")
            return
        fmt = container_format(opts.output)
        codec = choose_codec(opts.codec, fmt)
        self.codec = codec.name
        partial = stack.enter_context(AtomicOutput(opts.output, opts.overwrite))
        self.fragmented = can_fragment(fmt) and (opts.fragmented if opts.fragmented is not None
                                                 else (decoder.duration or 0) > LONG_FILM_S)
        self.writer = FileEncoder(partial, fmt, decoder.container, decoder.video, decoder.copy_streams, opts.crf,
                                  opts.preset, options=FRAGMENTED if self.fragmented else None,
                                  rate=decoder.rate, ignore_errors=opts.ignore_errors, codec=codec,
                                  x264_params={"bf": "0"} if opts.video_only else None,
                                  colour=decoder.colour, timecode=timecode)

    @property
    def skipped(self) -> list[str]:
        left_out = getattr(self.writer, "left_out_packets", 0)
        return [f"sound and subtitles ({left_out} packets): an image sequence holds pictures only"] if left_out \
            else list(getattr(self.writer, "skipped", []))
