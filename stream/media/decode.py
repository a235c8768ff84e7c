"""File decoding: a media file -> Frames (video, RGB at the output size, upright, converted with the
source's own colour matrix and range) and the other streams' packets, in demux order, so the
encoder can copy sound and subtitles untouched. A time range (``select``) starts from the keyframe
before it and leaves out what is not needed; times then count from the range's first frame."""
from __future__ import annotations

import math
from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import cv2
import numpy as np

from engines.errors import InputError, StylecastError
from stream.core.frame import Frame, Yuv420, format_time

from .colour import Colour, to_rgb
from .range_cut import RangeCut
from .time_range import Place, TimeRange
from .timecode import Timecode

COPY_TYPES = ("audio", "subtitle")
YUV420 = ("yuv420p", "yuvj420p", "nv12")  # 8-bit 4:2:0: what the device path takes as it is
SEEK_AFTER = 50  # frames: a picture further in than this is read from the keyframe before it
MIN_SIDE = 32
# Tags that are not valid UTF-8 (a camera's Latin-1 title) must not stop a file from opening. PyAV
# before 19 decodes tags with one codec per file, strictly unless told: "replace" turns bad bytes
# into U+FFFD. PyAV 19 took the argument away and always reads tags as UTF-8 with surrogateescape,
# which opens such a file and writes the tag back byte for byte.
PYAV_MAJOR = int(av.__version__.split(".")[0])
_READ_OPTIONS = {"metadata_errors": "replace"} if PYAV_MAJOR < 19 else {}


def output_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """Fit (width, height) into ``max_side`` (pixels, longer side) and round both to even numbers."""
    scale = min(1.0, max_side / max(width, height)) if max_side else 1.0
    w, h = max(2, int(width * scale / 2) * 2), max(2, int(height * scale / 2) * 2)  # never above the limit
    return w, h


def stream_size(video, max_side: int | None) -> tuple[int, int] | None:
    """The size a video stream's frames come out at here, fitted into ``max_side`` (before any display
    rotation), where the stream says its size."""
    cc = video.codec_context
    return output_size(cc.width, cc.height, max_side) if cc is not None and cc.width and cc.height else None


def upright_rgb(frame: av.VideoFrame, max_side: int | None) -> np.ndarray:
    """A decoded picture as uint8 RGB H x W x 3: display rotation applied, fitted into ``max_side``."""
    return upright_rgba(frame, max_side, keep_alpha=False)[0]


def upright_rgba(frame: av.VideoFrame, max_side: int | None, keep_alpha: bool) -> tuple[np.ndarray, np.ndarray | None]:
    """(RGB, alpha or None) of a decoded picture, upright and fitted into ``max_side``."""
    rotation = int(round((frame.rotation or 0) / 90)) % 4
    w, h = output_size(frame.width, frame.height, max_side)
    if rotation % 2:  # the size limit applies to the upright picture
        h, w = output_size(frame.height, frame.width, max_side)
    image, alpha = to_rgb(frame, w, h, keep_alpha)
    if rotation:
        image = np.ascontiguousarray(np.rot90(image, rotation))
        alpha = None if alpha is None else np.ascontiguousarray(np.rot90(alpha, rotation))
    return image, alpha


def picture(frame: av.VideoFrame, max_side: int | None, keep_alpha: bool = False, yuv: bool = False) -> dict:
    """What a :class:`Frame` holds of a decoded picture: upright RGB fitted into ``max_side`` (and
    its alpha); or, for the device path (``yuv``: stream/framepath/), an 8-bit 4:2:0 picture's planes
    as they are, to be turned and fitted there; or NVDEC's picture still on the GPU (``gpu_frame``:
    the decoder's own frame, whose planes the device path copies out, stream/framepath/transfer.py)."""
    rotation = int(round((frame.rotation or 0) / 90)) % 4
    if yuv and frame.format.name == "cuda":
        return {"image": None, "gpu_frame": frame, "rotation": rotation}
    if yuv and frame.format.name in YUV420 and frame.width % 2 == 0 and frame.height % 2 == 0:
        layout = "nv12" if frame.format.name == "nv12" else "yuv420p"
        return {"image": None, "yuv": Yuv420(frame.to_ndarray(), frame.width, frame.height, layout),
                "rotation": rotation}
    image, alpha = upright_rgba(frame, max_side, keep_alpha)
    return {"image": image, "alpha": alpha}


def read_timecode(container, video) -> Timecode | None:
    """The start timecode a file carries (a MOV/MXF ``tmcd`` track, or a ``timecode`` tag), or None."""
    rate = video.average_rate or video.guessed_rate or 25
    for where in (video, *container.streams.data, container):
        text = where.metadata.get("timecode")
        if text:
            try:
                return Timecode.parse(text, Fraction(rate))
            except StylecastError:
                return None  # a label that does not parse is not worth failing a render over
    return None


