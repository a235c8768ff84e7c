"""File encoding: stylized Frames -> H.264 or a mezzanine codec (stream/media/codecs.py) in MP4, MKV, MOV or
MXF, in the source's colours (stream/media/colour.py) and from its timecode, with the source's audio and
subtitle packets copied untouched, and its metadata and chapters carried over."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av

from engines.errors import InputError, OutputError
from stream.core.frame import Frame, format_time
from stream.core.notes import note

from .codecs import CODECS, VideoCodec
from .colour import Colour
from .timecode import Timecode

FORMATS = {".mp4": "mp4", ".m4v": "mp4", ".mkv": "matroska", ".mov": "mov", ".mxf": "mxf"}
# format-specific tags that must not be carried from one container to another; the timecode is
# written afresh, for the output's first frame
_CONTAINER_TAGS = {"major_brand", "minor_version", "compatible_brands", "encoder", "creation_time", "timecode"}
_PCM = {"pcm_s16le", "pcm_s24le"}  # the sound MXF holds
# MPEG-TS has no codec tag table, so FFmpeg cannot list what it holds; these are what it carries
_TS_CODECS = {"aac", "aac_latm", "mp2", "mp3", "ac3", "eac3", "opus", "dts", "dvb_subtitle", "dvb_teletext"}
# MP4 and MOV keep every packet's index entry in memory until the end of the file (about 110 bytes
# a packet: +57 MiB over two hours with sound). Past this length a render writes fragments instead,
# each with its own index, and memory stays flat. MKV needs no such thing. delay_moov writes the
# header once the first fragment is known, so its edit list keeps every time exactly as in the source.
LONG_FILM_S = 30 * 60
FRAGMENTED = {"movflags": "frag_keyframe+delay_moov+default_base_moof"}
PRESETS = ("ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow")


def container_format(path: Path) -> str:
    """The muxer for an output path, by its extension."""
    fmt = FORMATS.get(path.suffix.lower())
    if fmt is None:
        raise OutputError(f"output must end in .mp4, .mkv, .mov or .mxf, or be an image sequence "
                          f"like out/%04d.png, got {path.name!r}")
    return fmt


def can_fragment(fmt: str) -> bool:
    return fmt in ("mp4", "mov")


def _copy_streams(out, fmt: str, streams) -> tuple[dict, list[str]]:
    """Output streams for the input's streams to copy (by input index), and those left out, with why.
    A sound the format cannot hold is an error: a render without its sound is not what was asked."""
    holds = {"mpegts": _TS_CODECS, "mxf": _PCM}.get(fmt) or out.supported_codecs
    stream_map, skipped = {}, []
    for stream in streams:
        if stream.codec_context is None:  # FFmpeg could not tell its codec (a damaged header)
            skipped.append(f"{stream.type} #{stream.index} (its codec is unknown: a damaged header?)")
            continue
        name = stream.codec_context.name
        if name not in holds:
            if stream.type == "audio":
                raise OutputError(f"{stream.type} codec {name} cannot be stored in {fmt} "
                                  "without re-encoding; choose .mkv or .mov")
            skipped.append(f"{stream.type} #{stream.index} ({name}: {fmt} cannot hold it)")
            continue
        out_stream = out.add_stream_from_template(stream)
        out_stream.metadata.update({k: v for k, v in stream.metadata.items() if k in ("language", "title")})
        stream_map[stream.index] = out_stream
    return stream_map, skipped


class FileEncoder:
    """Writes to ``path`` as ``fmt``. Video settings come from the first frame, so packets that
    arrive before it (audio that leads the picture) are held until the file header is written.

    ``source`` is the decoder's input container (metadata, chapters) and ``copy_streams`` its
    streams to copy; a live source may give neither. ``skipped`` lists the streams left out, each
    with why: the output format cannot hold it, or its codec is unknown (reported, not fatal).
    ``path`` may be a URL with ``options`` for its protocol. ``codec`` (H.264 by default) is written
    in ``colour`` (the source's; untagged BT.601 when not known, as FFmpeg reads untagged video)
    and, in MOV and MXF, from ``timecode``; ``crf``, ``preset`` and ``x264_params`` are H.264's.
    A :class:`Writer` (stream/media/writer.py).
    """

    first_number = last_number = None  # a picture sequence's numbers: a file has none

    def __init__(self, path: Path | str, fmt: str, source=None, video_stream=None, copy_streams=(), crf: int = 18,
                 preset: str = "faster", x264_params: dict | None = None, options: dict | None = None,
                 rate: float | None = None, ignore_errors: bool = False, codec: VideoCodec = CODECS["h264"],
                 colour: Colour | None = None, timecode: Timecode | None = None):
        self.path, self.source_video, self.fmt = path, video_stream, fmt
        # the source's tags and chapters, read now: a live source's container may be closed and
        # opened anew (a reconnect) before the first frame is written
        self.source_tags = {} if source is None else {k: v for k, v in source.metadata.items() if k not in _CONTAINER_TAGS}
        self.source_chapters = _chapters(source)
        self.codec, self.timecode = codec, timecode
        self.colour = (colour or Colour()).for_codec(codec.limited_only, codec.matrix)
        self.ignore_errors = ignore_errors
        self.dropped_packets = 0  # damaged packets of copied streams left out (ignore_errors)
        self.crf, self.preset, self.x264_params, self.rate = crf, preset, x264_params or {}, rate
        try:
            self.out = av.open(str(path), "w", format=fmt, options=options or {})
        except (av.error.FFmpegError, OSError) as exc:
            raise OutputError(f"cannot open output {path}: {getattr(exc, 'strerror', None) or exc}") from None
        self.video = None
        self._copying = False  # the video comes as packets (start_copy), not frames
        self.started_muxing = False
        self.frames = 0
        self.copied_packets = 0
        self._held: list[av.Packet] = []
        self.stream_map, self.skipped = _copy_streams(self.out, fmt, copy_streams)

    def _start(self, frame: Frame) -> None:
        h, w = (frame.yuv.height, frame.yuv.width) if frame.yuv is not None else frame.image.shape[:2]
        source_rate = self.source_video and (self.source_video.average_rate or self.source_video.guessed_rate)
        rate = Fraction(self.rate or source_rate or 25).limit_denominator(1001)
        video = self.out.add_stream(self.codec.encoder, rate=rate)
        video.width, video.height = w, h
        video.pix_fmt = self.pix_fmt = self.codec.pixel_format(frame.alpha is not None)
        video.time_base = video.codec_context.time_base = frame.time_base
        self.colour.tag(video.codec_context)
        if self.codec.encoder == "libx264":
            video.options = {"crf": str(self.crf), "preset": self.preset, **self.x264_params}
        else:
            video.options = dict(self.codec.options)
        self._describe(video)

    def start_copy(self, template) -> None:
        """Take the video as already-encoded packets shaped like ``template`` (a stream of a file
        stylecast wrote: the chunks of a cluster render), written with ``write_video_packet``."""
        self._copying = True
        self._describe(self.out.add_stream_from_template(template))

    def write_video_packet(self, packet: av.Packet) -> None:
        packet.stream = self.video
        self._mux(packet)
        self.frames += 1

    def _describe(self, video) -> None:
        """The output's tags, chapters and timecode, then the packets held for the header."""
        if self.source_video is not None and self.source_video.metadata.get("language"):
            video.metadata["language"] = self.source_video.metadata["language"]
        self.out.metadata.update(self.source_tags)
        if self.source_chapters:
            try:
                self.out.set_chapters(self.source_chapters)
            except (AttributeError, ValueError, av.error.FFmpegError):
                pass  # chapters are a courtesy; a format that cannot hold them keeps the rest
        self.out.metadata["encoder"] = "stylecast"
        if self.timecode is not None:  # MOV writes a tmcd track from it, MXF its timecode component
            video.metadata["timecode"] = self.out.metadata["timecode"] = str(self.timecode)
        self.video = video
        held, self._held = self._held, []
        for packet in held:
            self._mux_copy(packet)

    def _mux_copy(self, packet: av.Packet) -> None:
        out_stream = self.stream_map.get(packet.stream.index)
        if out_stream is None:
            return
        when = packet.pts * packet.time_base if packet.pts is not None and packet.time_base else None
        kind = out_stream.type
        packet.stream = out_stream
        if not self.started_muxing:
            self._mux(packet)  # the first packet writes the header: its failure is one clear error
            self.copied_packets += 1
            return
        try:
            self.out.mux(packet)
        except av.error.FFmpegError as exc:  # a damaged packet in the input's audio or subtitles
            if not self.ignore_errors:
                raise InputError(f"the input is damaged at {format_time(when)}: a {kind} packet there cannot be "
                                 f"copied ({exc.strerror or exc}); --ignore-errors leaves such packets out") from None
            self.dropped_packets += 1
            return
        self.copied_packets += 1

    def _mux(self, packets) -> None:
        """Mux; a failure to write the output's header (the first packets) becomes one clear error."""
        try:
            self.out.mux(packets)
        except av.error.FFmpegError as exc:
            if self.started_muxing:
                raise OutputError(f"writing {self.path} failed: {exc.strerror or exc}") from None
            raise InputError(f"cannot start the output: a stream copied from the input has damaged parameters "
                             f"({exc.strerror or exc})") from None
        if packets:
            self.started_muxing = True

    def yuv420_colour(self) -> Colour | None:
        """The colour a frame handed in as 4:2:0 (``Frame.yuv``) must be in; None where the codec
        takes another pixel format (a frame then comes as RGB)."""
        return self.colour if self.codec.pixel_format(False) == "yuv420p" else None

    def write(self, item: Frame | av.Packet) -> None:
        """Encode a stylized Frame, or copy a packet of another stream."""
        if isinstance(item, Frame):
            if self.video is None:
                self._start(item)
            frame = self.colour.video_frame(item, self.pix_fmt)
            frame.pts, frame.time_base = item.pts, item.time_base
            self._mux(self.video.encode(frame))
            self.frames += 1
        elif self.video is None:
            self._held.append(item)
        else:
            self._mux_copy(item)

    def finish(self) -> None:
        """Flush the encoder and write the trailer; the file is complete after this."""
        if self.video is None:
            raise OutputError("no video frame reached the encoder")
        if not self._copying:
            self._mux(self.video.encode())
        self.out.close()

    def abort(self) -> None:
        try:
            self.out.close()
        except Exception as exc:  # closing a half-written file may fail; the file is removed anyway
            note(f"closing the partial output failed: {exc}")


def _chapters(source) -> list:
    """A source container's chapters, or none (no source; PyAV or the format without them)."""
    try:
        return list(source.chapters()) if source is not None else []
    except (AttributeError, ValueError, av.error.FFmpegError):
        return []
