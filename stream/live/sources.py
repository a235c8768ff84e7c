"""Live sources: each yields Frames (upright RGB, with the source's timestamps) and, where the
source has sound, its audio packets, until ``stop`` is set.

- ``testsrc``: the built-in moving test scene, generated in real time (the default).
- a file: played in real time, ``loop`` to start again at the end.
- ``srt://``: through an ``srt-live-transmit`` relay to a UDP port on loopback (stream/links/srt_relay.py),
  then read as ``udp://``.
- ``udp://``, ``rtsp://``, ``rtmp://``, ``http(s)://``: opened with open/read timeouts; a
  source that stalls or drops is reopened until it returns or ``stop`` is set, while the sink keeps
  running. A UDP source is listened for again at once (listening sends nothing); the others are
  called again after a pause of 0.25 s doubling to 1 s, so a server is not hammered and a source
  that returns is picked up within about 2 s, however long it was gone. A UDP (and so an SRT)
  source starts at the live edge and goes back there: what queued while the job opened or fell
  behind is decoded but skipped, with its sound (stream/live/live_edge.py).
- ``/dev/videoN``: a V4L2 camera through OpenCV (PyAV's wheels carry no V4L2 demuxer).
- ``ndi://NAME`` or ``ndi://HOST:PORT``: an NDI sender (stream/links/ndi.py).
"""
from __future__ import annotations

import threading
import time
from fractions import Fraction
from pathlib import Path
from typing import Iterator, Protocol, Sequence, Union

import av

from engines.errors import InputError
from stream.core.frame import Frame
from stream.links.srt_relay import SrtRelay
from stream.media.colour import Colour
from stream.media.decode import FileDecoder, open_url, output_size, picture, stream_size
from stream.media.testsrc import TestScene

from .adts import split_adts
from .live_edge import LiveEdge

NETWORK_SCHEMES = ("udp", "srt", "rtsp", "rtmp", "http", "https", "tcp")
# what a network source (and anything it names, as a playlist does) may open: never file:, concat:,
# data:, subfile: or pipe:, so a remote playlist cannot make stylecast read local files
NETWORK_PROTOCOLS = "http,https,tcp,tls,crypto,httpproxy,udp,rtp,srtp,srt,rtsp,rtsps,rtmp,rtmps,rtmpt"
OPEN_TIMEOUT_S = 5.0    # the first open: a source that is not there is reported after this
REOPEN_TIMEOUT_S = 1.0  # each reconnect attempt: short, so a stop is seen within a second
READ_TIMEOUT_S = 1.5    # a stall is noticed after this; also bounds how long a stop waits on a read
RETRY_PAUSE_S = (0.25, 1.0)  # between calls to a server that is gone: first pause, longest pause
# how FFmpeg words an open that ran out of time (PyAV's timeout interrupts it: "Immediate exit requested")
_TIMED_OUT = ("timed out", "immediate exit requested")


Item = Union[Frame, av.Packet]  # a picture, or a sound packet to pass through untouched


class Source(Protocol):
    """What a live job reads. Iterating yields frames and sound packets until the source ends or
    ``stop`` is set; ``container`` and ``copy_streams`` tell a sink how to copy the sound."""

    container: av.container.InputContainer | None  # where ``copy_streams`` come from; None without sound
    copy_streams: Sequence[av.stream.Stream]         # streams whose packets pass through (sound)
    reconnects: int                                  # times a network source was opened again
    behind: int                                      # frames skipped as read from behind the live edge
    size: tuple[int, int] | None                     # (width, height) the frames will have, where known
    colour: Colour                                   # how a frame's 4:2:0 picture (``Frame.yuv``) is encoded

    def __iter__(self) -> Iterator[Item]: ...


class TestSource:
    """The built-in scene at ``fps``, paced to the wall clock."""

    container, copy_streams, behind, colour = None, (), 0, Colour()

    def __init__(self, width: int = 640, height: int = 360, fps: float = 25.0, stop: threading.Event | None = None):
        self.scene, self.fps, self.stop = TestScene(width, height), fps, stop or threading.Event()
        self.reconnects, self.size = 0, (width, height)

    def __iter__(self) -> Iterator[Frame]:
        start, i = time.monotonic(), 0
        time_base = Fraction(1, 90000)
        while not self.stop.is_set():
            due = start + i / self.fps
            if (wait := due - time.monotonic()) > 0:
                self.stop.wait(wait)
            yield Frame(self.scene.frame(i / self.fps), round(i / self.fps / time_base), time_base, i)
            i += 1