def open_media(path: Path, hwaccel=None):
    """Open a media file for reading, turning every way it can fail into one InputError line. The
    one ``av.open`` of a file to read in stylecast (a network source's is ``open_url``).
    ``hwaccel``: PyAV's settings for decoding on a GPU (NVDEC), where that is wanted."""
    if not path.exists():
        raise InputError(f"input not found: {path}")
    if path.is_dir():
        raise InputError(f"input is a folder, not a video file: {path}")
    try:
        return av.open(str(path), hwaccel=hwaccel, **_READ_OPTIONS) if hwaccel else av.open(str(path), **_READ_OPTIONS)
    except PermissionError:
        raise InputError(f"input is not readable (permission denied): {path}") from None
    except av.error.FFmpegError as exc:
        raise InputError(f"{path.name} is not a video file or is damaged ({exc.strerror})") from None


def open_url(url: str, options: dict, timeout: tuple[float, float]):
    """Open a network source (``udp://``, ``rtsp://`` ...) for reading; its errors are the caller's,
    whose reconnect policy decides what they mean (stream/live/sources.py)."""
    return av.open(url, options=options, timeout=timeout, **_READ_OPTIONS)


def nvdec_usable() -> bool:
    """Whether this PyAV can ask FFmpeg for NVDEC (whether a GPU answers is known only on opening)."""
    try:
        from av.codec.hwaccel import hwdevices_available
    except ImportError:
        return False
    return "cuda" in hwdevices_available()


def _nvdec(on_gpu: bool = False):
    """PyAV's NVDEC settings; ``on_gpu``: its pictures stay on the GPU (``is_hw_owned``), for the
    device path to take as they are, with no copy through the host."""
    from av.codec.hwaccel import HWAccel

    return HWAccel(device_type="cuda", allow_software_fallback=True, is_hw_owned=on_gpu)


