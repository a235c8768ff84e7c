"""The chunks of a cluster render joined into one output by stream copy, with the source's sound,
subtitles, chapters, metadata and timecode copied once, as a single render writes them.

Every chunk was encoded with the same settings and without B-frames (each packet's decode time is
its presentation time), so the packets follow each other in one stream. A chunk's times start at
0 at its first frame; each is put back at its place in the source (its start plus the source's
own start time), so every frame keeps its source time. The source's packets are interleaved by
time as they are read; the output appears only when complete (stream/media/output_file.py).
"""
from __future__ import annotations

from contextlib import ExitStack
from fractions import Fraction
from pathlib import Path

import av

from stream.media.decode import FileDecoder
from stream.render.render_output import RenderOutput

from .chunk_plan import Chunk


def _copy_packets(decoder: FileDecoder):
    """(seconds, packet) of the source's streams to copy, in file order."""
    if not decoder.copy_streams:
        return
    for packet in decoder.container.demux(decoder.copy_streams):
        if packet.size and packet.dts is not None:
            yield float(packet.dts * packet.time_base), packet


def join_chunks(opts, source: Path, chunks: list[Chunk], files: list[Path]):
    """Write ``opts.output`` from the chunk ``files``; returns the writer (frames and packets written)."""
    with ExitStack() as stack:
        decoder = FileDecoder(source, ignore_errors=opts.ignore_errors)
        stack.callback(decoder.close)
        output = RenderOutput(opts, decoder, decoder.timecode, stack)
        writer = output.writer
        try:
            with av.open(str(files[0])) as first:
                writer.start_copy(first.streams.video[0])
            sound = _copy_packets(decoder)
            waiting = next(sound, None)
            for chunk, path in zip(chunks, files):
                with av.open(str(path)) as part:
                    video = part.streams.video[0]
                    shift = round(Fraction(chunk.start + decoder.start_time) / video.time_base)
                    for packet in part.demux(video):
                        if not packet.size:
                            continue
                        when = float(packet.pts * video.time_base) + chunk.start + decoder.start_time
                        while waiting is not None and waiting[0] <= when:
                            writer.write(waiting[1])
                            waiting = next(sound, None)
                        packet.pts += shift
                        packet.dts = packet.pts
                        writer.write_video_packet(packet)
            while waiting is not None:
                writer.write(waiting[1])
                waiting = next(sound, None)
            writer.finish()
        except BaseException:
            writer.abort()
            raise
        return output