class FileSource:
    """A media file played at its own pace; ``loop`` restarts it, timestamps running on."""

    behind = 0

    def __init__(self, path: Path, max_side: int | None, loop: bool = False, stop: threading.Event | None = None,
                 yuv: bool = False):
        self.path, self.max_side, self.loop, self.stop, self.yuv = path, max_side, loop, stop or threading.Event(), yuv
        self.decoder = FileDecoder(path, max_side, ignore_errors=True, yuv=yuv)  # fails now (exit 2) if unreadable
        self.copy_streams, self.container, self.colour = self.decoder.copy_streams, self.decoder.container, self.decoder.colour
        self.reconnects, self.size = 0, self.decoder.output_size

    def __iter__(self):
        offset_s, start = 0.0, time.monotonic()
        while not self.stop.is_set():
            end = offset_s
            for item in self.decoder:
                if self.stop.is_set():
                    return
                if isinstance(item, Frame):
                    t = (item.time or 0.0) + offset_s
                    if (wait := start + t - time.monotonic()) > 0:
                        self.stop.wait(wait)
                    item.pts += round(offset_s / item.time_base)
                    end = max(end, t)
                yield item
            if not self.loop:
                return
            self.decoder.close()
            self.decoder = FileDecoder(self.path, self.max_side, ignore_errors=True, yuv=self.yuv)
            offset_s = end + 1 / float(self.decoder.video.average_rate or 25)


class UrlSource:
    """A network stream, reopened when it stalls or ends (UDP at once, servers after a short pause)."""

    def __init__(self, url: str, max_side: int | None, stop: threading.Event | None = None,
                 open_timeout: float = OPEN_TIMEOUT_S, read_timeout: float = READ_TIMEOUT_S, yuv: bool = False):
        self.url, self.max_side, self.stop, self.yuv = url, max_side, stop or threading.Event(), yuv
        self.timeouts = (open_timeout, read_timeout)
        self.edge = LiveEdge() if url.startswith("udp:") else None  # what queued in the socket is skipped
        self.reconnects = 0
        self.last_error = ""
        self.container = self._open()
        if self.container is None:
            timed_out = not self.last_error or any(w in self.last_error.lower() for w in _TIMED_OUT)
            why = f"nothing arrived within {open_timeout:g} s" if timed_out else self.last_error
            raise InputError(f"cannot open {url}: {why}")
        self.copy_streams = [s for s in self.container.streams if s.type == "audio"]
        self.size = stream_size(self.container.streams.video[0], max_side)
        self.colour = Colour.of_stream(self.container.streams.video[0].codec_context)

    def _open(self, open_timeout: float | None = None):
        options = {}
        if self.url.startswith("udp:"):  # MPEG-TS, a frame per PES: no parser to hold each frame until
            # the next one starts (40 ms at 25 fps; the sound is split into frames by stream/live/adts.py)
            options = {"overrun_nonfatal": "1", "fifo_size": "1000000", "fflags": "+noparse",
                       "fpsprobesize": "0"}  # no 20 frames read to guess the rate (the sink has --fps)
        options["protocol_whitelist"] = NETWORK_PROTOCOLS
        if self.url.startswith("rtsp:"):
            options["rtsp_transport"] = "tcp"
        try:
            timeouts = self.timeouts if open_timeout is None else (open_timeout, self.timeouts[1])
            container = open_url(self.url, options, timeouts)
        except (av.error.FFmpegError, OSError) as exc:
            self.last_error = str(getattr(exc, "strerror", None) or exc)
            return None
        if not container.streams.video:
            container.close()
            raise InputError(f"{self.url} carries no video stream")
        container.streams.video[0].thread_type = "SLICE"  # frame threading would hold frames back
        return container

    def _pause(self, attempt: int) -> float:
        """Seconds to wait before reconnect attempt ``attempt`` (0-based)."""
        if self.url.startswith("udp:"):
            return 0.0
        first, longest = RETRY_PAUSE_S
        return min(longest, first * 2 ** attempt)

    @property
    def behind(self) -> int:
        return self.edge.skipped if self.edge else 0

    def __iter__(self):
        index = 0
        while not self.stop.is_set():
            video = self.container.streams.video[0]
            frame_s = 1 / float(video.average_rate or video.guessed_rate or 25)
            try:
                for packet, waited in _timed(self.container.demux([video, *self.copy_streams])):
                    if self.stop.is_set():
                        return
                    if packet.stream is not video:
                        if packet.size and packet.dts is not None and not (self.edge and self.edge.skipping):
                            yield from split_adts(packet)
                        continue
                    demuxed_at = time.monotonic()
                    for frame in _decoded(packet):
                        if self.edge and frame.time is not None and self.edge.behind(frame.time, demuxed_at, waited, frame_s):
                            continue  # decoded, for the frames after it, but too late to show
                        yield Frame(pts=frame.pts, time_base=Fraction(frame.time_base), index=index, demuxed_at=demuxed_at,
                                    **picture(frame, self.max_side, yuv=self.yuv))
                        index += 1
            except (av.error.FFmpegError, OSError):
                pass  # a stall (read timeout) or a broken stream: reopen below
            self.container.close()
            self.container = None
            attempt = 0
            while self.container is None and not self.stop.is_set():
                self.reconnects += 1
                self.stop.wait(self._pause(attempt))
                attempt += 1
                self.container = self._open(REOPEN_TIMEOUT_S)
            if self.container is not None:
                self.copy_streams = [s for s in self.container.streams if s.type == "audio"]
                if self.edge:
                    self.edge.reopened()