def luma(frame: av.VideoFrame, width: int, height: int) -> np.ndarray:
    """A decoded picture's luma at width x height: its Y plane where it has one (no colour conversion)."""
    if frame.format.name.startswith(("yuv", "yuvj", "nv12", "gray")) and len(frame.planes) >= 1:
        plane = frame.planes[0]
        deep = frame.format.components[0].bits > 8
        y = np.frombuffer(plane, np.uint16 if deep else np.uint8).reshape(-1, plane.line_size // (2 if deep else 1))
        y = y[:frame.height, :frame.width]
        if deep:
            y = (y >> (frame.format.components[0].bits - 8)).astype(np.uint8)
        return cv2.resize(y, (width, height), interpolation=cv2.INTER_AREA)
    return frame.to_ndarray(width=width, height=height, format="gray")


class VideoFile:
    """A media file opened for its first video stream: what it says about itself (rate, start,
    duration, colour, timecode) and its packets, read without decoding a picture. Checked as it
    opens: one InputError line for a file with no video, a damaged header, or a picture too small.
    ``FileDecoder`` decodes it into frames."""

    def __init__(self, path: Path, hwaccel=None):
        self.path = path
        self.container = open_media(path, hwaccel)
        if not self.container.streams.video:
            self.container.close()
            raise InputError(f"{path.name} has no video stream")
        self.video = self.container.streams.video[0]
        cc = self.video.codec_context
        if cc is None:  # FFmpeg could not tell the codec: the header is damaged
            self.container.close()
            raise InputError(f"{path.name} is damaged: the codec of its video stream cannot be told")
        if cc.width and cc.height and min(cc.width, cc.height) < MIN_SIDE:
            self.container.close()
            raise InputError(f"{path.name} is {cc.width}x{cc.height}; both sides need at least {MIN_SIDE} pixels")
        self.video.thread_type = "AUTO"
        self.colour = Colour.of_stream(cc)
        self.timecode = read_timecode(self.container, self.video)

    @property
    def rate(self) -> Fraction:
        return Fraction(self.video.average_rate or self.video.guessed_rate or 25)

    @property
    def start_time(self) -> float:
        """The first frame's time in the file (s): where a range's seconds count from."""
        if self.video.start_time is not None and self.video.time_base:
            return float(self.video.start_time * self.video.time_base)
        return 0.0

    @property
    def duration(self) -> float | None:
        """How long the file says it lasts (s), or None when unknown."""
        if self.video.duration and self.video.time_base:
            return float(self.video.duration * self.video.time_base)
        if self.container.duration:
            return self.container.duration / av.time_base
        return None

    def packets(self, streams) -> Iterator[av.Packet]:
        """The packets of ``streams`` (of this file) that carry data, in file order."""
        try:
            for packet in self.container.demux(list(streams)):
                if packet.size and (packet.pts is not None or packet.dts is not None):
                    yield packet
        except av.error.FFmpegError as exc:
            raise InputError(f"{self.path.name} is damaged: {exc.strerror}") from None

    def frame_times(self) -> list[float]:
        """Every frame's time in seconds from the first, from the packets alone (no decoding)."""
        stamps = sorted(p.pts if p.pts is not None else p.dts for p in self.packets([self.video]))
        if not stamps:
            raise InputError(f"no video frame could be read from {self.path.name}")
        return [float((s - stamps[0]) * self.video.time_base) for s in stamps]

    def greys(self, width: int) -> Iterator[np.ndarray]:
        """Every picture's luma, ``width`` pixels wide and upright (no colour conversion: cut finding)."""
        cc = self.video.codec_context
        if not (cc.width and cc.height):
            raise InputError(f"{self.path.name} is damaged: the size of its video cannot be told")
        height = max(8, round(width * cc.height / cc.width))
        try:
            for packet in self.container.demux(self.video):
                for frame in packet.decode():
                    yield _upright(luma(frame, width, height), frame)
        except av.error.FFmpegError as exc:
            raise InputError(f"{self.path.name} is damaged: decoding broke ({exc.strerror})") from None

    def close(self) -> None:
        self.container.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _upright(image: np.ndarray, frame: av.VideoFrame) -> np.ndarray:
    rotation = int(round((frame.rotation or 0) / 90)) % 4
    return np.ascontiguousarray(np.rot90(image, rotation)) if rotation else image


class FileDecoder(VideoFile):
    """Yields :class:`Frame` for each decoded video picture and ``av.Packet`` for each packet of
    the streams to copy (audio, subtitles), in the order the file holds them: a :class:`Decoder`
    (stream/media/decoder.py).

    Damage: a packet that fails to decode raises InputError naming the time where decoding broke,
    or with ``ignore_errors`` is counted in ``lost`` and skipped. A file that ends before its own
    stated duration is damage too. ``keep_alpha`` carries the source's alpha plane on each Frame.
    """

    sequence = None  # a numbered picture sequence's decoder has one

    def __init__(self, path: Path, max_side: int | None = None, ignore_errors: bool = False, keep_alpha: bool = False,
                 timecode: str | None = None, yuv: bool = False, nvdec: bool = False):
        self.nvdec = nvdec and nvdec_usable()
        try:
            super().__init__(path, _nvdec(on_gpu=yuv and not keep_alpha) if self.nvdec else None)
        except InputError:
            if not self.nvdec:
                raise
            self.nvdec = False  # a GPU decoder that cannot start: the CPU's, as any other file
            super().__init__(path)
        self.max_side, self.ignore_errors, self.keep_alpha = max_side, ignore_errors, keep_alpha
        self.yuv = yuv and not keep_alpha
        if timecode is not None:  # --timecode: the start timecode to write instead of the file's own
            self.timecode = Timecode.parse(timecode, self.rate)
        self.copy_streams = [s for s in self.container.streams if s.type in COPY_TYPES]
        self.lost = 0
        self.decoded = 0
        self.latest_time: float | None = None  # the latest video presentation time decoded so far (s)
        self._latest_end = 0.0  # the latest end time (s) of any stream's packet: where the file really stops
        self.span = TimeRange()
        self._origin = 0.0  # source seconds of the range's first frame: where output times start
        self.first_index = 0  # the range's first frame, counted in frames from the source's first
        self._inside = 0

    @property
    def output_size(self) -> tuple[int, int] | None:
        """(width, height) its frames come out at, fitted into ``max_side`` (a display rotation the
        frames carry turns them after), or None where the stream does not say."""
        return stream_size(self.video, self.max_side)

    @property
    def expected_frames(self) -> int | None:
        """How many frames the render will write (for progress), or None when unknown."""
        if not self.span.whole:
            return self.span.frames(self.rate, self.duration)
        if self.video.frames:
            return self.video.frames
        duration = self.duration
        return int(round(duration * self.rate)) if duration else None

    def select(self, span: TimeRange) -> None:
        """Decode only ``span`` (seconds from the first frame) and the warm-up before it."""
        self.span = span
        self.first_index = math.ceil(span.start * self.rate - 1e-6)
        first = span.start - span.warmup
        if first > 0:  # to the keyframe at or before the first frame needed
            target = int((first + self.start_time) / self.video.time_base)
            try:
                self.container.seek(target, stream=self.video, backward=True)
            except av.error.FFmpegError as exc:
                raise InputError(f"{self.path.name} cannot be read from {format_time(first)}: {exc.strerror}") from None

    def source_index(self, frame: Frame) -> int:
        """A frame's place in the source, counted from its first frame (a warm-up frame: the range's first)."""
        return self.first_index if frame.number is None else frame.number

    def frames_at(self, indexes: set[int]) -> dict[int, np.ndarray]:
        """The pictures at ``indexes`` (from the first frame), as this decoder gives them: a second
        pass over the file, from the keyframe before the first one wanted when that is more than
        SEEK_AFTER frames in (as a ``--from`` range reads: frames counted by their time), and
        stopping after the last one wanted."""
        with FileDecoder(self.path, self.max_side, ignore_errors=True) as again:
            first = min(indexes, default=0)
            if first > SEEK_AFTER:
                again.select(TimeRange(start=first / float(again.rate)))
            return collect_frames(again, indexes)

    def _damage(self, exc: Exception, where: float | None) -> None:
        if not self.ignore_errors:
            raise InputError(f"{self.path.name} is damaged: decoding broke at {format_time(where)} "
                             f"(frame {self.decoded}): {getattr(exc, 'strerror', None) or exc}; "
                             "--ignore-errors renders what can be read") from None
        self.lost += 1

    def _frame(self, frame: av.VideoFrame, place: Place) -> Frame:
        pts = frame.pts if frame.pts is not None else frame.dts
        time_base = Fraction(frame.time_base or self.video.time_base)
        if pts is not None and not self.span.whole:
            pts -= round((self._origin + self.start_time) / time_base)
        out = Frame(pts=pts, time_base=time_base, index=self.decoded, warmup=place is Place.WARMUP,
                    **picture(frame, self.max_side, self.keep_alpha, self.yuv))
        if place is Place.INSIDE:  # its number in an image sequence out: its place in the source
            out.number = self.first_index + self._inside
            self._inside += 1
        self.decoded += 1
        if out.time is not None and (self.latest_time is None or out.time > self.latest_time):
            self.latest_time = out.time
        return out

    def _when(self, frame: av.VideoFrame) -> float | None:
        """A frame's time from the source's first frame (s)."""
        return None if frame.time is None else frame.time - self.start_time

    def __iter__(self) -> Iterator[Frame | av.Packet]:
        last_time: float | None = 0.0
        demux = self.container.demux([self.video, *self.copy_streams])
        cut = RangeCut(self.span, self.start_time, self.copy_streams)
        while not cut.finished:
            try:
                packet = next(demux)
            except StopIteration:
                break
            except av.error.FFmpegError as exc:
                self._damage(exc, last_time)
                break  # the demuxer cannot go on after a read error
            if packet.pts is not None and packet.time_base:
                end = float((packet.pts + (packet.duration or 0)) * packet.time_base)
                self._latest_end = max(self._latest_end, end)
            if packet.stream is not self.video:
                if packet.size and packet.dts is not None:
                    yield from cut.packet(packet)
                continue
            if packet.pts is not None:
                last_time = float(packet.pts * packet.time_base)
            try:
                frames = packet.decode()
            except av.error.FFmpegError as exc:
                self._damage(exc, last_time)
                continue
            for frame in frames:
                place = self.span.place(self._when(frame))
                if place is Place.INSIDE and cut.origin is None:
                    self._origin = self._when(frame) or 0.0
                    yield self._frame(frame, place)
                    yield from cut.opened(self._origin)
                elif place in (Place.INSIDE, Place.WARMUP):
                    yield self._frame(frame, place)
                elif place is Place.AFTER:
                    cut.video_done = True
        if self.span.whole:
            _check_complete(self, self.latest_time)
        elif self.decoded == 0:
            raise InputError(f"no video frame could be decoded from {self.path.name} in the range asked for")


def collect_frames(decoder, indexes: set[int]) -> dict[int, np.ndarray]:
    """The pictures of ``decoder`` (read from its start) at ``indexes``, counted as ``source_index``
    counts them; reading stops after the last one wanted."""
    out: dict[int, np.ndarray] = {}
    last = max(indexes, default=-1)
    for item in decoder:
        if isinstance(item, Frame):
            index = decoder.source_index(item)
            if index in indexes:
                out[index] = item.image
            if index >= last:
                break
    return out


def _check_complete(self: FileDecoder, last_time: float | None) -> None:
    """A file whose streams all stop well before the duration its header states was cut short: an
    error naming where it ends, or (``ignore_errors``) the missing frames counted as lost."""
    if self.decoded == 0:
        raise InputError(f"no video frame could be decoded from {self.path.name}")
    duration = self.duration
    rate = float(self.video.average_rate or 25)
    if self.video.frames:
        missing = self.video.frames - self.decoded - self.lost
    elif duration:
        missing = int((duration - self._latest_end) * rate) if self._latest_end + max(0.5, 3 / rate) < duration else 0
    else:
        missing = 0
    if missing <= 0:
        return
    self.lost += missing
    if not self.ignore_errors:
        raise InputError(f"{self.path.name} is damaged: it ends at {format_time(last_time)} of "
                         f"{format_time(duration)} (frame {self.decoded}); "
                         "--ignore-errors renders what can be read")
