"""File decoding: a media file -> Frames (video, RGB at the output size, upright) and the other
streams' packets, in demux order, so the encoder can copy sound and subtitles untouched."""
from __future__ import annotations

from fractions import Fraction
from pathlib import Path
from typing import Iterator

import av
import numpy as np

from engines.errors import InputError

from .frame import Frame, format_time

COPY_TYPES = ("audio", "subtitle")
MIN_SIDE = 32


def output_size(width: int, height: int, max_side: int | None) -> tuple[int, int]:
    """Fit (width, height) into ``max_side`` (pixels, longer side) and round both to even numbers."""
    scale = min(1.0, max_side / max(width, height)) if max_side else 1.0
    w, h = max(2, int(width * scale / 2) * 2), max(2, int(height * scale / 2) * 2)  # never above the limit
    return w, h


def upright_rgb(frame: av.VideoFrame, max_side: int | None) -> np.ndarray:
    """A decoded picture as uint8 RGB H x W x 3: display rotation applied, fitted into ``max_side``."""
    rotation = int(round((frame.rotation or 0) / 90)) % 4
    w, h = output_size(frame.width, frame.height, max_side)
    if rotation % 2:  # the size limit applies to the upright picture
        h, w = output_size(frame.height, frame.width, max_side)
    image = frame.to_ndarray(width=w, height=h, format="rgb24", interpolation="AREA")
    return np.ascontiguousarray(np.rot90(image, rotation)) if rotation else image


def open_media(path: Path):
    """Open a media file for reading, turning every way it can fail into one InputError line."""
    if not path.exists():
        raise InputError(f"input not found: {path}")
    if path.is_dir():
        raise InputError(f"input is a folder, not a video file: {path}")
    try:
        return av.open(str(path), metadata_errors="replace")
    except PermissionError:
        raise InputError(f"input is not readable (permission denied): {path}") from None
    except av.error.FFmpegError as exc:
        raise InputError(f"{path.name} is not a video file or is damaged ({exc.strerror})") from None


class FileDecoder:
    """Yields :class:`Frame` for each decoded video picture and ``av.Packet`` for each packet of
    the streams to copy (audio, subtitles), in the order the file holds them.

    Damage: a packet that fails to decode raises InputError naming the time where decoding broke,
    or with ``ignore_errors`` is counted in ``lost`` and skipped. A file that ends before its own
    stated duration is damage too.
    """

    def __init__(self, path: Path, max_side: int | None = None, ignore_errors: bool = False):
        self.path, self.max_side, self.ignore_errors = path, max_side, ignore_errors
        self.container = open_media(path)
        if not self.container.streams.video:
            self.container.close()
            raise InputError(f"{path.name} has no video stream")
        self.video = self.container.streams.video[0]
        if self.video.codec_context is None:  # FFmpeg could not tell the codec: the header is damaged
            self.container.close()
            raise InputError(f"{path.name} is damaged: the codec of its video stream cannot be told")
        self.video.thread_type = "AUTO"
        self.copy_streams = [s for s in self.container.streams if s.type in COPY_TYPES]
        self.lost = 0
        self.decoded = 0
        self.latest_time: float | None = None  # the latest video presentation time decoded so far (s)
        self._latest_end = 0.0  # the latest end time (s) of any stream's packet: where the file really stops
        cc = self.video.codec_context
        if cc.width and cc.height and min(cc.width, cc.height) < MIN_SIDE:
            raise InputError(f"{path.name} is {cc.width}x{cc.height}; both sides need at least {MIN_SIDE} pixels")

    @property
    def expected_frames(self) -> int | None:
        """How many frames the file says it holds (for progress), or None when unknown."""
        if self.video.frames:
            return self.video.frames
        duration = self.duration
        rate = self.video.average_rate or self.video.guessed_rate
        return int(round(duration * rate)) if duration and rate else None

    @property
    def duration(self) -> float | None:
        """How long the file says it lasts (s), or None when unknown."""
        if self.video.duration and self.video.time_base:
            return float(self.video.duration * self.video.time_base)
        if self.container.duration:
            return self.container.duration / av.time_base
        return None

    def _damage(self, exc: Exception, where: float | None) -> None:
        if not self.ignore_errors:
            raise InputError(f"{self.path.name} is damaged: decoding broke at {format_time(where)} "
                             f"(frame {self.decoded}): {getattr(exc, 'strerror', None) or exc}; "
                             "--ignore-errors renders what can be read") from None
        self.lost += 1

    def _frame(self, frame: av.VideoFrame) -> Frame:
        pts = frame.pts if frame.pts is not None else frame.dts
        out = Frame(upright_rgb(frame, self.max_side), pts, Fraction(frame.time_base or self.video.time_base),
                    self.decoded)
        self.decoded += 1
        if out.time is not None and (self.latest_time is None or out.time > self.latest_time):
            self.latest_time = out.time
        return out

    def __iter__(self) -> Iterator[Frame | av.Packet]:
        last_time: float | None = 0.0
        demux = self.container.demux([self.video, *self.copy_streams])
        while True:
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
                    yield packet
                continue
            if packet.pts is not None:
                last_time = float(packet.pts * packet.time_base)
            try:
                frames = packet.decode()
            except av.error.FFmpegError as exc:
                self._damage(exc, last_time)
                continue
            for frame in frames:
                yield self._frame(frame)
        self._check_complete(self.latest_time)

    def _check_complete(self, last_time: float | None) -> None:
        """A file whose streams all stop well before the duration its header states was cut short."""
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

    def close(self) -> None:
        self.container.close()
