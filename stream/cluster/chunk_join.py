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

from stream.media.decode import FileDecoder, VideoFile
from stream.media.encode import FileEncoder

from .chunk_plan import Chunk


def _copy_packets(decoder: FileDecoder):
    """(seconds, packet) of the source's streams to copy, in file order."""
    if not decoder.copy_streams:
        return
    for packet in decoder.packets(decoder.copy_streams):
        if packet.dts is not None:
            yield float(packet.dts * packet.time_base), packet


def join_chunks(opts, source: Path, chunks: list[Chunk], files: list[Path]) -> tuple[FileEncoder, bool]:
    """Write ``opts.output`` (a RenderOptions') from the chunk ``files``; the writer (frames and
    packets written) and whether the output was written in fragments."""
    plan = opts.output_plan()
    with ExitStack() as stack:
        decoder = stack.enter_context(FileDecoder(source, ignore_errors=opts.ignore_errors))
        writer = plan.open(stack, decoder, decoder.timecode, overwrite=opts.overwrite, crf=opts.crf,
                           preset=opts.preset, ignore_errors=opts.ignore_errors)
        try:
            with VideoFile(files[0]) as first:
                writer.start_copy(first.video)
            sound = _copy_packets(decoder)
            waiting = next(sound, None)
            for chunk, path in zip(chunks, files):
                with VideoFile(path) as part:
                    shift = round(Fraction(chunk.start + decoder.start_time) / part.video.time_base)
                    for packet in part.packets([part.video]):
                        when = float(packet.pts * part.video.time_base) + chunk.start + decoder.start_time
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
        return writer, plan.fragments(decoder.duration)