def _decoded(packet: av.Packet) -> list[av.VideoFrame]:
    """The frames of a live stream's video packet; none for one the decoder refuses (a stream
    joined between keyframes refers to pictures it never had): the next keyframe mends it, where
    reopening the stream would only join it between keyframes again."""
    try:
        return packet.decode()
    except av.error.InvalidDataError:
        return []


def _timed(packets: Iterator[av.Packet]) -> Iterator[tuple[av.Packet, float]]:
    """Each packet with how long reading waited for it since the last video packet (seconds): a
    packet that was already queued comes at once."""
    waited = 0.0
    while True:
        asked = time.monotonic()
        packet = next(packets, None)
        if packet is None:
            return
        waited += time.monotonic() - asked
        yield packet, waited
        if packet.stream.type == "video":
            waited = 0.0


class SrtSource(UrlSource):
    """``srt://``: SRT relayed to UDP on loopback by ``srt-live-transmit``, read as a UDP source.
    ``close`` stops the relay."""

    def __init__(self, url: str, max_side: int | None, stop: threading.Event | None = None, yuv: bool = False):
        self.relay = SrtRelay(url, into_udp=True)
        try:
            super().__init__(self.relay.udp_url, max_side, stop, yuv=yuv)
        except InputError as exc:
            self.relay.close()
            raise InputError(str(exc).replace(self.relay.udp_url, url.split("?")[0])) from None
        self.srt_url = url

    def close(self) -> None:
        self.relay.close()


class CameraSource:
    """A V4L2 camera through OpenCV; frames are timed by the capture clock (1/1000 s)."""

    container, copy_streams, behind, colour = None, (), 0, Colour()

    def __init__(self, device: str, width: int | None, height: int | None, fps: float | None,
                 fourcc: str | None = None, stop: threading.Event | None = None):
        import cv2

        self.stop, self.reconnects = stop or threading.Event(), 0
        if not Path(device).exists():
            raise InputError(f"camera {device} does not exist")
        self.capture = cv2.VideoCapture(device, cv2.CAP_V4L2)
        if not self.capture.isOpened():
            raise InputError(f"camera {device} cannot be opened (busy, or not a capture device)")
        for prop, value in ((cv2.CAP_PROP_FRAME_WIDTH, width), (cv2.CAP_PROP_FRAME_HEIGHT, height),
                            (cv2.CAP_PROP_FPS, fps)):
            if value:
                self.capture.set(prop, value)
        if fourcc:
            self.capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*fourcc[:4].ljust(4)))
        size = (int(self.capture.get(cv2.CAP_PROP_FRAME_WIDTH)), int(self.capture.get(cv2.CAP_PROP_FRAME_HEIGHT)))
        self.size = size if min(size) > 0 else None

    def __iter__(self):
        import cv2

        start, index = time.monotonic(), 0
        while not self.stop.is_set():
            ok, bgr = self.capture.read()
            if not ok:
                raise InputError("the camera stopped delivering frames")
            pts = round((time.monotonic() - start) * 1000)
            yield Frame(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB), pts, Fraction(1, 1000), index)
            index += 1


def open_source(spec: str, max_side: int | None = None, fps: float = 25.0, loop: bool = False,
                stop: threading.Event | None = None, yuv: bool = False) -> Source:
    """The source named by ``spec``: testsrc, a file, a URL, ndi:// or /dev/videoN. ``yuv``: a decoded
    stream's 4:2:0 pictures as they are, for the device path (stream/framepath/)."""
    if spec in ("testsrc", ""):
        return TestSource(*output_size(640, 360, max_side), fps, stop)
    scheme = spec.split("://", 1)[0].lower() if "://" in spec else ""
    if scheme == "srt":
        return SrtSource(spec, max_side, stop, yuv=yuv)
    if scheme in NETWORK_SCHEMES:
        return UrlSource(spec, max_side, stop, yuv=yuv)
    if scheme == "ndi":
        from stream.links.ndi import NdiSource
        return NdiSource(spec, max_side, stop, OPEN_TIMEOUT_S, READ_TIMEOUT_S)
    if scheme:
        raise InputError(f"unsupported source {spec!r}; use testsrc, a file, /dev/videoN, ndi:// or "
                         f"{', '.join(s + '://' for s in NETWORK_SCHEMES)}")
    if spec.startswith("/dev/video"):
        return CameraSource(spec, None, None, fps, stop=stop)
    return FileSource(Path(spec), max_side, loop, stop, yuv)
